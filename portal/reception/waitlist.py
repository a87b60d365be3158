"""The waiting list (候补): who waits for a full day or slot, and who gets a place that frees.

**Never two people in one place, never a place empty while someone waits.** Every change that frees
a place — a cancellation by the holder or by 党办/校办, an offer that lapsed, a template giving more
visits per slot — calls ``fill`` inside its own ``write(db)`` (``BEGIN IMMEDIATE``): the first
person waiting whose wish fits (that slot, or any slot of the day) gets a booking in that very seat,
in the same transaction. The seat index ``bookings_seat_taken`` holds behind it.

A place offered before the template's confirmation deadline (default 12:00 the day before) is held
until then: its holder confirms (确认前往) or, unconfirmed, the sweep (``sweep``: ``portal notify run``
and the reception pages) cancels it and the place passes to the next. A place that frees after that
deadline is booked outright for the next person, who is told at once and may cancel as anyone may.
The list runs while booking is open; at the cut-off whoever still waits is told the list has closed.
A day cancelled ends its list (its people are told). One waiting entry per person and day
(``waitlist_one_per_day``); booking the day directly ends one's waiting entry.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets

from pydantic import BaseModel
from sqlite_utils import Database

from .. import dates, states, submissions, text, workdays
from ..accounts import User
from ..db import inserted_id, write
from ..errors import Conflict, NotFound, PermissionDenied, ValidationError
from . import bans, messages
from .access import can_book
from .template import CATEGORIES, DayTemplate, load_template
from .template import save_template as _save_template

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read out over the phone
CODE_LENGTH = 6
ONE_WAITING = "您已在该接待日的候补名单中（每人每天限候补一次）"
ANY_SLOT = None
LEFT_BOOKED = "已直接预约该接待日"


class WaitInput(BaseModel):
    date: dt.date
    slot: str | None = ANY_SLOT  # None: any slot of the day
    category: str
    subject: str
    description: str = ""
    phone: str
    group_size: int = 1


class Entry(BaseModel):
    id: int
    date: dt.date
    slot: str | None = None
    slot_label: str = ""
    user_id: int
    category: str
    subject: str
    state: str
    created_at: str
    ended_at: str | None = None
    end_reason: str = ""
    booking_id: int | None = None
    booking_code: str = ""
    position: int = 0  # 1 = next to be offered a place (waiting entries only)
    leader_name: str = ""
    visitor_name: str = ""
    group_size: int = 1

    @property
    def state_label(self) -> str:
        return states.WAITLIST_STATE_LABELS.get(self.state, self.state)

    @property
    def wish(self) -> str:
        return self.slot_label or "任一时段"

    @property
    def waiting(self) -> bool:
        return self.state == "waiting"


def new_code(db: Database, rng: random.Random | None = None) -> str:
    """A booking code no booking holds (the caller holds the write lock)."""
    pick = rng.choice if rng is not None else secrets.choice
    while True:
        code = "".join(pick(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if not db.execute("SELECT 1 FROM bookings WHERE code = ?", [code]).fetchone():
            return code


def _stamp(now: dt.datetime) -> str:
    return now.isoformat(timespec="seconds")


def _moment(value: dt.datetime) -> str:
    return f"{dates.format_date(value.date())} {value:%H:%M}"


# --- reading ---------------------------------------------------------------------------------

_SQL = (
    "SELECT w.id, w.date, w.slot, w.user_id, w.category, w.subject, w.state, w.created_at, w.ended_at, "
    "w.end_reason, w.booking_id, COALESCE(b.code, '') AS booking_code, COALESCE(p.name, '') AS leader_name, "
    "COALESCE(vp.name, u.display_name) AS visitor_name, w.group_size, "
    "(SELECT count(*) FROM waitlist o WHERE o.date = w.date AND o.state = 'waiting' AND o.id <= w.id) "
    "AS position FROM waitlist w LEFT JOIN bookings b ON b.id = w.booking_id "
    "LEFT JOIN duty_days d ON d.date = w.date LEFT JOIN people p ON p.id = d.leader_id "
    "JOIN users u ON u.id = w.user_id LEFT JOIN people vp ON vp.id = u.person_id "
)


def _entries(db: Database, where: str, params: list) -> list[Entry]:
    tpl = load_template(db)
    out = []
    for r in db.query(_SQL + where, params):
        r = dict(r)
        r["slot_label"] = tpl.slot_label(r["slot"]) if r["slot"] else ""
        if r["state"] != "waiting":
            r["position"] = 0
        out.append(Entry(**r))
    return out


def waiting_on(db: Database, user: User, day: dt.date) -> Entry | None:
    """The user's waiting entry for ``day``, if he or she waits."""
    found = _entries(
        db, "WHERE w.user_id = ? AND w.date = ? AND w.state = 'waiting'", [user.id, day.isoformat()]
    )
    return found[0] if found else None


