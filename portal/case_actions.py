"""What the departments (and a case's readers) do to a case, each in its own transaction: refer, transfer,
start, record progress, answer, close, reopen, acknowledge a change at the source, mark an answer read;
and the deadlines of open cases recomputed when the working-day calendar changes (a calendar hook).
"""

from __future__ import annotations

import datetime as dt

from sqlite_utils import Database

from . import dates, hooks, text, workdays
from .accounts import User
from .case_history import add_quiet_step, add_step, record_history, set_fields
from .cases import (
    ANSWER_MAX,
    NOTE_MAX,
    OPEN_STATES,
    STATE_LABELS,
    Case,
    can_handle,
    from_rows,
    get_case,
    read_row,
    row_for_change,
    unit_name,
)
from .db import write
from .errors import Conflict, PermissionDenied, ValidationError
from .policy import policy


def _require_handler(actor: User, row: dict) -> None:
    if not can_handle(actor, row):
        raise PermissionDenied(f"只有{row['responsible_dept']}的工作人员或系统管理员可以办理此件")


def _require_state(row: dict, allowed: tuple[str, ...], what: str) -> None:
    if row["state"] not in allowed:
        names = "、".join(STATE_LABELS[s] for s in allowed)
        raise Conflict(f"此件当前为“{STATE_LABELS[row['state']]}”，只有{names}的件可以{what}")


def _note(value: str, what: str = "说明", required: bool = False, max_len: int = NOTE_MAX) -> str:
    return text.free_text(value, what, max_len=max_len, required=required)


def refer(db: Database, case_id: int, handling_unit_id: int, actor: User, note: str = "") -> Case:
    """Hand the case to the unit that must act (again, to another unit, while it is open)."""
    note = _note(note)
    with write(db):
        row = row_for_change(db, case_id, actor)
        _require_handler(actor, row)
        _require_state(row, OPEN_STATES, "转办")
        name = unit_name(db, handling_unit_id)
        if not name:
            raise ValidationError("请选择承办单位")
        to_state = "referred" if row["state"] == "registered" else row["state"]
        set_fields(db, case_id, handling_unit_id=handling_unit_id, state=to_state)
        add_step(
            db,
            case_id,
            actor.id,
            "referred",
            row["state"],
            to_state,
            "；".join(filter(None, [f"转办至{name}", note])),
        )
    return get_case(db, case_id, actor)


def transfer(db: Database, case_id: int, department: str, actor: User, note: str = "") -> Case:
    """Hand an open case to another responsible department (e.g. 党办 → 校办, or a symposium
    opinion that is really about teaching → 教务处); the deadline stays."""
    note = _note(note)
    if department not in policy().departments:
        raise ValidationError(f"责任部门“{department}”不在部门列表中")
    with write(db):
        row = row_for_change(db, case_id, actor)
        _require_handler(actor, row)
        _require_state(row, OPEN_STATES, "移交")
        if department == row["responsible_dept"]:
            raise ValidationError(f"此件已由{department}负责")
        set_fields(db, case_id, responsible_dept=department)
        text_ = f"由{row['responsible_dept']}移交{department}"
        add_step(
            db,
            case_id,
            actor.id,
            "transferred",
            row["state"],
            row["state"],
            "；".join(filter(None, [text_, note])),
        )
    return from_rows(db, [read_row(db, case_id)])[0]  # the actor may no longer see it


def acknowledge(db: Database, case_id: int, actor: User, note: str = "") -> Case:
    """The department has looked at a flagged case (its activity was voided or the item removed)
    and goes on with it: the alert leaves its list and 待办, the history keeps both."""
    note = _note(note)
    with write(db):
        row = row_for_change(db, case_id, actor)
        _require_handler(actor, row)
        if not row["alert"]:
            raise Conflict("此件没有需要核实的来源变动")
        set_fields(db, case_id, alert="")
        add_step(
            db, case_id, actor.id, "acknowledged", row["state"], row["state"], note or "已核实，继续办理"
        )
    return get_case(db, case_id, actor)


def start(db: Database, case_id: int, actor: User, note: str = "") -> Case:
    """The handling unit has taken it up (已转办 → 办理中)."""
    note = _note(note)
    with write(db):
        row = row_for_change(db, case_id, actor)
        _require_handler(actor, row)
        _require_state(row, ("referred",), "开始办理")
        set_fields(db, case_id, state="in_progress")
        add_step(db, case_id, actor.id, "started", "referred", "in_progress", note)
    return get_case(db, case_id, actor)


def add_progress(db: Database, case_id: int, note: str, actor: User) -> Case:
    """A progress note on an open case (no change of state)."""
    note = _note(note, "办理进展", required=True)
    with write(db):
        row = row_for_change(db, case_id, actor)
        _require_handler(actor, row)
        _require_state(row, OPEN_STATES, "记录办理进展")
        set_fields(db, case_id)
        add_step(db, case_id, actor.id, "progress", row["state"], row["state"], note)
    return get_case(db, case_id, actor)


def answer(db: Database, case_id: int, answer_text: str, actor: User) -> Case:
    """Record the answer; it reaches the cadre and the person who raised it (已答复)."""
    answer_text = _note(answer_text, "答复内容", required=True, max_len=ANSWER_MAX)
    with write(db):
        row = row_for_change(db, case_id, actor)
        _require_handler(actor, row)
        _require_state(row, OPEN_STATES, "答复")
        now = dates.stamp()
        set_fields(db, case_id, state="answered", answer=answer_text, answered_at=now)
        # every answer whole and numbered (case_answers), the row keeps the latest (issue 19 item 13)
        record_history(db, case_id, "answered", row["state"], "answered", now, actor.id, answer_text)
    return get_case(db, case_id, actor)


