"""Calendar subscription feeds (``webcal://``) behind an unguessable per-user token.

Three feeds per user: ``duty.ics`` (the school leader's own duty days), ``roster.ics`` (the
whole duty roster) and ``bookings.ics`` (the user's own bookings). Calendar apps poll them.

The token is an HMAC-SHA256 of the user id and a generation, keyed by the installation's secret
(43 characters, URL-safe): it says nothing about whose it is. ``feed_keys`` keeps, per user, the
generation and the SHA-256 of the token in force (never the token), by which a request finds its
user; the token is then computed again and compared, so a changed secret key stops every address.
"Reset my feed links" bumps the generation so every old URL stops working. A disabled account's
feeds stop too.

Addresses of the earlier form, ``<user id>-<HMAC>`` (the id in front, readable by anyone holding
the address or reading a proxy's log), open nothing any more: a genuine one gets a calendar holding
a single notice — 订阅地址已更换，请在“我的账号”重新订阅 — which is what a calendar app shows its
user, in place of the events; a forged one gets 404 (docs/api.md).

Every event keeps its UID (``ical.uid``: unique per installation) and carries a SEQUENCE that grows
with each change (a swap, a substitution, a change of place, a cancellation; a booking's
cancellation or visit), so calendar apps replace the event instead of showing it twice. An event
carries no subject of a visit: calendars leave the portal (a phone's cloud calendar, a shared one).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re

from sqlite_utils import Database

from . import accounts, audit, dates, sessions
from .accounts import User
from .db import write
from .reception import ical
from .reception.bookings import my_bookings
from .reception.roster import list_roster
from .reception.template import load_template

FEEDS = {"duty": "我的接待日值班", "roster": "接待日安排", "bookings": "我的接待日预约"}
_PAST, _FUTURE = dt.timedelta(days=180), dt.timedelta(days=366)
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")
_LEGACY = re.compile(r"([0-9]{1,18})-([A-Za-z0-9_-]{43})")
RESUBSCRIBE = "日历订阅地址已更换，请重新订阅"


def _generation(db: Database, user_id: int) -> int:
    row = db.execute("SELECT generation FROM feed_keys WHERE user_id = ?", [user_id]).fetchone()
    return row[0] if row else 1


def _mac(db: Database, message: str) -> str:
    digest = hmac.new(sessions.secret_key(db).encode(), message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _token(db: Database, user_id: int, generation: int) -> str:
    # "feed2": never the message the earlier addresses signed, whose MAC they show
    return _mac(db, f"feed2|{user_id}|{generation}")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_for(db: Database, user_id: int) -> str:
    """The user's token in force; its digest is noted in ``feed_keys`` so a request finds the user."""
    generation = _generation(db, user_id)
    token = _token(db, user_id, generation)
    digest = _digest(token)
    row = db.execute("SELECT token_hash FROM feed_keys WHERE user_id = ?", [user_id]).fetchone()
    if row is None or row[0] != digest:
        with write(db, housekeeping=True):
            db.execute(
                "INSERT INTO feed_keys (user_id, generation, token_hash) VALUES (?, ?, ?) "
                "ON CONFLICT(user_id) DO UPDATE SET token_hash = excluded.token_hash",
                [user_id, generation, digest],
            )
    return token


def legacy_token(db: Database, user_id: int) -> str:
    """The address's token as it was before (``<user id>-<HMAC>``): recognised only to say so."""
    return f"{user_id}-{_mac(db, f'feed|{user_id}|{_generation(db, user_id)}')}"


def reset(db: Database, user_id: int) -> str:
    """New feed links for the user; the old ones stop working. Returns the new token."""
    with write(db):
        db.execute(
            "INSERT INTO feed_keys (user_id, generation) VALUES (?, 2) "
            "ON CONFLICT(user_id) DO UPDATE SET generation = generation + 1, token_hash = NULL",
            [user_id],
        )
        audit.record(db, user_id, "feed.reset", "")
    return token_for(db, user_id)


def _active(db: Database, user_id: int) -> User | None:
    try:
        user = accounts.get_user(db, user_id)
    except Exception:
        return None
    return user if user.is_active else None


def user_for_token(db: Database, token: object) -> User | None:
    """The user whose feed ``token`` (as the address gave it: anything) opens, or None (unknown,
    reset, secret changed, account disabled)."""
    if not isinstance(token, str) or not _TOKEN.fullmatch(token):
        return None
    row = db.execute(
        "SELECT user_id, generation FROM feed_keys WHERE token_hash = ?", [_digest(token)]
    ).fetchone()
    if row is None or not hmac.compare_digest(token, _token(db, row[0], row[1])):
        return None
    return _active(db, row[0])


def is_legacy(db: Database, token: object) -> bool:
    """Whether ``token`` is a genuine address of the earlier form, of an account still active."""
    found = _LEGACY.fullmatch(token) if isinstance(token, str) else None
    if found is None or not isinstance(token, str):
        return False
    user_id = int(found.group(1))
    if not hmac.compare_digest(token, legacy_token(db, user_id)):
        return False
    return _active(db, user_id) is not None


def resubscribe_notice(db: Database, name: str) -> bytes:
    """What an address of the earlier form gets instead of its events: one all-day notice, today."""
    today = dates.now().replace(hour=0, minute=0, second=0, microsecond=0)
    notice = ical.Event(
        uid=ical.uid(db, "notice", name),
        start=today,
        end=today + dt.timedelta(days=1),
        summary=f"{RESUBSCRIBE}（{FEEDS[name]}）",
        description="为保护个人信息，本平台的日历订阅地址已更换，旧地址不再提供日程。"
        "请登录平台，在“我的账号 → 日历订阅”复制新的地址重新订阅，并删除本订阅。",
    )
    return ical.calendar([notice], f"{FEEDS[name]}（{RESUBSCRIBE}）", dates.now())


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
                    uid=ical.uid(db, "duty", f"{day.isoformat()}-{user.person_id}"),
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
                uid=ical.uid(db, "roster", d.date.isoformat()),
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
                uid=ical.uid(db, "booking", b.code),
                start=start,
                end=end,
                summary=f"校领导接待日来访（{b.leader_name}）",
                location=b.place,
                description=f"预约编号 {b.code}",
                cancelled=b.status == "cancelled" or b.day_status == "cancelled",
                sequence=later + (0 if b.status == "booked" and not b.checked_in_at else 1),
            )
        )
    return ical.calendar(events, FEEDS["bookings"], dates.now())


def render(db: Database, user: User, name: str) -> bytes:
    if name == "duty":
        return duty_ics(db, user)
    if name == "roster":
        return roster_ics(db)
    if name == "bookings":
        return bookings_ics(db, user)
    raise KeyError(f"no feed named {name!r}")