def my_entries(db: Database, user: User) -> list[Entry]:
    """The user's waiting entries, the coming days first (waiting before ended)."""
    found = _entries(db, "WHERE w.user_id = ? ORDER BY w.date DESC, w.id DESC", [user.id])
    today = dates.today()
    coming = sorted((e for e in found if e.date >= today), key=lambda e: (e.date, not e.waiting, e.id))
    return coming + [e for e in found if e.date < today]


def waiting_count(db: Database, day: dt.date) -> int:
    return db.execute(
        "SELECT count(*) FROM waitlist WHERE date = ? AND state = 'waiting'", [day.isoformat()]
    ).fetchone()[0]


def day_entries(db: Database, day: dt.date) -> list[Entry]:
    """A day's list in its order (permission is the caller's: 接待当日)."""
    return _entries(db, "WHERE w.date = ? ORDER BY w.state != 'waiting', w.id", [day.isoformat()])


# --- when the list runs ----------------------------------------------------------------------


def _day_open(db: Database, day: dt.date) -> bool:
    row = db.execute("SELECT status FROM duty_days WHERE date = ?", [day.isoformat()]).fetchone()
    return row is not None and row[0] == "scheduled" and workdays.is_working_day(db, day)


def refuse_unless_still_open(db: Database, user: User, day: dt.date, what: str) -> None:
    """Inside a booking's or a waiting entry's write: the day as it stands under the write lock.
    What was checked before the lock (a booking rush waits for it for seconds) may have changed
    meanwhile: the day cancelled, or handed to this very person as its leader on duty."""
    row = db.execute(
        "SELECT status, note, leader_id FROM duty_days WHERE date = ?", [day.isoformat()]
    ).fetchone()
    if row is None:
        raise NotFound(f"{dates.format_date(day)}没有接待日安排")
    if row[0] == "cancelled":
        raise ValidationError(f"{dates.format_date(day)}的接待日已取消" + (f"（{row[1]}）" if row[1] else ""))
    if user.person_id is not None and user.person_id == row[2]:
        raise ValidationError(f"您是当天的值班校领导，不能{what}自己的接待日")


def list_open(tpl: DayTemplate, day: dt.date, now: dt.datetime) -> bool:
    """People may wait, and places are handed on, while booking is open."""
    return tpl.opens_at(day) <= now < tpl.closes_at(day)


def _free_seats(db: Database, tpl: DayTemplate, day: dt.date) -> dict[str, list[int]]:
    taken: dict[str, set[int]] = {}
    for slot, seat in db.execute(
        "SELECT slot, seat FROM bookings WHERE date = ? AND status != 'cancelled'", [day.isoformat()]
    ):
        taken.setdefault(slot, set()).add(seat)
    return {
        s: [n for n in range(1, tpl.visits_per_slot + 1) if n not in taken.get(s, set())] for s in tpl.slots
    }


# --- joining and leaving ---------------------------------------------------------------------


def join(
    db: Database, user: User, data: WaitInput, *, now: dt.datetime | None = None, token: str | None = None
) -> Entry:
    """Wait for ``data.slot`` (None: any slot) of a day that has no place for that wish."""
    outcome = submissions.once(db, token, "waitlist", lambda: _join(db, user, data, now), user_id=user.id)
    return _entries(db, "WHERE w.id = ?", [outcome.object_id])[0]


