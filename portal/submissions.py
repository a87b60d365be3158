"""Exactly-once form submissions: a double click, a browser back or two tabs never create twice.

A page gives each rendering of a creating form a random token (``new_token``) and keeps it until the
user asks for a fresh, empty form. The service call that creates runs inside ``once``: the first
submit with a token creates and records ``token → what it created`` in the same ``BEGIN IMMEDIATE``
transaction; any later submit with that token creates nothing and gets the recorded result back.
Because the check and the record share one write transaction, two racing submits cannot both create.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from .db import write
from .errors import Conflict

KEEP_DAYS = 30  # tokens older than this are forgotten (a form left open a month is re-rendered anyway)


@dataclass(frozen=True)
class Outcome:
    """What a submit produced: the object's id (or a JSON-able result) and whether this call made it."""

    object_id: int | None
    result: Any
    created: bool

    @property
    def made_id(self) -> int:
        """The id of the one object a form of this kind creates (a booking, an activity)."""
        if self.object_id is None:
            raise ValueError("this submission created no object")
        return self.object_id


def new_token() -> str:
    return secrets.token_urlsafe(18)


def token_for(rendering: str, *values: object) -> str:
    """The token of a form rendering (``rendering``, from ``new_token``) *with these inputs*: the
    same inputs sent again are the same submission (a double click finds what the first did);
    changed inputs are a new one (a second progress note, another semester's roster)."""
    digest = hashlib.sha256(repr(values).encode("utf-8")).hexdigest()[:16]
    return f"{rendering}-{digest}"


def case_action_token(rendering: str, reopen_count: int, text: str = "") -> str:
    """The token of one action on a case (转办, 记录进展, 答复…): the same text on the same round of
    handling is the same submission (a double click, a second tab); a new text, or the case
    handled again after a reopen (``reopen_count``), is a new one."""
    return token_for(rendering, reopen_count, text.strip())


def once(
    db: Database,
    token: str | None,
    kind: str,
    create: Callable[[], int | None | tuple[int | None, Any]],
    *,
    user_id: int | None = None,
) -> Outcome:
    """Run ``create`` unless this token already created something; return what the token created.

    ``create`` returns the new object's id, or ``(id, result)`` with a JSON-able result (an import's
    counts, a roster plan's days). Without a token (the CLI, services calling services) it just runs.
    """
    if not token:
        made = create()
        object_id, result = made if isinstance(made, tuple) else (made, None)
        return Outcome(object_id, result, True)
    with write(db):
        row = db.execute(
            "SELECT kind, object_id, result FROM submissions WHERE token = ?", [token]
        ).fetchone()
        if row is not None:
            if row[0] != kind:
                raise Conflict("表单已失效，请刷新页面后重新填写。")
            return Outcome(row[1], json.loads(row[2]) if row[2] else None, False)
        made = create()
        object_id, result = made if isinstance(made, tuple) else (made, None)
        db.execute(
            "INSERT INTO submissions (token, kind, object_id, result, user_id, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            [
                token,
                kind,
                object_id,
                json.dumps(result, ensure_ascii=False) if result is not None else "",
                user_id,
                dt.datetime.now().isoformat(timespec="seconds"),
            ],
        )
        return Outcome(object_id, result, True)


def recorded(db: Database, token: str | None, kind: str) -> Outcome | None:
    """What this form rendering already created (None: nothing yet) — a page shows it instead of
    the form, so that going back or reloading shows the result rather than an invitation to save again."""
    if not token:
        return None
    row = db.execute(
        "SELECT object_id, result FROM submissions WHERE token = ? AND kind = ?", [token, kind]
    ).fetchone()
    if row is None:
        return None
    return Outcome(row[0], json.loads(row[1]) if row[1] else None, False)


def purge(db: Database, now: dt.datetime | None = None) -> int:
    """Forget tokens older than ``KEEP_DAYS`` (run by maintenance; cheap, indexed)."""
    cutoff = ((now or dt.datetime.now()) - dt.timedelta(days=KEEP_DAYS)).isoformat(timespec="seconds")
    with write(db):
        return db.execute("DELETE FROM submissions WHERE created_at < ?", [cutoff]).rowcount
