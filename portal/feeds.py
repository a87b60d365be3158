"""Calendar subscription feeds (``webcal://``) behind an unguessable per-user token.

Three feeds per user: ``duty.ics`` (the school leader's own duty days), ``roster.ics`` (the
whole duty roster) and ``bookings.ics`` (the user's own bookings). Calendar apps poll them.

The token is ``<user id>-<HMAC-SHA256 of the user id and a generation, keyed by the
installation's secret>``: nothing secret is stored, and "reset my feed links" bumps the
generation so every old URL stops working. A disabled account's feeds stop too.

Every event keeps its UID and carries a SEQUENCE that grows with each change (a swap, a
substitution, a change of place, a cancellation; a booking's cancellation or visit), so
calendar apps replace the event instead of showing it twice.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac

from sqlite_utils import Database

from . import accounts, audit, dates, links, sessions
from .accounts import User
from .db import write
from .reception import ical
from .reception.bookings import my_bookings
from .reception.roster import list_roster
from .reception.template import load_template

FEEDS = {"duty": "我的接待日值班", "roster": "接待日安排", "bookings": "我的接待日预约"}
_PAST, _FUTURE = dt.timedelta(days=180), dt.timedelta(days=366)


def _generation(db: Database, user_id: int) -> int:
    row = db.execute("SELECT generation FROM feed_keys WHERE user_id = ?", [user_id]).fetchone()
    return row[0] if row else 1


def _mac(db: Database, user_id: int, generation: int) -> str:
    digest = hmac.new(
        sessions.secret_key(db).encode(), f"feed|{user_id}|{generation}".encode(), hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def token_for(db: Database, user_id: int) -> str:
    return f"{user_id}-{_mac(db, user_id, _generation(db, user_id))}"


def reset(db: Database, user_id: int) -> str:
    """New feed links for the user; the old ones stop working. Returns the new token."""
    with write(db):
        db.execute(
            "INSERT INTO feed_keys (user_id, generation) VALUES (?, 2) "
            "ON CONFLICT(user_id) DO UPDATE SET generation = generation + 1",
            [user_id],
        )
        audit.record(db, user_id, "feed.reset", "")
    return token_for(db, user_id)


def user_for_token(db: Database, token: str) -> User | None:
    head, _, mac = (token or "").partition("-")
    if not mac or len(token) > 100:
        return None
    try:
        user_id = links.parse_id(head)
    except ValueError:  # ² and ١ are digits to str.isdigit; 30 digits are no SQLite integer
        return None
    if not hmac.compare_digest(mac, _mac(db, user_id, _generation(db, user_id))):
        return None
    try:
        user = accounts.get_user(db, user_id)
    except Exception:
        return None
    return user if user.is_active else None


def urls(db: Database, user: User, base: str) -> dict[str, str]:
    """The user's feed addresses, ``webcal://`` for subscribing (``base``: the portal's address)."""
    host = base.split("://", 1)[-1].rstrip("/")
    token = token_for(db, user.id)
    return {name: f"webcal://{host}/feeds/{token}/{name}.ics" for name in FEEDS}


# --- the calendars -------------------------------------------------------------------------


def _changes(db: Database) -> dict[str, list[tuple[str, int | None, int | None]]]:
    found: dict[str, list[tuple[str, int | None, int | None]]] = {}
    for day, at, old, new in db.execute(
        "SELECT date, at, old_leader_id, new_leader_id FROM duty_changes ORDER BY id"
    ):
        found.setdefault(day, []).append((at, old, new))
    return found


def _window() -> tuple[dt.date, dt.date]:
    today = dates.today()
    return today - _PAST, today + _FUTURE


def duty_ics(db: Database, user: User) -> bytes:
    """The days this user is (or was until a swap) the school leader on duty."""
    events: list[ical.Event] = []
    if user.person_id is not None:
        start, end = _window()
        tpl, changes = load_template(db), _changes(db)
        current = {d.date: d for d in list_roster(db, start, end, leader_id=user.person_id)}
        handed_over = {
            dt.date.fromisoformat(day)
            for day, rows in changes.items()
            if any(old == user.person_id for _, old, _ in rows)
        }
        others = {d.date: d for d in list_roster(db, start, end) if d.date in handed_over - set(current)}
        for day in sorted(set(current) | set(others)):
            d = current.get(day) or others[day]
            mine = day in current
            begin, finish = tpl.day_bounds(day)
            events.append(
                ical.Event(
                    uid=f"duty-{day.isoformat()}-{user.person_id}@contact-portal",
                    start=begin,
                    end=finish,
                    summary=(f"接待日值班（{d.booked} 个预约）" if not d.cancelled else "接待日（已取消）")
                    if mine
                    else f"接待日值班（已改由{d.leader_name}值班）",
                    location=d.place,
                    description=d.note,
                    cancelled=d.cancelled or not mine,
                    sequence=len(changes.get(day.isoformat(), [])),
                )
            )
    return ical.calendar(events, FEEDS["duty"], dates.now())


def roster_ics(db: Database) -> bytes:
    """Every duty day of the roster with its leader and place."""
    start, end = _window()
    tpl, changes = load_template(db), _changes(db)
    events = []
    for d in list_roster(db, start, end):
        begin, finish = tpl.day_bounds(d.date)
        title = f"{d.leader_name}（{d.leader_title}）" if d.leader_title else d.leader_name
        events.append(
            ical.Event(
                uid=f"roster-{d.date.isoformat()}@contact-portal",
                start=begin,
                end=finish,
                summary=f"校领导接待日：{title}" if not d.cancelled else f"校领导接待日（已取消）：{title}",
                location=d.place,
                description=d.note,
                cancelled=d.cancelled,
                sequence=len(changes.get(d.date.isoformat(), [])),
            )
        )
    return ical.calendar(events, FEEDS["roster"], dates.now())


def bookings_ics(db: Database, user: User) -> bytes:
    """The user's own bookings; a change of the day after booking, a cancellation or the visit
    itself each raise the SEQUENCE."""
    tpl, changes = load_template(db), _changes(db)
    events = []
    for b in my_bookings(db, user):
        start, end = tpl.slot_bounds(b.date, b.slot)
        later = sum(1 for at, _, _ in changes.get(b.date.isoformat(), []) if at >= b.created_at)
        events.append(
            ical.Event(
                uid=f"booking-{b.code}@contact-portal",
                start=start,
                end=end,
                summary=f"校领导接待日来访（{b.leader_name}）",
                location=b.place,
                description=f"预约编号 {b.code}\n反映事项：{b.subject}",
                cancelled=b.status == "cancelled" or b.day_status == "cancelled",
                sequence=later + (0 if b.status == "booked" and not b.checked_in_at else 1),
            )
        )
    return ical.calendar(events, FEEDS["bookings"], dates.now())


def render(db: Database, user: User, name: str) -> bytes | None:
    if name == "duty":
        return duty_ics(db, user)
    if name == "roster":
        return roster_ics(db)
    if name == "bookings":
        return bookings_ics(db, user)
    return None
