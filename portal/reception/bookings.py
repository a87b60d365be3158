"""Booking a reception (预约接待): free slots, booking, cancelling, and reading bookings (what the
visitor is told and given: ``confirmation``).

**No double booking, ever.** ``book`` checks capacity and one-booking-per-person-per-day
*inside* ``write(db)`` (``BEGIN IMMEDIATE``: one writer at a time, so the check and the
insert cannot interleave with another booker's), and the partial unique indexes
``bookings_seat_taken`` and ``bookings_one_per_day`` hold even if that check were wrong;
their IntegrityError comes back as a Chinese ``Conflict``. Pages never check anything.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
import sqlite3

from pydantic import BaseModel
from sqlite_utils import Database

from .. import audit, dates, publication, states, submissions, text
from ..accounts import User
from ..db import inserted_id, write
from ..errors import Conflict, NotFound, PermissionDenied, Problems, SeatTaken, ValidationError
from . import bans, messages, roster, waitlist
from .access import can_book, can_manage
from .template import CATEGORIES, DayTemplate, load_template
from .waitlist import CODE_ALPHABET, CODE_LENGTH

STATUS_LABELS = states.BOOKING_STATUS_LABELS
OUTCOME_LABELS = {"answered": "当场答复", "handed": "转交办理"}
CASE_STATE_LABELS = states.CASE_STATE_LABELS
SEAT_TAKEN = SeatTaken.MESSAGE
ONE_PER_DAY = "您在该接待日已有一个预约（每人每天限预约一次）；如需改期，请先取消原预约"


class BookingInput(BaseModel):
    date: dt.date
    slot: str
    category: str
    subject: str
    description: str = ""
    phone: str
    group_size: int = 1
    # a consent of its own, never ticked in advance: publish the answer without the name (答复公开)
    publish_consent: bool = False


class CaseInfo(BaseModel):
    number: str
    state: str
    responsible_dept: str
    due_date: dt.date
    answer: str = ""
    answered_at: str | None = None

    @property
    def state_label(self) -> str:
        return CASE_STATE_LABELS.get(self.state, self.state)


class Booking(BaseModel):
    id: int
    code: str
    date: dt.date
    slot: str
    slot_label: str = ""
    seat: int
    user_id: int
    visitor_name: str
    visitor_staff_no: str = ""
    visitor_unit: str = ""
    category: str
    subject: str
    description: str = ""
    # masked (138****5678) wherever a booking is read: the full number goes only to the reception
    # staff of that day, who may have to call (``portal.reception.day.numbers_to_call``)
    phone: str
    group_size: int
    status: str
    created_at: str
    cancelled_at: str | None = None
    cancel_reason: str = ""
    cancelled_by: int | None = None
    checked_in_at: str | None = None
    confirm_by: str | None = None  # a place offered from the waiting list, held until then
    confirmed_at: str | None = None  # 确认前往
    outcome: str | None = None
    answer: str = ""
    # the day as it is now
    place: str = ""
    leader_id: int
    leader_name: str
    leader_title: str = ""
    day_status: str = "scheduled"
    day_note: str = ""
    # changes to the day made after this booking, and cases opened from it
    notices: list[str] = []
    cases: list[CaseInfo] = []

    @property
    def status_label(self) -> str:
        return states.booking_label(self.status, bool(self.checked_in_at), self.awaiting_confirmation)

    @property
    def awaiting_confirmation(self) -> bool:
        """A place offered from the waiting list, not confirmed yet (a visitor checked in has come)."""
        return (
            self.status == "booked"
            and self.confirm_by is not None
            and self.confirmed_at is None
            and self.checked_in_at is None
        )

    @property
    def confirm_deadline(self) -> str:
        """2026年12月1日（星期二） 12:00 — until when an offered place is held."""
        if self.confirm_by is None:
            return ""
        return _moment(dt.datetime.fromisoformat(self.confirm_by))

    @property
    def cancel_note(self) -> str:
        """Who cancelled and why, as the visitor and 党办/校办 read it ('' unless cancelled)."""
        if self.status != "cancelled":
            return ""
        if self.cancelled_by is None and self.confirm_by is not None and self.confirmed_at is None:
            who = "未按时确认，系统取消"  # an offer from the waiting list that lapsed
        else:
            who = "本人取消" if self.cancelled_by in (None, self.user_id) else "接待日管理人员取消"
        when = f"{dates.format_stamp(self.cancelled_at)} " if self.cancelled_at else ""
        return f"{when}{who}" + (f"，原因：{self.cancel_reason}" if self.cancel_reason else "")

    @property
    def outcome_label(self) -> str:
        return OUTCOME_LABELS.get(self.outcome or "", "")

    @property
    def phone_masked(self) -> str:
        return text.mask_phone(self.phone)

    @property
    def active(self) -> bool:
        return self.status != "cancelled"


class SlotInfo(BaseModel):
    slot: str
    label: str
    capacity: int
    taken: int
    mine: bool = False  # the user asked about holds a booking in this slot

    @property
    def free(self) -> int:
        return max(0, self.capacity - self.taken)

    @property
    def state(self) -> str:
        """mine / full / free — what the slot grid shows."""
        if self.mine:
            return "mine"
        return "free" if self.free else "full"


class Window(BaseModel):
    opens: dt.datetime
    closes: dt.datetime

    def state(self, now: dt.datetime) -> str:
        """not_yet / open / closed"""
        if now < self.opens:
            return "not_yet"
        return "open" if now < self.closes else "closed"

    def describe(self) -> str:
        return f"{_moment(self.opens)} 开放预约，{_moment(self.closes)} 截止"


def _moment(value: dt.datetime) -> str:
    return f"{dates.format_date(value.date())} {value:%H:%M}"


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or dates.now()


# --- days and slots --------------------------------------------------------------------------


def window(db: Database, day: dt.date, template: DayTemplate | None = None) -> Window:
    tpl = template or load_template(db)
    return Window(opens=tpl.opens_at(day), closes=tpl.closes_at(day))


def bookable_days(db: Database, now: dt.datetime | None = None) -> list[roster.DutyDay]:
    """Duty days open for booking right now (scheduled, a working day, inside the window)."""
    now, tpl = _now(now), load_template(db)
    start = now.date()
    end = start + dt.timedelta(days=tpl.open_days_before + 1)
    return [
        d
        for d in roster.list_roster(db, start, end, include_cancelled=False)
        if window(db, d.date, tpl).state(now) == "open" and roster.is_working_day(db, d.date)
    ]


def upcoming_days(db: Database, now: dt.date | None = None, weeks: int = 8) -> list[roster.DutyDay]:
    """The roster from today for a few weeks (open or not yet open), cancelled days included."""
    start = now or dates.today()
    return roster.list_roster(db, start, start + dt.timedelta(weeks=weeks))


def slots(db: Database, day: dt.date, user: User | None = None) -> list[SlotInfo]:
    """The day's slots with seats taken (and ``mine`` for ``user``'s own booking); none for a day
    not on the roster, cancelled or a holiday."""
    # light reads: the grid is drawn on every rerun of 预约接待, for every open day
    found = db.execute("SELECT status FROM duty_days WHERE date = ?", [day.isoformat()]).fetchone()
    if found is None or found[0] == "cancelled" or not roster.is_working_day(db, day):
        return []
    tpl = load_template(db)
    taken = dict(
        db.execute(
            "SELECT slot, count(*) FROM bookings WHERE date = ? AND status != 'cancelled' GROUP BY slot",
            [day.isoformat()],
        ).fetchall()
    )
    held = None
    if user is not None:
        row = db.execute(
            "SELECT slot FROM bookings WHERE user_id = ? AND date = ? AND status != 'cancelled'",
            [user.id, day.isoformat()],
        ).fetchone()
        held = row[0] if row else None
    return [
        SlotInfo(
            slot=s,
            label=tpl.slot_label(s),
            capacity=tpl.visits_per_slot,
            taken=taken.get(s, 0),
            mine=held == s,
        )
        for s in tpl.slots
    ]


def mine_on(db: Database, user: User, day: dt.date) -> Booking | None:
    """The user's booking on ``day`` that still stands (not cancelled), if any."""
    row = db.execute(
        "SELECT id FROM bookings WHERE user_id = ? AND date = ? AND status != 'cancelled'",
        [user.id, day.isoformat()],
    ).fetchone()
    return _load(db, row[0]) if row else None


