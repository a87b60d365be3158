"""The one-tap links of the day-before reminder: 确认前往 and 取消预约.

Each link is **signed** (itsdangerous, with the installation's secret: a link cannot be made up or
pointed at another booking), **single-use** (its nonce is a row of ``booking_links``; the first use
marks it) and **its owner's**: it opens 我的预约, which asks for a login, and acts only for the person
who holds the booking (anyone else is told the link is not his). 确认前往 acts when the owner opens it;
取消预约 shows the booking and cancels only after a confirmation on the page — so a place nobody will
use goes back to the waiting list (``bookings.cancel`` hands it on) before the cut-off.
"""

from __future__ import annotations

import datetime as dt
import secrets

from itsdangerous import BadSignature, URLSafeSerializer
from pydantic import BaseModel
from sqlite_utils import Database

from .. import dates, sessions
from ..accounts import User
from ..db import write
from ..errors import PermissionDenied, ValidationError
from . import bookings, waitlist

ACTIONS = {"confirm": "确认前往", "cancel": "取消预约"}
_SALT = "booking-action"
INVALID = "链接无效或已失效，请在“我的预约”中办理"


class Pending(BaseModel):
    """What a link asks, as its owner sees it before (or after) it acts."""

    token: str
    action: str
    booking: bookings.Booking
    used_at: str | None = None

    @property
    def label(self) -> str:
        return ACTIONS[self.action]


def _serializer(db: Database) -> URLSafeSerializer:
    return URLSafeSerializer(sessions.secret_key(db), salt=_SALT)


def token_for(db: Database, booking_id: int, action: str) -> str:
    """The link's token for ``booking_id`` and ``action``: made once, the same for every message that
    carries it (the reminder queued again is the same occurrence). Inside the caller's transaction."""
    if action not in ACTIONS:
        raise ValueError(action)
    sql = "SELECT nonce FROM booking_links WHERE booking_id = ? AND action = ? ORDER BY created_at, nonce LIMIT 1"
    row = db.execute(sql, [booking_id, action]).fetchone()
    if row is None:  # written once (a write bumps the data stamp: not on every scan)
        with write(db):
            row = db.execute(sql, [booking_id, action]).fetchone()
            if row is None:
                row = (secrets.token_urlsafe(12),)
                db.execute(
                    "INSERT INTO booking_links (nonce, booking_id, action, created_at) VALUES (?, ?, ?, ?)",
                    [row[0], booking_id, action, dates.stamp()],
                )
    return _serializer(db).dumps({"n": row[0], "b": booking_id, "a": action})


def read(db: Database, user: User, token: str) -> Pending:
    """What ``token`` asks, for its owner only; raises with a Chinese reason otherwise."""
    try:
        found = _serializer(db).loads(token)
        nonce, booking_id, action = str(found["n"]), int(found["b"]), str(found["a"])
    except (BadSignature, KeyError, TypeError, ValueError):
        raise ValidationError(INVALID) from None
    row = db.execute(
        "SELECT booking_id, action, used_at FROM booking_links WHERE nonce = ?", [nonce]
    ).fetchone()
    if row is None or row[0] != booking_id or row[1] != action or action not in ACTIONS:
        raise ValidationError(INVALID)
    booking = bookings._load(db, booking_id)
    if booking.user_id != user.id:
        raise PermissionDenied("该链接属于另一位预约人：请用收到提醒的本人账号登录后再打开")
    return Pending(token=token, action=action, booking=booking, used_at=row[2])


def use(db: Database, user: User, token: str, *, reason: str = "", now: dt.datetime | None = None) -> Pending:
    """Do what the link asks, once: 确认前往, or 取消预约 (the page has asked for the confirmation)."""
    now = now or dates.now()
    with write(db):
        pending = read(db, user, token)
        if pending.used_at:
            raise ValidationError(f"该链接已于 {dates.format_stamp(pending.used_at)} 使用过，不能再次使用")
        b = pending.booking
        if pending.action == "confirm":
            if b.confirmed_at is None:
                waitlist.confirm(db, user, b.id, now=now)
        else:
            bookings.cancel(db, user, b.id, now=now, reason=reason or "通过提醒中的链接取消")
        nonce = _serializer(db).loads(token)["n"]
        db.execute(
            "UPDATE booking_links SET used_at = ? WHERE nonce = ?", [now.isoformat(timespec="seconds"), nonce]
        )
    return read(db, user, token)
