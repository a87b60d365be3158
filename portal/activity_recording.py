"""The only writers of ``activities``, ``activity_targets`` and ``activity_history``: ``log_activity``
(the cadre or a department that runs the system), ``update_activity`` (a history snapshot of every change),
``void_activity`` (never a hard delete), ``insert_activity`` (no permission check: imports and other
services). Each keeps the activity's cases in step with its opinion items (``case_opening``).
"""

from __future__ import annotations

import json

from sqlite_utils import Database

from . import audit, case_opening, dates, text
from .accounts import User
from .activities import Activity, ActivityInput, load_activity, require_scope, scope_of, split_opinions
from .activity_validation import clean, normalised, problems, refuse
from .db import inserted_id, write
from .errors import ValidationError

# --- cases for opinions raised -------------------------------------------------------------


def _case_contents(db: Database, activity_id: int) -> list[str]:
    """The opinion items the activity's cases stand for (not a withdrawn case, nor one flagged when
    its item was removed: it is the department's to finish, no longer the activity's item)."""
    return [
        r[0]
        for r in db.execute(
            "SELECT content FROM cases c WHERE activity_id = ? AND state != 'withdrawn' AND NOT EXISTS "
            f"(SELECT 1 FROM case_events e WHERE e.case_id = c.id AND {case_opening.FLAGGED_ON_ITS_RECORD}) ORDER BY id",
            [activity_id],
        )
    ]


# --- writing -------------------------------------------------------------------------------


def _snapshot(db: Database, activity_id: int) -> str:
    row = dict(next(iter(db.query("SELECT * FROM activities WHERE id = ?", [activity_id]))))
    row["target_codes"] = [
        r[0]
        for r in db.execute(
            "SELECT target_code FROM activity_targets WHERE activity_id = ? ORDER BY target_code",
            [activity_id],
        )
    ]
    return json.dumps(row, ensure_ascii=False)


def record_history(
    db: Database, ids: list[int], actor_id: int | None, action: str, *, as_live: bool = False
) -> None:
    """History entries for many activities in one statement (imports): the same snapshot as
    ``_snapshot`` — every column and the sorted target codes — built by SQLite. ``as_live``: the
    rows are staged (hidden until their import commits) and are recorded as they will then be."""
    if not ids:
        return
    columns = [r[1] for r in db.execute("PRAGMA table_info(activities)")]
    live = {"voided_at", "void_reason"} if as_live else set()
    pairs = ", ".join(f"'{c}', NULL" if c in live else f"'{c}', a.{c}" for c in columns)
    db.execute(
        "INSERT INTO activity_history (activity_id, at, user_id, action, snapshot) "
        f"SELECT a.id, ?, ?, ?, json_object({pairs}, 'target_codes', json((SELECT json_group_array(target_code) "
        "FROM (SELECT target_code FROM activity_targets t WHERE t.activity_id = a.id ORDER BY target_code)))) "
        "FROM activities a WHERE a.id IN (SELECT value FROM json_each(?)) ORDER BY a.id",
        [dates.stamp(), actor_id, action, json.dumps(ids)],
    )


def _record(db: Database, activity_id: int, actor_id: int | None, action: str) -> None:
    db.execute(
        "INSERT INTO activity_history (activity_id, at, user_id, action, snapshot) VALUES (?, ?, ?, ?, ?)",
        [activity_id, dates.stamp(), actor_id, action, _snapshot(db, activity_id)],
    )


def insert_activity(
    db: Database,
    data: ActivityInput,
    actor_id: int | None,
    *,
    key: str | None = None,
    open_cases: bool = True,
    raisers: dict[str, case_opening.Raiser] | None = None,
) -> int:
    """Validate and insert without a permission check (imports and other services use it).
    Each opinion item opens a case (``case_opening.open_for_activity``), except in imported history."""
    refuse(problems(db, data))
    row, codes = normalised(db, data)
    now = dates.stamp()
    with write(db):
        activity_id = inserted_id(
            db.execute(
                "INSERT INTO activities (cadre_id, system, subtype, date, place, counterpart_text, hours, participants, "
                "content, opinions, followup, source, import_key, entered_by, created_at, updated_at) "
                "VALUES (:cadre_id, :system, :subtype, :date, :place, :counterpart_text, :hours, :participants, "
                ":content, :opinions, :followup, :source, :key, :entered_by, :now, :now)",
                {**row, "key": key, "entered_by": actor_id, "now": now},
            )
        )
        for code in codes:
            db.execute(
                "INSERT INTO activity_targets (activity_id, target_code) VALUES (?, ?)", [activity_id, code]
            )
        _record(db, activity_id, actor_id, "created")
        if open_cases:
            case_opening.open_for_activity(
                db, activity_id, split_opinions(row["opinions"]), actor_id, raisers
            )
    return activity_id