# --- booking ---------------------------------------------------------------------------------


def _validated(db: Database, data: BookingInput, tpl: DayTemplate) -> dict:
    """The form's values, clean; else one ValidationError naming every field at fault."""
    found = Problems()
    if not data.slot:
        found.add("slot", "请选择一个时段")
    elif data.slot not in tpl.slots:
        found.add("slot", f"时段“{data.slot[:10]}”不是接待时段")
    if data.category not in CATEGORIES:
        found.add("category", f"请选择反映事项类别：{'、'.join(CATEGORIES)}")
    values: dict = {"category": data.category, "group_size": data.group_size}
    with found.field("subject"):
        values["subject"] = text.free_text(data.subject, "反映事项", 100, required=True).replace("\n", " ")
    with found.field("description"):
        values["description"] = text.free_text(data.description, "具体情况", 2000)
    with found.field("phone"):
        values["phone"] = text.phone(data.phone, "联系电话")
    if not 1 <= data.group_size <= tpl.max_group:
        found.add(
            "group_size",
            f"来访人数应为 1–{tpl.max_group} 人（集体反映问题请推选不超过 {tpl.max_group} 名代表）",
        )
    found.check()
    return values


def _new_code(rng: random.Random | None) -> str:
    pick = rng.choice if rng is not None else secrets.choice
    return "".join(pick(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _translate(exc: sqlite3.IntegrityError) -> Conflict | None:
    message = str(exc)
    if "bookings.user_id" in message:
        return Conflict(ONE_PER_DAY)
    if "bookings.seat" in message or "bookings.slot" in message:
        return SeatTaken()
    return None


def book(
    db: Database,
    user: User,
    data: BookingInput,
    *,
    now: dt.datetime | None = None,
    rng: random.Random | None = None,
    token: str | None = None,
) -> Booking:
    """Book exactly ``data.slot`` for ``user`` — never another slot; raises ``SeatTaken`` (a
    ``Conflict``) when that slot is full, ``Conflict`` when the user already booked the day.

    ``token`` is the booking form's rendering (``portal.submissions``): a resubmit of the same
    rendering books nothing and returns the booking the first submit made.
    """
    outcome = submissions.once(
        db, token, "booking", lambda: _book(db, user, data, now, rng).id, user_id=user.id
    )
    return _load(db, outcome.made_id)


def _book(
    db: Database, user: User, data: BookingInput, now: dt.datetime | None, rng: random.Random | None
) -> Booking:
    if not can_book(user):
        raise PermissionDenied("只有师生（含干部本人）可以预约接待")
    now, tpl = _now(now), load_template(db)
    values = _validated(db, data, tpl)
    day = data.date
    found = roster.get_day(db, day)
    if found is None:
        raise NotFound(f"{dates.format_date(day)}没有接待日安排")
    if found.cancelled:
        raise ValidationError(
            f"{dates.format_date(day)}的接待日已取消" + (f"（{found.note}）" if found.note else "")
        )
    if not roster.is_working_day(db, day):
        raise ValidationError(f"{dates.format_date(day)}不是工作日，不安排接待")
    state = window(db, day, tpl).state(now)
    if state == "not_yet":
        raise ValidationError(f"{dates.format_date(day)}的预约尚未开放（{_moment(tpl.opens_at(day))} 开放）")
    if state == "closed":
        raise ValidationError(f"{dates.format_date(day)}的预约已于 {_moment(tpl.closes_at(day))} 截止")
    if user.person_id is not None and user.person_id == found.leader_id:
        raise ValidationError("您是当天的值班校领导，不能预约自己的接待日")
    bans.refuse_if_banned(db, user.id, now.date())
    for attempt in range(5):
        try:
            with write(db):
                waitlist.refuse_unless_still_open(db, user, day, "预约")
                mine = db.execute(
                    "SELECT code FROM bookings WHERE user_id = ? AND date = ? AND status != 'cancelled'",
                    [user.id, day.isoformat()],
                ).fetchone()
                if mine:
                    raise Conflict(f"{ONE_PER_DAY}（预约编号 {mine[0]}）")
                taken = {
                    r[0]
                    for r in db.execute(
                        "SELECT seat FROM bookings WHERE date = ? AND slot = ? AND status != 'cancelled'",
                        [day.isoformat(), data.slot],
                    )
                }
                free = [s for s in range(1, tpl.visits_per_slot + 1) if s not in taken]
                if not free:
                    raise SeatTaken()
                booking_id = inserted_id(
                    db.execute(
                        "INSERT INTO bookings (code, date, slot, seat, user_id, category, subject, description, phone, "
                        "group_size, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'booked', ?)",
                        [
                            _new_code(rng),
                            day.isoformat(),
                            data.slot,
                            free[0],
                            user.id,
                            values["category"],
                            values["subject"],
                            values["description"],
                            values["phone"],
                            values["group_size"],
                            now.isoformat(timespec="seconds"),
                        ],
                    )
                )
                waitlist.booked_directly(db, user.id, day, now)
                if data.publish_consent:
                    publication.record_consent(db, user, given=True, booking_id=booking_id)
                messages.booking(db, booking_id, "confirmed")
            return _load(db, booking_id)
        except sqlite3.IntegrityError as exc:
            conflict = _translate(exc)
            if conflict is not None:
                raise conflict from None
            if "bookings.code" not in str(exc) or attempt == 4:
                raise
    raise AssertionError("unreachable")


def cancel(
    db: Database, user: User, booking_id: int, *, now: dt.datetime | None = None, reason: str = ""
) -> Booking:
    """Cancel a booking: its holder before the cut-off, 党办/校办 until the day is over."""
    now = _now(now)
    reason = text.free_text(reason, "取消原因", 200).replace("\n", " ")
    manager = can_manage(user)
    with write(db):  # read and checked under the write lock: a check-in meanwhile is seen
        booking = get_booking(db, user, booking_id)
        if booking.user_id != user.id and not manager:
            raise PermissionDenied("只能取消本人的预约")
        if booking.status != "booked":
            raise ValidationError(f"该预约{booking.status_label}，不能取消")
        if booking.checked_in_at:
            raise ValidationError("来访人已签到，不能取消")
        closes = load_template(db).closes_at(booking.date)
        if booking.user_id == user.id and not manager and now >= closes:
            raise ValidationError(f"已过取消截止时间（{_moment(closes)}），如确需取消请联系党办或校办")
        if manager and booking.date < now.date():
            raise ValidationError("接待日已经过去，不能取消；未到的预约请标记为“未到”")
        db.execute(
            "UPDATE bookings SET status = 'cancelled', cancelled_at = ?, cancel_reason = ?, cancelled_by = ? "
            "WHERE id = ? AND status = 'booked'",
            [now.isoformat(timespec="seconds"), reason, user.id, booking_id],
        )
        messages.booking(db, booking_id, "cancelled")
        if booking.user_id != user.id:
            audit.record(db, user.id, "reception.cancel_booking", f"{booking.code}: {reason[:100]}")
        waitlist.fill(db, booking.date, now)  # the place freed goes to the first person waiting
    return _load(db, booking_id)


# --- reading ---------------------------------------------------------------------------------

_SQL = (
    "SELECT b.*, COALESCE(p.name, u.display_name) AS visitor_name, COALESCE(p.staff_no, u.username) "
    "AS visitor_staff_no, COALESCE(un.name, '') AS visitor_unit, d.place, d.leader_id, "
    "lp.name AS leader_name, d.status AS day_status, d.note AS day_note, "
    "COALESCE((SELECT min(cp.title) FROM cadre_posts cp WHERE cp.person_id = d.leader_id AND cp.level = '校级' "
    "  AND cp.start_date <= d.date AND (cp.end_date IS NULL OR cp.end_date >= d.date)), '') AS leader_title "
    "FROM bookings b JOIN users u ON u.id = b.user_id LEFT JOIN people p ON p.id = u.person_id "
    "LEFT JOIN units un ON un.id = p.unit_id JOIN duty_days d ON d.date = b.date "
    "JOIN people lp ON lp.id = d.leader_id "
)


def _views(db: Database, rows: list[dict]) -> list[Booking]:
    tpl = load_template(db)
    out = []
    for r in rows:
        r = dict(r)
        r["slot_label"] = tpl.slot_label(r["slot"])
        r["phone"] = text.mask_phone(r["phone"])
        r["answer"] = r["answer"] or ""
        r["notices"] = [
            c.describe()
            for c in roster.changes(db, day=dt.date.fromisoformat(r["date"]), since=r["created_at"])
            if c.action != "plan"
        ]
        if r["day_status"] == "cancelled" and not any("接待日已取消" in n for n in r["notices"]):
            reason = f"（{r['day_note']}）" if r["day_note"] else ""
            r["notices"].append(f"{dates.format_date(r['date'])}接待日已取消{reason}")
        r["cases"] = [
            CaseInfo(**c)
            for c in db.query(
                "SELECT number, state, responsible_dept, due_date, answer, answered_at FROM cases "
                "WHERE booking_id = ? ORDER BY id",
                [r["id"]],
            )
        ]
        out.append(Booking(**r))
    return out


def _load(db: Database, booking_id: int) -> Booking:
    rows = list(db.query(_SQL + "WHERE b.id = ?", [booking_id]))
    if not rows:
        raise NotFound("预约不存在")
    return _views(db, rows)[0]


def get_booking(db: Database, user: User, booking_id: int) -> Booking:
    """One booking: its holder, 党办/校办, or the leader on duty that day — to anyone else it does not exist."""
    booking = _load(db, booking_id)
    if (
        booking.user_id == user.id
        or can_manage(user)
        or (user.person_id is not None and user.person_id == booking.leader_id)
    ):
        return booking
    raise NotFound("预约不存在")


def find_by_code(db: Database, user: User, code: str) -> Booking:
    row = db.execute("SELECT id FROM bookings WHERE code = ?", [code.strip().upper()]).fetchone()
    if row is None:
        raise NotFound("预约不存在")
    return get_booking(db, user, row[0])


def my_bookings(db: Database, user: User, *, include_cancelled: bool = True) -> list[Booking]:
    """The user's own bookings, the coming ones first, then the past ones newest first."""
    sql = _SQL + "WHERE b.user_id = ?" + ("" if include_cancelled else " AND b.status != 'cancelled'")
    found = _views(db, list(db.query(sql + " ORDER BY b.date DESC, b.slot", [user.id])))
    today = dates.today()
    coming = sorted((b for b in found if b.date >= today), key=lambda b: (b.date, b.slot))
    return coming + [b for b in found if b.date < today]


class MyBookings(BaseModel):
    """One's bookings under the headings 我的预约 shows: what will happen, what was cancelled (by the
    holder, by 党办/校办, or with its day), and what is over (received, missed, or past)."""

    coming: list[Booking] = []
    cancelled: list[Booking] = []
    past: list[Booking] = []


def will_happen(booking: Booking, today: dt.date) -> bool:
    """Still to come: booked (checked in or not) for today or later, on a day that stands."""
    return booking.status == "booked" and booking.date >= today and booking.day_status != "cancelled"


def sorted_mine(found: list[Booking], today: dt.date | None = None) -> MyBookings:
    """``my_bookings`` under their headings, each in the order given (coming: nearest first)."""
    today = today or dates.today()
    out = MyBookings()
    for b in found:
        if will_happen(b, today):
            out.coming.append(b)
        elif b.status == "cancelled" or b.day_status == "cancelled":
            out.cancelled.append(b)
        else:
            out.past.append(b)
    return out


def day_bookings(db: Database, day: dt.date) -> list[Booking]:
    """Every booking of a day (permission is the caller's: see ``portal.reception.day``)."""
    return _views(
        db, list(db.query(_SQL + "WHERE b.date = ? ORDER BY b.slot, b.seat, b.id", [day.isoformat()]))
    )


def can_cancel(db: Database, user: User, booking: Booking, now: dt.datetime | None = None) -> bool:
    if booking.status != "booked" or booking.checked_in_at:
        return False
    if can_manage(user):
        return booking.date >= _now(now).date()
    return booking.user_id == user.id and _now(now) < load_template(db).closes_at(booking.date)