def close(db: Database, case_id: int, actor: User, note: str = "") -> Case:
    """办结 an answered case (the raiser may still reopen it within the set time)."""
    note = _note(note)
    with write(db):
        row = row_for_change(db, case_id, actor)
        _require_handler(actor, row)
        _require_state(row, ("answered",), "办结")
        set_fields(db, case_id, state="closed", closed_at=dates.stamp())
        add_step(db, case_id, actor.id, "closed", "answered", "closed", note)
    return get_case(db, case_id, actor)


def reopen_deadline(db: Database, case: Case) -> dt.date | None:
    """The last day the raiser may ask for the case to be handled again (None: not answered)."""
    if case.answered_at is None or case.state not in ("answered", "closed"):
        return None
    answered = dt.date.fromisoformat(case.answered_at[:10])
    return workdays.due_date(db, answered, policy().deadlines.reopen_within)


def can_reopen(db: Database, case: Case, on: dt.date | None = None) -> bool:
    last = reopen_deadline(db, case)
    return last is not None and (on or dates.today()) <= last


def reopen_row(db: Database, row: dict, actor_id: int | None, reason: str, at: str | None = None) -> dt.date:
    """Reopen the case ``row`` (办理中, due ``deadline_days`` working days from the day it reopens: today,
    or that of ``at`` for a backdated history), inside the caller's transaction; the reason goes into
    its history. Returns the new deadline. For ``reopen`` and for a 不满意 (``portal.ratings``)."""
    today = dt.date.fromisoformat(at[:10]) if at else dates.today()
    due = workdays.due_date(db, today, row["deadline_days"])
    if row.get("merged_into"):  # reopened on its own: a merged duplicate is handled by itself again
        lead = db.execute("SELECT number FROM cases WHERE id = ?", [row["merged_into"]]).fetchone()
        set_fields(db, row["id"], merged_into=None)
        add_quiet_step(
            db,
            row["id"],
            actor_id,
            "unmerged",
            row["state"],
            row["state"],
            f"不再随 {lead[0]} 办理",
            at=at or dates.stamp(),
        )
    set_fields(
        db,
        row["id"],
        state="in_progress",
        closed_at=None,
        reopen_count=row["reopen_count"] + 1,
        due_date=due.isoformat(),
    )
    add_step(
        db,
        row["id"],
        actor_id,
        "reopened",
        row["state"],
        "in_progress",
        f"{reason}（新的办理期限：{due.isoformat()}）",
        at,
    )
    return due


def reopen(db: Database, case_id: int, reason: str, actor: User) -> Case:
    """The department reopens an answered case on its own account (the answer proved wrong or
    incomplete) within ``deadlines.reopen_within`` working days of the answer. A raiser who is not
    satisfied says so by his rating, or through the department's 回访 (``portal.ratings``)."""
    reason = _note(reason, "重新办理原因", required=True)
    with write(db):
        row = row_for_change(db, case_id, actor)
        _require_handler(actor, row)
        _require_state(row, ("answered", "closed"), "重新办理")
        if not can_reopen(db, from_rows(db, [row])[0]):
            raise Conflict(f"已超过答复后 {policy().deadlines.reopen_within} 个工作日的重新办理期限")
        reopen_row(db, row, actor.id, reason)
    return get_case(db, case_id, actor)


def mark_read(db: Database, case_id: int, reader: User) -> bool:
    """The cadre or the raiser has read the answer (once; True when this is the first time)."""
    row = row_for_change(db, case_id, reader)
    if row["answered_at"] is None or not (
        row["raised_by"] == reader.id
        or (reader.person_id is not None and row["cadre_id"] == reader.person_id)
    ):
        return False
    with write(db):
        seen = db.execute(
            "SELECT 1 FROM case_events WHERE case_id = ? AND user_id = ? AND action = 'read' AND id > "
            "(SELECT max(id) FROM case_events WHERE case_id = ? AND action = 'answered')",
            [case_id, reader.id, case_id],
        ).fetchone()
        if seen:
            return False
        add_step(db, case_id, reader.id, "read", row["state"], row["state"])
    return True


# --- deadlines after a calendar change ---------------------------------------------------------


def _deadline_base(db: Database, row: dict) -> dt.date:
    """A reopened case counts from the day it was reopened; others from the contact."""
    if row["reopen_count"]:
        at = db.execute(
            "SELECT at FROM case_events WHERE case_id = ? AND action = 'reopened' ORDER BY id DESC LIMIT 1",
            [row["id"]],
        ).fetchone()
        if at:
            return dt.date.fromisoformat(at[0][:10])
    return dt.date.fromisoformat(row["contact_date"])


@hooks.on_calendar_change
def recompute_due_dates(db: Database) -> int:
    """Recompute the due dates of open cases (after the working-day calendar changed).
    Returns how many changed; each change is recorded in the case's history."""
    changed = 0
    with write(db):
        rows = list(
            db.query(
                f"SELECT id, state, contact_date, deadline_days, due_date, reopen_count FROM cases "
                f"WHERE state IN ({','.join('?' * len(OPEN_STATES))})",
                OPEN_STATES,
            )
        )
        for row in rows:
            due = workdays.due_date(db, _deadline_base(db, row), row["deadline_days"]).isoformat()
            if due != row["due_date"]:
                set_fields(db, row["id"], due_date=due)
                add_step(
                    db,
                    row["id"],
                    None,
                    "due_changed",
                    row["state"],
                    row["state"],
                    f"工作日安排调整：{row['due_date']} → {due}",
                )
                changed += 1
    return changed
