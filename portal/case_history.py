"""A case's history as it is written: its row's fields, its steps (``case_events``, append-only) and its
numbered answers (``case_answers``); each step tells whom it concerns (``case_messages``), and the
duplicates merged into a case follow its steps (portal/case_merge.py). The services that act on cases
(``case_opening``, ``case_actions``, ``ratings``, ``case_notes``, ``case_merge``) write through here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlite_utils import Database

from . import case_messages, dates, phone, scrub
from .cases import ACTION_LABELS, OPEN_STATES, STATES, read_row
from .errors import NotFound, ValidationError


def set_fields(db: Database, case_id: int, **fields) -> None:
    """Change columns of the case's row (and its ``updated_at``) inside the caller's transaction; the
    caller writes the step into the history (``record_history``, ``add_step``)."""
    fields["updated_at"] = dates.stamp()
    cols = ", ".join(f"{k} = ?" for k in fields)
    db.execute(f"UPDATE cases SET {cols} WHERE id = ?", [*fields.values(), case_id])


def add_step(
    db: Database,
    case_id: int,
    actor_id: int | None,
    action: str,
    from_state: str | None,
    to_state: str | None,
    note: str = "",
    at: str | None = None,
) -> None:
    db.execute(
        "INSERT INTO case_events (case_id, at, user_id, action, from_state, to_state, note) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [case_id, at or dates.stamp(), actor_id, action, from_state, to_state, note],
    )
    case_messages.case_event(db, case_id, action)
    if action in _CARRIED:
        _carry(db, case_id, action, at or dates.stamp(), actor_id)


# the steps of a case that the duplicates merged into it take with it (portal/case_merge.py)
_CARRIED = ("referred", "started", "transferred", "answered", "closed")


def _carry(db: Database, case_id: int, action: str, at: str, actor_id: int | None) -> None:
    """The duplicates merged into ``case_id`` follow its step: while open they take its state, unit
    and department; its answer answers each (their raisers are told, as by ``answer``); its 办结
    closes those answered with it. Their own history says so."""
    followers = list(db.query("SELECT * FROM cases WHERE merged_into = ? ORDER BY id", [case_id]))
    if not followers:
        return
    lead = read_row(db, case_id)
    note = f"随 {lead['number']} {ACTION_LABELS[action]}"
    for dup in followers:
        if action == "answered" and dup["state"] in OPEN_STATES:
            answer_duplicate(db, dup, lead, at, actor_id)
        elif action == "closed" and dup["state"] == "answered":
            set_fields(db, dup["id"], state="closed", closed_at=at)
            add_quiet_step(db, dup["id"], actor_id, "closed", "answered", "closed", note, at)
        elif action in ("referred", "started", "transferred") and dup["state"] in OPEN_STATES:
            follows = {"state": lead["state"], "handling_unit_id": lead["handling_unit_id"]}
            follows["responsible_dept"] = lead["responsible_dept"]
            set_fields(db, dup["id"], **follows)
            add_quiet_step(db, dup["id"], actor_id, action, dup["state"], lead["state"], note, at)


def answered_as_duplicate(text: str, lead: dict, dup: dict, numbers: Sequence[tuple[str, str]] = ()) -> str:
    """The answer of ``lead`` as the raiser of ``dup``, merged into it, reads it: where it names the
    lead's number or its raiser (a 常用答复's {编号} and {提出人}, or typed), it names the duplicate's own,
    so that one raiser is never shown another's name, nor a number he cannot open. A one-character name
    is left alone (it would change other words). ``numbers``: the lead's raiser's own numbers (学号/工号,
    telephone, account name), each with the duplicate's raiser's in its place ('' when he has none),
    found however the digits are spaced (``raiser_numbers``)."""
    text = text.replace(lead["number"], dup["number"])
    name = lead["raiser_name"] or ""
    if len(name) > 1 and name != dup["raiser_name"]:
        text = text.replace(name, dup["raiser_name"] or "提出人")
        text = _called_by_title(text, name, dup["raiser_name"] or "")
    for theirs, own in numbers:
        if len(theirs) >= 5 and theirs != own:  # a short one would change other words
            spaced = _SEPARATORS.join(re.escape(ch) for ch in theirs)
            text = re.sub(rf"(?<![0-9A-Za-z]){spaced}(?![0-9A-Za-z])", own or "（已隐去）", text)
    return text


_SEPARATORS = r"[\s\-－—.·]*"  # 139 1234 5678, 139-1234-5678


def _called_by_title(text: str, theirs: str, own: str) -> str:
    """How an answer addresses its raiser without the whole name — the surname or the given name
    before a title (易同学：…, 杰丽同学, 易老师，您好) — as the duplicate's raiser is addressed: his own
    surname before the same title (王同学), or 您 when his name is not known. Anywhere for 同学 (no
    one else of a case is one); another title only as the greeting (a mark or 您好 after it), since
    已请王老师联系您 may name the member of staff who calls, whoever shares the raiser's surname."""
    surname, given = scrub.split_name(theirs)
    own_surname, _ = scrub.split_name(own) if own else ("", "")
    forms = [f for f in (given if len(given) >= 2 else "", surname) if f]
    if not forms:
        return text
    names = "|".join(map(re.escape, forms))
    pattern = re.compile(f"({names})(?:(同学)|({scrub.TITLES})(?=\\s*(?:[：:，,！!]|您好)))")
    return pattern.sub(lambda m: f"{own_surname}{m.group(2) or m.group(3)}" if own_surname else "您", text)