def _join(db: Database, user: User, data: WaitInput, now: dt.datetime | None) -> int:
    if not can_book(user):
        raise PermissionDenied("只有师生（含干部本人）可以候补")
    now, tpl = now or dates.now(), load_template(db)
    day = data.date
    if data.category not in CATEGORIES:
        raise ValidationError(f"请选择反映事项的类别：{'、'.join(CATEGORIES)}")
    if data.slot is not None and data.slot not in tpl.slots:
        raise ValidationError(f"时段“{data.slot[:10]}”不是接待时段")
    if not 1 <= data.group_size <= tpl.max_group:
        raise ValidationError(f"来访人数应为 1–{tpl.max_group} 人")
    subject = text.free_text(data.subject, "反映事项", 100, required=True).replace("\n", " ")
    description = text.free_text(data.description, "具体情况", 2000)
    phone = text.phone(data.phone, "联系电话")
    row = db.execute("SELECT leader_id FROM duty_days WHERE date = ?", [day.isoformat()]).fetchone()
    if row is None:
        raise NotFound(f"{dates.format_date(day)}没有接待日安排")
    if not _day_open(db, day):
        raise ValidationError(f"{dates.format_date(day)}的接待日已取消或不是工作日")
    if not list_open(tpl, day, now):
        raise ValidationError(f"{dates.format_date(day)}不在预约时间内，不能候补")
    if user.person_id is not None and user.person_id == row[0]:
        raise ValidationError("您是当天的值班校领导，不能候补自己的接待日")
    bans.refuse_if_banned(db, user.id, now.date())
    with write(db):
        refuse_unless_still_open(db, user, day, "候补")
        if db.execute(
            "SELECT 1 FROM bookings WHERE user_id = ? AND date = ? AND status != 'cancelled'",
            [user.id, day.isoformat()],
        ).fetchone():
            raise Conflict("您在该接待日已有预约，无需候补")
        if db.execute(
            "SELECT 1 FROM waitlist WHERE user_id = ? AND date = ? AND state = 'waiting'",
            [user.id, day.isoformat()],
        ).fetchone():
            raise Conflict(ONE_WAITING)
        free = _free_seats(db, tpl, day)
        if data.slot is None and any(free.values()):
            raise Conflict("该接待日还有空余时段，请直接预约")
        if data.slot is not None and free[data.slot]:
            raise Conflict(f"时段 {tpl.slot_label(data.slot)} 还有空位，请直接预约")
        return inserted_id(
            db.execute(
                "INSERT INTO waitlist (date, slot, user_id, category, subject, description, phone, group_size, "
                "state, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'waiting', ?)",
                [
                    day.isoformat(),
                    data.slot,
                    user.id,
                    data.category,
                    subject,
                    description,
                    phone,
                    data.group_size,
                    _stamp(now),
                ],
            )
        )


def leave(db: Database, user: User, entry_id: int, *, now: dt.datetime | None = None) -> Entry:
    """Leave the list (the holder only); leaving twice says so."""
    now = now or dates.now()
    with write(db):
        row = db.execute("SELECT user_id, state FROM waitlist WHERE id = ?", [entry_id]).fetchone()
        if row is None or row[0] != user.id:
            raise NotFound("候补记录不存在")
        if row[1] != "waiting":
            raise ValidationError("您已不在候补名单中")
        db.execute(
            "UPDATE waitlist SET state = 'left', ended_at = ?, end_reason = '本人退出候补' WHERE id = ?",
            [_stamp(now), entry_id],
        )
    return _entries(db, "WHERE w.id = ?", [entry_id])[0]


def booked_directly(db: Database, user_id: int, day: dt.date, now: dt.datetime) -> None:
    """Inside ``book``'s transaction: a booking of the day ends one's waiting entry."""
    db.execute(
        "UPDATE waitlist SET state = 'left', ended_at = ?, end_reason = ? "
        "WHERE user_id = ? AND date = ? AND state = 'waiting'",
        [_stamp(now), LEFT_BOOKED, user_id, day.isoformat()],
    )


