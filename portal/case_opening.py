"""How cases come into being and how they follow their source: ``open_case`` (one opinion or request,
numbered, with its deadline); ``open_for_activity`` (each opinion raised in an activity — the one way in
for the activities service and, through it, the reception day); when the activity is voided or an opinion
removed, its cases are withdrawn (no department acted yet) or flagged (``withdraw_for_activity``).
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel
from sqlite_utils import Database

from . import dates, text, workdays
from .case_history import add_step, set_fields
from .cases import CONTENT_MAX, OPEN_STATES, SOURCES, Case, from_rows, read_row, unit_name
from .db import inserted_id, write
from .errors import NotFound, ValidationError
from .policy import policy


def _next_number(db: Database, year: int) -> str:
    prefix = f"{year:04d}-"
    last = db.execute(
        "SELECT max(CAST(substr(number, 6) AS INTEGER)) FROM cases WHERE number LIKE ?", [prefix + "%"]
    ).fetchone()[0]
    return f"{prefix}{(last or 0) + 1:04d}"


def open_case(
    db: Database,
    *,
    source: str,
    content: str,
    responsible_dept: str,
    contact_date: dt.date,
    cadre_id: int | None = None,
    system: str = "",
    activity_id: int | None = None,
    booking_id: int | None = None,
    raised_by: int | None = None,
    raiser_name: str = "",
    handling_unit_id: int | None = None,
    actor_id: int | None = None,
    deadline_days: int | None = None,
) -> Case:
    """Register one opinion or request raised in a contact; due ``deadline_days`` working days
    after ``contact_date`` (default: docs/rules.md §5 by source). Given a handling unit, the case
    is referred to it at once."""
    if source not in SOURCES:
        raise ValidationError(f"未知的来源：{source}")
    content = text.free_text(content, "意见建议内容", max_len=CONTENT_MAX, required=True)
    pol = policy()
    if responsible_dept not in pol.departments:
        raise ValidationError(f"责任部门“{responsible_dept}”不在部门列表中")
    if system and system not in pol.system_names:
        raise ValidationError(f"制度“{system}”不存在")
    raiser_name = text.name(raiser_name, "提出人", required=False) if raiser_name else ""
    if deadline_days is None:
        deadline_days = pol.deadlines.for_source(source)
    if not 0 <= deadline_days <= 60:
        raise ValidationError("办理期限须在 0～60 个工作日之间")
    if isinstance(contact_date, str):
        contact_date = dates.parse_date(contact_date, "联系日期")
    if contact_date > dates.today():
        raise ValidationError(
            f"联系日期 {dates.format_date(contact_date)} 晚于今天：意见建议只能来自已经开展的联系"
        )
    due = workdays.due_date(db, contact_date, deadline_days)
    with write(db):
        unit = unit_name(db, handling_unit_id)
        now = dates.stamp()
        number = _next_number(db, contact_date.year)
        case_id = inserted_id(
            db.execute(
                "INSERT INTO cases (number, source, activity_id, booking_id, cadre_id, raised_by, raiser_name, "
                "content, system, responsible_dept, handling_unit_id, state, contact_date, deadline_days, "
                "due_date, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    number,
                    source,
                    activity_id,
                    booking_id,
                    cadre_id,
                    raised_by,
                    raiser_name,
                    content,
                    system,
                    responsible_dept,
                    handling_unit_id,
                    "referred" if handling_unit_id else "registered",
                    contact_date.isoformat(),
                    deadline_days,
                    due.isoformat(),
                    now,
                    now,
                ],
            )
        )
        add_step(db, case_id, actor_id, "opened", None, "registered", f"责任部门：{responsible_dept}", now)
        if handling_unit_id:
            add_step(db, case_id, actor_id, "referred", "registered", "referred", f"转办至{unit}", now)
        return from_rows(db, [read_row(db, case_id)])[0]


# --- opinions raised in a contact --------------------------------------------------------------


class Raiser(BaseModel):
    """Who raised one opinion, when the contact knows it (a reception's visitor), and who answers."""

    booking_id: int | None = None  # a booking hands over one case at most
    user_id: int | None = None
    name: str = ""
    department: str | None = None  # None: the system's responsible department


def case_source(system: str) -> str:
    return {"座谈": "symposium", "接待日": "reception"}.get(system, "other")


def responsible_department(system: str, subtype: str) -> str:
    """Who answers an opinion raised (docs/rules.md §4, §5)."""
    if system == "座谈":
        return "学工部" if subtype == "学生座谈" else "宣传部"
    if system == "接待日":
        return "党办"
    return policy().system(system).departments[0]


def open_for_activity(
    db: Database,
    activity_id: int,
    items: list[str],
    actor_id: int | None,
    raisers: dict[str, Raiser] | None = None,
) -> list[int]:
    """Open a case for each opinion item raised in activity ``activity_id`` (its system, date and
    cadre); ``raisers`` names who raised an item. An item whose booking already has its case
    opens none (a reception recorded again); that case moves to this activity when its own was
    voided (``_follow_new_record``). Returns the ids of the cases opened."""
    if not items:
        return []
    activity = db.execute(
        "SELECT system, subtype, date, cadre_id FROM activities WHERE id = ?", [activity_id]
    ).fetchone()
    if activity is None:
        raise NotFound("联系活动不存在")
    system, subtype, day, cadre_id = activity
    raisers = raisers or {}
    opened: list[int] = []
    with write(db):
        for item in items:
            raiser = raisers.get(item, Raiser())
            if raiser.booking_id is not None:
                existing = db.execute(
                    "SELECT id FROM cases WHERE booking_id = ?", [raiser.booking_id]
                ).fetchone()
                if existing is not None:
                    _follow_new_record(db, existing[0], activity_id, cadre_id, actor_id)
                    continue
            case = open_case(
                db,
                source=case_source(system),
                content=item,
                responsible_dept=raiser.department or responsible_department(system, subtype),
                contact_date=dt.date.fromisoformat(day),
                cadre_id=cadre_id,
                system=system,
                activity_id=activity_id,
                booking_id=raiser.booking_id,
                raised_by=raiser.user_id,
                raiser_name=raiser.name,
                actor_id=actor_id,
            )
            opened.append(case.id)
    return opened


def _follow_new_record(
    db: Database, case_id: int, activity_id: int, cadre_id: int, actor_id: int | None
) -> None:
    """A visitor's request already has its case (one per booking); the reception is recorded again
    in a new activity because the one the case came from was voided: the case follows the live
    record, its 来源变动 flag (raised by the void) is lifted, and its history says so."""
    row = db.execute(
        "SELECT c.activity_id, c.alert, c.state, a.voided_at FROM cases c "
        "LEFT JOIN activities a ON a.id = c.activity_id WHERE c.id = ?",
        [case_id],
    ).fetchone()
    old_activity, alert, state, old_voided = row
    if (
        state == "withdrawn"
        or old_activity == activity_id
        or (old_activity is not None and old_voided is None)
    ):
        return  # withdrawn, or still on a live record: nothing moves
    note = (
        f"原联系活动记录（#{old_activity}）已作废，接待情况重新记录为联系活动 #{activity_id}，本件改为关联新记录"
        if old_activity is not None
        else f"接待情况记录为联系活动 #{activity_id}，本件关联该记录"
    )
    if alert:
        note += "；来源变动提醒已解除"
    set_fields(db, case_id, activity_id=activity_id, cadre_id=cadre_id, alert="")
    add_step(db, case_id, actor_id, "relinked", state, state, note)


# --- the source changed: withdraw or flag -------------------------------------------------------

# events that are not a department acting on the case
_PASSIVE = ("opened", "due_changed", "read", "flagged", "relinked")
# a case_events row ``e`` that flagged the case since it was linked to its present activity (a case
# that followed a re-recorded reception is flagged afresh if its new record changes in turn)
FLAGGED_ON_ITS_RECORD = (
    "e.action = 'flagged' AND e.id > COALESCE((SELECT max(r.id) FROM case_events r "
    "WHERE r.case_id = e.case_id AND r.action = 'relinked'), 0)"
)


def _untouched(db: Database, row: dict) -> bool:
    """No department has acted on it yet: still 已登记 and nothing in its history but its opening."""
    if row["state"] != "registered":
        return False
    acted = db.execute(
        f"SELECT 1 FROM case_events WHERE case_id = ? AND action NOT IN ({','.join('?' * len(_PASSIVE))}) LIMIT 1",
        [row["id"], *_PASSIVE],
    ).fetchone()
    return acted is None


def _withdrawable(db: Database, row: dict) -> bool:
    # a visitor's own request (from a booking) stands whatever becomes of the record: flag it
    return row["booking_id"] is None and _untouched(db, row)


def withdrawal_preview(db: Database, activity_id: int) -> tuple[int, int]:
    """What voiding the activity would do to its cases: (how many withdrawn, how many flagged)."""
    rows = list(db.query("SELECT * FROM cases WHERE activity_id = ? AND state != 'withdrawn'", [activity_id]))
    withdrawn = sum(_withdrawable(db, r) for r in rows)
    return withdrawn, len(rows) - withdrawn


def withdraw_for_activity(
    db: Database, activity_id: int, actor_id: int | None, why: str, *, contents: list[str] | None = None
) -> tuple[list[int], list[int]]:
    """The activity's cases lost their source (``why``: the activity was voided, or the opinion was
    removed from it): those no department has acted on become 已撤销 with the reason and who did it;
    those already in hand, and a visitor's request made through a booking, keep their state and
    get an alert the department sees on its list.
    ``contents``: only the cases of these opinion items. Returns (withdrawn ids, flagged ids).
    Runs inside the caller's transaction (nested ``write`` is a savepoint)."""
    withdrawn: list[int] = []
    flagged: list[int] = []
    with write(db):
        rows = list(
            db.query(
                "SELECT * FROM cases WHERE activity_id = ? AND state != 'withdrawn' ORDER BY id",
                [activity_id],
            )
        )
        now = dates.stamp()
        for row in rows:
            if contents is not None and row["content"] not in contents:
                continue
            if _withdrawable(db, row):
                set_fields(db, row["id"], state="withdrawn", withdrawn_at=now, withdraw_reason=why)
                add_step(db, row["id"], actor_id, "withdrawn", row["state"], "withdrawn", why, now)
                withdrawn.append(row["id"])
            elif row["state"] in OPEN_STATES or row["state"] in ("answered", "closed"):
                alert = f"{why}（{now[:10]}）：请核实是否继续办理"
                if db.execute(  # told once per record: the department may have checked and cleared it since
                    f"SELECT 1 FROM case_events e WHERE e.case_id = ? AND {FLAGGED_ON_ITS_RECORD}",
                    [row["id"]],
                ).fetchone():
                    continue
                set_fields(db, row["id"], alert=alert)
                add_step(db, row["id"], actor_id, "flagged", row["state"], row["state"], alert, now)
                flagged.append(row["id"])
    return withdrawn, flagged