def raiser_numbers(db: Database, lead: dict, dup: dict) -> list[tuple[str, str]]:
    """The numbers that identify the raiser of ``lead`` (学号/工号, telephone, account name), each with
    the raiser of ``dup``'s own of the same kind, his telephone number masked ('' when unknown)."""

    def of(user_id: int | None) -> tuple[str, str, str]:
        row = db.execute(
            "SELECT COALESCE(p.staff_no, ''), COALESCE(p.phone, ''), u.username FROM users u "
            "LEFT JOIN people p ON p.id = u.person_id WHERE u.id = ?",
            [user_id],
        ).fetchone()
        return tuple(row) if row else ("", "", "")

    theirs, own = of(lead.get("raised_by")), of(dup.get("raised_by"))
    # his own telephone number masked, as lists show it: the answer is read by more than its raiser
    own = (own[0], phone.mask(own[1]) if own[1] else "", own[2])
    return [(t, o) for t, o in zip(theirs, own, strict=True) if t]


def answer_duplicate(db: Database, dup: dict, lead: dict, at: str, actor_id: int | None) -> None:
    """Answer the open duplicate ``dup`` with the answer of ``lead``, the case it was merged into
    (its raiser is told, as by ``answer``), inside the caller's transaction."""
    text = answered_as_duplicate(lead["answer"], lead, dup, raiser_numbers(db, lead, dup))
    set_fields(db, dup["id"], state="answered", answer=text, answered_at=at)
    record_history(db, dup["id"], "answered", dup["state"], "answered", at, actor_id, text)


def add_quiet_step(
    db: Database,
    case_id: int,
    actor_id: int | None,
    action: str,
    from_state: str,
    to_state: str,
    note: str,
    at: str,
) -> None:
    """A step in the history that tells nobody (a duplicate following the case it was merged into)."""
    db.execute(
        "INSERT INTO case_events (case_id, at, user_id, action, from_state, to_state, note) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [case_id, at, actor_id, action, from_state, to_state, note],
    )


def record_history(
    db: Database,
    case_id: int,
    action: str,
    from_state: str | None,
    to_state: str | None,
    at: str,
    actor_id: int | None = None,
    note: str = "",
) -> None:
    """Append one past step, dated ``at``, to a case's history, as the services would have
    recorded it then: for histories written elsewhere (the demo's backdated cases, a migration).
    An answer (``answered``, its text the note) is numbered among the case's answers as ``answer``
    does. It checks the step's vocabulary only; the caller keeps the case row in step with it."""
    if action not in ACTION_LABELS:
        raise ValidationError(f"未知的办理动作：{action}")
    for s in (from_state, to_state):
        if s is not None and s not in STATES:
            raise ValidationError(f"未知的办理状态：{s}")
    if db.execute("SELECT 1 FROM cases WHERE id = ?", [case_id]).fetchone() is None:
        raise NotFound("意见建议不存在")
    if action == "answered":
        db.execute(
            "INSERT INTO case_answers (case_id, seq, body, at, user_id) VALUES (?, "
            "(SELECT COALESCE(max(seq), 0) + 1 FROM case_answers WHERE case_id = ?), ?, ?, ?)",
            [case_id, case_id, note, at, actor_id],
        )
    add_step(db, case_id, actor_id, action, from_state, to_state, note, at)
