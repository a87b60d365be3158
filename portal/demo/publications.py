"""Demo step: 答复公开 — some visitors consented to publishing the answer to what they raised (on the
booking form or on 我的诉求), 党办 and 校办 published most of those answers from the scrubbed draft, and
one visitor changed her mind afterwards (her answer was taken down at once). Deterministic: the
answered cases raised by visitors, in order."""

from __future__ import annotations

from sqlite_utils import Database

from .. import accounts, publication
from .context import account
from .people import DEPARTMENT_ACCOUNTS

CONSENTING = 6  # of the answered cases raised by visitors, this many raisers consent
PUBLISHED = 4  # of those, this many are published; the last published is withdrawn by its raiser


def build(db: Database, ctx) -> str:
    rows = db.execute(
        "SELECT id, raised_by, booking_id, responsible_dept FROM cases "
        "WHERE state IN ('answered', 'closed') AND raised_by IS NOT NULL ORDER BY id LIMIT ?",
        [CONSENTING],
    ).fetchall()
    editors = {d: account(db, DEPARTMENT_ACCOUNTS[d]) for d in ("党办", "校办")}
    made: list[tuple[accounts.User, int]] = []
    for n, (case_id, raised_by, booking_id, dept) in enumerate(rows):
        raiser = accounts.get_user(db, raised_by)
        if booking_id is not None and n % 2 == 0:  # ticked on the booking form
            publication.record_consent(db, raiser, given=True, booking_id=booking_id)
        else:  # ticked later, on 我的诉求
            publication.record_consent(db, raiser, given=True, case_id=case_id)
        if len(made) < PUBLISHED:
            editor = editors["校办" if dept == "校办" else "党办"]
            draft = publication.draft(db, editor, case_id)
            question = draft.question.split("反映：", 1)[-1]  # the editor drops "某某（某学院）反映："
            publication.publish(db, editor, case_id, question, draft.answer)
            made.append((raiser, case_id))
    if made:
        raiser, case_id = made[-1]
        publication.record_consent(db, raiser, given=False, case_id=case_id)
    return f"答复公开：提出人同意公开 {len(rows)} 件，已公开 {max(0, len(made) - 1)} 件（另 1 件提出人撤回同意后撤下）"
