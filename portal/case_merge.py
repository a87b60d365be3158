"""合并: a case that raises the same matter as another is merged into it and handled once.

The duplicate keeps its number, its raiser and its own history; it follows the case it was merged
into (``cases.merged_into``): while that one is open the duplicate takes its state, unit and
department and leaves the department's lists (it is no work of its own); the answer of that case
answers the duplicate too (its raiser is told and rates it as any answer, ``portal.ratings``), with the
duplicate's own number and raiser's name where it names those of that case
(``case_history.answered_as_duplicate``); its 办结 closes it. Its number still leads there: a link or a search hit for the duplicate opens the case
it was merged into (pages/cases.py). A duplicate reopened on its own (its raiser not satisfied) is
handled by itself again (``case_actions.reopen_row``), as after ``unmerge``.

Both cases must be the actor's to handle; the duplicate must be open, and the case it goes into live
(not withdrawn) and not itself merged. Cases already merged into the duplicate move with it and follow it the same way.
"""

from __future__ import annotations

from sqlite_utils import Database

from . import case_history, cases, dates, text
from .accounts import User
from .cases import OPEN_STATES, Case
from .db import write
from .errors import Conflict, NotFound, ValidationError


def _find(db: Database, number: str, actor: User) -> dict:
    found = db.execute("SELECT id FROM cases WHERE number = ?", [number.strip()]).fetchone()
    if found is None:
        raise NotFound(f"没有编号为 {number.strip()[:20]} 的意见建议")
    row = cases.row_for_change(db, found[0], actor)
    if not cases.can_handle(actor, row):
        raise NotFound(f"没有编号为 {number.strip()[:20]} 的意见建议")  # not telling others' cases apart
    return row


def merge(db: Database, case_id: int, into: str, actor: User, note: str = "") -> Case:
    """Merge the open case ``case_id`` into the case numbered ``into`` (a duplicate of it). When that
    case was already answered, the duplicate is answered with its answer at once."""
    note = text.free_text(note, "合并说明", cases.NOTE_MAX)
    with write(db):
        dup = cases.row_for_change(db, case_id, actor)
        if not cases.can_handle(actor, dup):
            raise NotFound("意见建议不存在")
        lead = _find(db, into, actor)
        if lead["id"] == dup["id"]:
            raise ValidationError("不能把一件意见建议合并到它自己")
        if dup["state"] not in OPEN_STATES:
            raise Conflict(
                f"{dup['number']} 当前为“{cases.STATE_LABELS[dup['state']]}”：只有未答复的件可以合并到他件"
            )
        if dup["merged_into"]:
            raise Conflict(f"{dup['number']} 已合并至他件")
        if lead["state"] == "withdrawn":
            raise Conflict(f"{lead['number']} 已撤销，不能合并到此件")
        if lead["merged_into"]:
            target = db.execute("SELECT number FROM cases WHERE id = ?", [lead["merged_into"]]).fetchone()[0]
            raise Conflict(f"{lead['number']} 已合并至 {target}，请合并到 {target}")
        now = dates.stamp()
        raiser = dup["raiser_name"] or "提出人未记名"
        why = f"；{note}" if note else ""
        # cases merged into the duplicate go with it, one level only: each follows the live case as the
        # duplicate does (an open one takes its state, or its answer)
        for row in list(db.query("SELECT * FROM cases WHERE merged_into = ? ORDER BY id", [dup["id"]])):
            _follow(db, row, lead, actor, now, f"随 {dup['number']} 合并至 {lead['number']}")
        _follow(db, dup, lead, actor, now, f"与 {lead['number']} 为同一事项，合并办理{why}")
        case_history.record_history(
            db,
            lead["id"],
            "merged_with",
            lead["state"],
            lead["state"],
            now,
            actor.id,
            f"合并 {dup['number']}（{raiser}：{dup['content'][:60]}）{why}",
        )
    return cases.get_case(db, case_id, actor)


def _follow(db: Database, row: dict, lead: dict, actor: User, now: str, note: str) -> None:
    """The case ``row`` is merged into ``lead``: while open it takes its state, unit and department;
    when ``lead`` was answered already, its answer answers it at once (its raiser is told)."""
    fields: dict = {"merged_into": lead["id"]}
    if row["state"] in OPEN_STATES:
        fields |= {"responsible_dept": lead["responsible_dept"], "handling_unit_id": lead["handling_unit_id"]}
        if lead["state"] in OPEN_STATES:
            fields["state"] = lead["state"]
    case_history.set_fields(db, row["id"], **fields)
    state = fields.get("state", row["state"])
    case_history.record_history(db, row["id"], "merged", row["state"], state, now, actor.id, note)
    if (
        state in OPEN_STATES
        and lead["handling_unit_id"]
        and lead["handling_unit_id"] != row["handling_unit_id"]
    ):
        # referred with it now, as a duplicate merged before the referral is when the case is referred
        # (``case_history._carry``): the response rate counts it (kpis.RESPONSE_ACTIONS)
        unit = db.execute("SELECT name FROM units WHERE id = ?", [lead["handling_unit_id"]]).fetchone()
        case_history.record_history(
            db, row["id"], "referred", state, state, now, actor.id, f"随 {lead['number']} 转办至{unit[0]}"
        )
    if state in OPEN_STATES and lead["state"] in ("answered", "closed"):  # answered already: so is it
        case_history.answer_duplicate(db, {**row, **fields}, lead, now, actor.id)


def unmerge(db: Database, case_id: int, actor: User, note: str = "") -> Case:
    """Take a merged duplicate back out (merged by mistake): it is handled by itself again, in the
    state it has now."""
    note = text.free_text(note, "撤销合并说明", cases.NOTE_MAX)
    with write(db):
        dup = cases.row_for_change(db, case_id, actor)
        if not cases.can_handle(actor, dup):
            raise NotFound("意见建议不存在")
        if not dup["merged_into"]:
            raise Conflict(f"{dup['number']} 没有合并到他件")
        lead = db.execute("SELECT number FROM cases WHERE id = ?", [dup["merged_into"]]).fetchone()[0]
        case_history.set_fields(db, case_id, merged_into=None)
        case_history.record_history(
            db,
            case_id,
            "unmerged",
            dup["state"],
            dup["state"],
            dates.stamp(),
            actor.id,
            "；".join(filter(None, [f"不再随 {lead} 办理", note])),
        )
    return cases.get_case(db, case_id, actor)


def merged_cases(db: Database, case_id: int, viewer: User) -> list[Case]:
    """The duplicates merged into the case, in the order raised (for whoever handles it)."""
    lead = cases.get_case(db, case_id, viewer)
    if not cases.can_handle(viewer, lead):
        return []
    return [
        cases.get_case(db, r[0], viewer)
        for r in db.execute("SELECT id FROM cases WHERE merged_into = ? ORDER BY id", [case_id])
    ]


def lead_of(db: Database, case: Case, viewer: User) -> Case | None:
    """The case ``case`` was merged into, if the viewer may see it."""
    if case.merged_into is None:
        return None
    try:
        return cases.get_case(db, case.merged_into, viewer)
    except NotFound:
        return None