def log_activity(
    db: Database, data: ActivityInput, actor: User, *, raisers: dict[str, case_opening.Raiser] | None = None
) -> Activity:
    """Record one contact activity: the cadre himself, or staff of a department that runs the system.

    Each opinion item raised becomes its own case (``case_opening.open_for_activity``); ``raisers``
    names who raised an item when the contact knows it (a reception's visitor and booking).
    """
    require_scope(scope_of(actor), data.cadre_id, data.system, "记录")
    activity_id = insert_activity(db, data, actor.id, raisers=raisers)
    return load_activity(db, activity_id)


def update_activity(
    db: Database,
    activity_id: int,
    changes: dict,
    actor: User,
    *,
    raisers: dict[str, case_opening.Raiser] | None = None,
) -> Activity:
    """Change fields of an activity (any of ActivityInput's but the cadre); history keeps each version.

    An opinion item removed or rewritten withdraws its case (or flags it when the department has
    acted on it: ``case_opening.withdraw_for_activity``); new items open new cases
    (``case_opening.open_for_activity``, with ``raisers`` as in ``log_activity``).
    """
    current = load_activity(db, activity_id)
    scope = scope_of(actor)
    require_scope(scope, current.cadre_id, current.system, "修改")
    if current.voided:
        raise ValidationError("该记录已作废，不能修改")
    unknown = set(changes) - (set(ActivityInput.model_fields) - {"source"})
    if unknown:
        raise ValidationError(f"不能修改的字段：{'、'.join(sorted(unknown))}")
    if "cadre_id" in changes and changes["cadre_id"] != current.cadre_id:
        raise ValidationError("不能更改联系活动所属的领导干部；请作废后重新记录")
    data = ActivityInput.model_validate({**current.as_input().model_dump(), **changes})
    require_scope(scope, data.cadre_id, data.system, "修改")
    refuse(problems(db, data))
    row, codes = normalised(db, data)
    new_items = split_opinions(row["opinions"])
    registered = _case_contents(db, activity_id)
    # an item taken out (or rewritten) loses its case: withdrawn if untouched, else flagged
    removed = [c for c in registered if c not in new_items]
    old_items = set(current.opinions) | set(registered)
    with write(db):
        db.execute(
            "UPDATE activities SET system = :system, subtype = :subtype, date = :date, place = :place, "
            "counterpart_text = :counterpart_text, hours = :hours, participants = :participants, "
            "content = :content, opinions = :opinions, followup = :followup, updated_at = :now WHERE id = :id",
            {**row, "now": dates.stamp(), "id": activity_id},
        )
        db.execute("DELETE FROM activity_targets WHERE activity_id = ?", [activity_id])
        for code in codes:
            db.execute(
                "INSERT INTO activity_targets (activity_id, target_code) VALUES (?, ?)", [activity_id, code]
            )
        _record(db, activity_id, actor.id, "edited")
        if removed:
            case_opening.withdraw_for_activity(
                db, activity_id, actor.id, "联系活动修改时删除了此条意见建议", contents=removed
            )
        fresh = [i for i in new_items if i not in old_items]
        case_opening.open_for_activity(db, activity_id, fresh, actor.id, raisers)
    return load_activity(db, activity_id)


def void_activity(db: Database, activity_id: int, reason: str, actor: User) -> Activity:
    """Mark an activity void with a reason: it stops counting, stays in the records and history."""
    current = load_activity(db, activity_id)
    require_scope(scope_of(actor), current.cadre_id, current.system, "作废")
    reason = clean(reason)
    if not reason:
        raise ValidationError("请填写作废原因")
    text.free_text(reason, "作废原因", 500)
    if current.voided:
        raise ValidationError("该记录已经作废")
    with write(db):
        db.execute(
            "UPDATE activities SET voided_at = ?, void_reason = ?, updated_at = ? WHERE id = ?",
            [dates.stamp(), reason, dates.stamp(), activity_id],
        )
        _record(db, activity_id, actor.id, "voided")
        case_opening.withdraw_for_activity(db, activity_id, actor.id, f"联系活动已作废：{reason}")
        audit.record(db, actor.id, "activity.void", f"{activity_id}: {reason[:100]}")
    return load_activity(db, activity_id)