# --- handing places on -----------------------------------------------------------------------


def fill(
    db: Database, day: dt.date, now: dt.datetime | None = None, tpl: DayTemplate | None = None
) -> list[int]:
    """Give every free place of ``day`` to the first person waiting whose wish fits it, inside the
    caller's transaction (the one that freed the place). Returns the bookings made."""
    now, tpl = now or dates.now(), tpl or load_template(db)
    if not list_open(tpl, day, now):
        return []
    made: list[int] = []
    with write(db):
        waiting = list(
            db.query(
                "SELECT * FROM waitlist WHERE date = ? AND state = 'waiting' ORDER BY id", [day.isoformat()]
            )
        )
        if not waiting or not _day_open(db, day):
            return []
        free = _free_seats(db, tpl, day)
        offer = now < tpl.confirm_by(day)  # before the deadline the place is held for a confirmation
        for w in waiting:
            wanted = [w["slot"]] if w["slot"] else tpl.slots
            slot = next((s for s in wanted if free.get(s)), None)
            if slot is None:
                continue
            if _cannot_take(db, w, day, now):
                continue
            seat = free[slot].pop(0)
            booking_id = inserted_id(
                db.execute(
                    "INSERT INTO bookings (code, date, slot, seat, user_id, category, subject, description, phone, "
                    "group_size, status, created_at, confirm_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'booked', ?, ?)",
                    [
                        new_code(db),
                        day.isoformat(),
                        slot,
                        seat,
                        w["user_id"],
                        w["category"],
                        w["subject"],
                        w["description"],
                        w["phone"],
                        w["group_size"],
                        _stamp(now),
                        _stamp(tpl.confirm_by(day)) if offer else None,
                    ],
                )
            )
            db.execute(
                "UPDATE waitlist SET state = 'promoted', ended_at = ?, booking_id = ?, end_reason = ? WHERE id = ?",
                [_stamp(now), booking_id, "已递补" if not offer else "已递补，待确认", w["id"]],
            )
            messages.waitlist_promoted(db, booking_id, offer=offer)
            made.append(booking_id)
            if not any(free.values()):
                break
    return made


def _cannot_take(db: Database, w: dict, day: dt.date, now: dt.datetime) -> bool:
    """A waiting person who may no longer be given a place leaves the list (and is told why)."""
    reason = ""
    if db.execute(
        "SELECT 1 FROM bookings WHERE user_id = ? AND date = ? AND status != 'cancelled'",
        [w["user_id"], day.isoformat()],
    ).fetchone():
        reason = LEFT_BOOKED
    elif bans.active_ban(db, w["user_id"], now.date()) is not None:
        reason = "预约受限（未到次数已达上限），候补随之结束"
    elif not db.execute("SELECT is_active FROM users WHERE id = ?", [w["user_id"]]).fetchone()[0]:
        reason = "账号已停用"
    if not reason:
        return False
    db.execute(
        "UPDATE waitlist SET state = 'left', ended_at = ?, end_reason = ? WHERE id = ?",
        [_stamp(now), reason, w["id"]],
    )
    return True


def confirm(db: Database, user: User, booking_id: int, *, now: dt.datetime | None = None) -> None:
    """确认前往: the holder accepts a place offered from the waiting list (before its deadline), or
    says he or she will come (the reminder's link). Raises when there is nothing to confirm."""
    now = now or dates.now()
    with write(db):
        row = db.execute(
            "SELECT user_id, status, checked_in_at, confirm_by, confirmed_at FROM bookings WHERE id = ?",
            [booking_id],
        ).fetchone()
        if row is None or row[0] != user.id:
            raise NotFound("预约不存在")
        status, checked_in, confirm_by, confirmed_at = row[1:]
        if status != "booked" or checked_in:
            raise ValidationError(f"该预约{states.booking_label(status, bool(checked_in))}，无需确认")
        if confirmed_at:
            raise ValidationError(f"您已于 {dates.format_stamp(confirmed_at)} 确认前往")
        if confirm_by and now >= dt.datetime.fromisoformat(confirm_by):
            raise ValidationError(
                f"确认期限（{_moment(dt.datetime.fromisoformat(confirm_by))}）已过，该名额已让给下一位候补"
            )
        db.execute("UPDATE bookings SET confirmed_at = ? WHERE id = ?", [_stamp(now), booking_id])


