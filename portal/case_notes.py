"""内部备注: what a department notes on a case for itself (whom it phoned, what the unit said).

A note is a step of the case's history (``noted``), kept like every other step and never changed,
but read only by those who handle the case: staff of its responsible department and administrators
(``cases.PRIVATE_ACTIONS``). The person who raised it, the cadre whose contact raised it and a
supervising department never see it: not on their pages, not in an export, not through the API, not
in a message (no notification is sent for it), and the search does not index it.
"""

from __future__ import annotations

from sqlite_utils import Database

from . import case_history, cases, dates, text
from .accounts import User
from .cases import Case, CaseEvent
from .db import write
from .errors import PermissionDenied

NOTE_MAX = cases.NOTE_MAX


def add_note(db: Database, case_id: int, note: str, actor: User) -> Case:
    """Add an internal note to the case, in any state (a closed case may still be worth a note)."""
    note = text.free_text(note, "内部备注", NOTE_MAX, required=True)
    with write(db):
        row = cases.row_for_change(db, case_id, actor)
        if not cases.can_handle(actor, row):
            raise PermissionDenied(f"只有{row['responsible_dept']}的工作人员或系统管理员可以添加内部备注")
        case_history.record_history(
            db, case_id, "noted", row["state"], row["state"], dates.stamp(), actor.id, note
        )
    return cases.get_case(db, case_id, actor)


def notes(db: Database, case_id: int, viewer: User) -> list[CaseEvent]:
    """The case's internal notes, oldest first; none for a viewer who does not handle it."""
    return [e for e in cases.events(db, case_id, viewer) if e.action in cases.PRIVATE_ACTIONS]