# --- the sweep: lapsed offers, closed lists --------------------------------------------------


def due(db: Database, now: dt.datetime) -> bool:
    """Whether ``sweep`` has anything to do (two indexed reads: cheap enough for a page load)."""
    if db.execute(
        "SELECT 1 FROM bookings WHERE confirm_by IS NOT NULL AND confirmed_at IS NULL AND status = 'booked' "
        "AND checked_in_at IS NULL AND confirm_by <= ? LIMIT 1",
        [_stamp(now)],
    ).fetchone():
        return True
    row = db.execute("SELECT min(date) FROM waitlist WHERE state = 'waiting'").fetchone()
    return bool(row[0]) and load_template(db).closes_at(dt.date.fromisoformat(row[0])) <= now


def sweep(db: Database, now: dt.datetime | None = None) -> int:
    """Cancel the offers not confirmed in time (their places pass on) — never one whose holder came and
    was checked in meanwhile — and close the lists whose booking has closed. Returns how many bookings and entries it changed."""
    now = now or dates.now()
    if not due(db, now):
        return 0
    tpl = load_template(db)
    changed = 0
    with write(db):
        lapsed = db.execute(
            "SELECT id, date, confirm_by FROM bookings WHERE confirm_by IS NOT NULL AND confirmed_at IS NULL "
            "AND status = 'booked' AND checked_in_at IS NULL AND confirm_by <= ? ORDER BY confirm_by, id",
            [_stamp(now)],
        ).fetchall()
        for booking_id, _day, confirm_by in lapsed:
            deadline = dt.datetime.fromisoformat(confirm_by)
            db.execute(
                "UPDATE bookings SET status = 'cancelled', cancelled_at = ?, cancel_reason = ?, cancelled_by = NULL "
                "WHERE id = ? AND status = 'booked' AND checked_in_at IS NULL",
                [_stamp(now), f"候补递补后未在 {_moment(deadline)} 前确认，名额已让给下一位候补", booking_id],
            )
            messages.booking(db, booking_id, "lapsed")
            changed += 1
        for day in dict.fromkeys(d for _, d, _ in lapsed):
            changed += len(fill(db, dt.date.fromisoformat(day), now, tpl))
        for (day,) in db.execute("SELECT DISTINCT date FROM waitlist WHERE state = 'waiting'").fetchall():
            when = dt.date.fromisoformat(day)
            if tpl.closes_at(when) <= now:
                changed += close(db, when, "expired", "预约已截止，未能递补", now)
    return changed


def close(db: Database, day: dt.date, state: str, reason: str, now: dt.datetime | None = None) -> int:
    """End the day's list (``expired``: booking closed; ``day_cancelled``), telling each person.
    Inside the caller's transaction; returns how many entries ended."""
    now = now or dates.now()
    with write(db):
        ids = [
            r[0]
            for r in db.execute(
                "SELECT id FROM waitlist WHERE date = ? AND state = 'waiting' ORDER BY id", [day.isoformat()]
            )
        ]
        for entry_id in ids:
            db.execute(
                "UPDATE waitlist SET state = ?, ended_at = ?, end_reason = ? WHERE id = ?",
                [state, _stamp(now), reason, entry_id],
            )
            messages.waitlist_ended(db, entry_id)
    return len(ids)


def save_template(db: Database, template: DayTemplate | dict, actor_id: int | None = None) -> DayTemplate:
    """Save the day's template; places it opens (more visits per slot, more slots) go to the people
    waiting, in the same transaction."""
    with write(db):
        tpl = _save_template(db, template, actor_id)
        now = dates.now()
        for (day,) in db.execute(
            "SELECT DISTINCT date FROM waitlist WHERE state = 'waiting' AND date >= ?",
            [now.date().isoformat()],
        ).fetchall():
            fill(db, dt.date.fromisoformat(day), now, tpl)
    return tpl
