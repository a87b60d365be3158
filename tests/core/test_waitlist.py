"""The waiting list (候补): joining a full day or slot, promotion in the transaction that freed the
place, offers confirmed or lapsed, leaving, a day cancelled, the list closing (the race of real
processes: tests/server/test_waitlist_race.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from portal import accounts, dates, reception
from portal.errors import Conflict, ValidationError
from portal.reception import bookings, roster, waitlist

TZ = dates.TZ
NEXT = dt.date(2026, 12, 2)  # open for booking all of 24 Nov; cut-off 1 Dec 17:00, confirm by 1 Dec 12:00


def at(day: str, hhmm: str = "10:00") -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{hhmm}:00").replace(tzinfo=TZ)


NOW = at("2026-11-24")


def user(db, username: str) -> accounts.User:
    found = accounts.find_user(db, username)
    assert found is not None, username
    return found


def visitors(db, n: int, day: dt.date = NEXT) -> list[accounts.User]:
    rows = db.execute(
        "SELECT u.username FROM users u JOIN people p ON p.id = u.person_id WHERE p.kind = '学生' "
        "AND u.id NOT IN (SELECT user_id FROM bookings WHERE date = ?) ORDER BY u.id LIMIT ?",
        [day.isoformat(), n],
    ).fetchall()
    assert len(rows) == n
    return [user(db, r[0]) for r in rows]


def form(slot: str, **extra) -> bookings.BookingInput:
    values = dict(
        date=NEXT, slot=slot, category="后勤保障", subject="宿舍热水供应时间短", phone="13812341234"
    )
    return bookings.BookingInput(**{**values, **extra})


def wish(slot: str | None = None, **extra) -> waitlist.WaitInput:
    values = dict(
        date=NEXT, slot=slot, category="教学", subject="选课系统高峰期无法登录", phone="13912345678"
    )
    return waitlist.WaitInput(**{**values, **extra})


def fill_the_day(db, day: dt.date = NEXT, now: dt.datetime = NOW) -> dict[str, bookings.Booking]:
    """Book every free place of ``day``; the bookings of each slot by slot."""
    free = [s.slot for s in reception.slots(db, day) for _ in range(s.free)]
    for person, slot in zip(visitors(db, len(free), day), free, strict=True):
        reception.book(db, person, form(slot, date=day), now=now)
    assert not any(s.free for s in reception.slots(db, day))
    return {b.slot: b for b in bookings.day_bookings(db, day) if b.status == "booked"}


def holder(db, b: bookings.Booking) -> accounts.User:
    return accounts.get_user(db, b.user_id)


def test_a_full_day_takes_waiters_in_order_and_a_cancellation_promotes_the_first_who_fits(demo_db):
    held = fill_the_day(demo_db)
    first, second, third = visitors(demo_db, 3)
    a = waitlist.join(demo_db, first, wish(), now=NOW)
    b = waitlist.join(demo_db, second, wish("09:00"), now=NOW)
    c = waitlist.join(demo_db, third, wish(), now=NOW)
    assert (
        [a.position, b.position, c.position] == [1, 2, 3] and b.wish == "09:00–09:30" and a.wish == "任一时段"
    )
    with pytest.raises(Conflict, match="每人每天限候补一次"):
        waitlist.join(demo_db, first, wish("10:00"), now=NOW)

    # 10:00 frees: the first waiter (any slot) gets it, in the cancel's own transaction
    reception.cancel(demo_db, holder(demo_db, held["10:00"]), held["10:00"].id, now=NOW)
    got = reception.mine_on(demo_db, first, NEXT)
    assert got is not None and got.slot == "10:00" and got.awaiting_confirmation
    assert got.status_label == "待确认" and got.confirm_deadline == "2026年12月1日（星期二） 12:00"
    assert waitlist.waiting_on(demo_db, first, NEXT) is None
    assert [e.state for e in waitlist.my_entries(demo_db, first)] == ["promoted"]
    assert waitlist.waiting_on(demo_db, second, NEXT).position == 1  # moved up

    # 10:30 frees: the 09:00 waiter does not fit, the next who does gets it
    reception.cancel(demo_db, holder(demo_db, held["10:30"]), held["10:30"].id, now=NOW)
    assert reception.mine_on(demo_db, third, NEXT).slot == "10:30"
    assert reception.mine_on(demo_db, second, NEXT) is None
    # 党办 cancels 09:00: the slot's own waiter gets it
    reception.cancel(demo_db, user(demo_db, "dangban"), held["09:00"].id, now=NOW, reason="来访人电话告知")
    assert reception.mine_on(demo_db, second, NEXT).slot == "09:00"
    assert waitlist.waiting_count(demo_db, NEXT) == 0
    # never two people in one place
    assert (
        demo_db.execute(
            "SELECT count(*) FROM bookings WHERE date = ? AND status != 'cancelled' GROUP BY slot, seat HAVING count(*) > 1",
            [NEXT.isoformat()],
        ).fetchall()
        == []
    )


def test_waiting_is_refused_while_there_is_room_and_booking_directly_leaves_the_list(demo_db):
    person = visitors(demo_db, 1)[0]
    free = next(s.slot for s in reception.slots(demo_db, NEXT) if s.free)
    taken = next(s.slot for s in reception.slots(demo_db, NEXT) if not s.free)
    with pytest.raises(Conflict, match="还有空余时段，请直接预约"):
        waitlist.join(demo_db, person, wish(), now=NOW)
    with pytest.raises(Conflict, match="还有空位"):
        waitlist.join(demo_db, person, wish(free), now=NOW)
    entry = waitlist.join(demo_db, person, wish(taken), now=NOW)  # a full slot of a day with room
    assert entry.waiting
    reception.book(demo_db, person, form(free), now=NOW)
    assert waitlist.waiting_on(demo_db, person, NEXT) is None
    assert waitlist.my_entries(demo_db, person)[0].end_reason == waitlist.LEFT_BOOKED
    with pytest.raises(Conflict, match="已有预约"):
        waitlist.join(demo_db, person, wish(taken), now=NOW)


def test_an_offer_is_confirmed_before_its_deadline_or_passes_to_the_next(demo_db):
    held = fill_the_day(demo_db)
    first, second, third = visitors(demo_db, 3)
    for p in (first, second, third):
        waitlist.join(demo_db, p, wish(), now=NOW)
    reception.cancel(demo_db, holder(demo_db, held["08:30"]), held["08:30"].id, now=NOW)
    reception.cancel(demo_db, holder(demo_db, held["14:30"]), held["14:30"].id, now=NOW)
    offered = reception.mine_on(demo_db, first, NEXT)
    waitlist.confirm(demo_db, first, offered.id, now=at("2026-11-30", "20:00"))
    assert reception.mine_on(demo_db, first, NEXT).status_label == "待接待"
    with pytest.raises(ValidationError, match="已于"):
        waitlist.confirm(demo_db, first, offered.id, now=at("2026-11-30", "20:05"))
    unconfirmed = reception.mine_on(demo_db, second, NEXT)
    with pytest.raises(ValidationError, match="确认期限"):
        waitlist.confirm(demo_db, second, unconfirmed.id, now=at("2026-12-01", "12:00"))

    # 12:00 the day before: the unconfirmed place passes to the next, booked outright now
    waitlist.sweep(demo_db, now=at("2026-12-01", "11:59"))
    assert reception.mine_on(demo_db, second, NEXT).awaiting_confirmation
    waitlist.sweep(demo_db, now=at("2026-12-01", "12:00"))
    lapsed = reception.get_booking(demo_db, second, unconfirmed.id)
    assert lapsed.status == "cancelled" and lapsed.cancel_note.endswith(
        "未按时确认，系统取消，原因：" + lapsed.cancel_reason
    )
    passed = reception.mine_on(demo_db, third, NEXT)
    assert passed.slot == "14:30" and not passed.awaiting_confirmation and passed.status_label == "待接待"
    assert reception.mine_on(demo_db, first, NEXT).status == "booked"  # the confirmed one stays


def test_leaving_the_list_a_day_cancelled_and_the_list_closing(demo_db):
    fill_the_day(demo_db)
    stays, goes, late = visitors(demo_db, 3)
    entry = waitlist.join(demo_db, goes, wish(), now=NOW)
    waitlist.join(demo_db, stays, wish("11:00"), now=NOW)
    left = waitlist.leave(demo_db, goes, entry.id, now=NOW)
    assert left.state_label == "已退出候补" and waitlist.waiting_on(demo_db, stays, NEXT).position == 1
    with pytest.raises(ValidationError, match="已不在候补名单中"):
        waitlist.leave(demo_db, goes, entry.id, now=NOW)
    with pytest.raises(Exception, match="不存在"):
        waitlist.leave(demo_db, stays, entry.id, now=NOW)  # not his entry

    # the cut-off closes the list: whoever still waits is told
    assert waitlist.sweep(demo_db, now=at("2026-12-01", "17:00")) >= 1
    closed = waitlist.my_entries(demo_db, stays)[0]
    assert closed.state_label == "未能递补" and "预约已截止" in closed.end_reason
    with pytest.raises(ValidationError, match="不在预约时间内"):
        waitlist.join(demo_db, late, wish(), now=at("2026-12-01", "17:00"))

    # a day cancelled with people waiting ends its list
    later = dt.date(2026, 12, 9)
    fill_the_day(demo_db, later, at("2026-11-26"))
    waiting = visitors(demo_db, 1, later)[0]
    waitlist.join(demo_db, waiting, wish(date=later), now=at("2026-11-26"))
    roster.cancel_day(demo_db, later, user(demo_db, "xiaoban"), "学校召开年度工作会议")
    ended = waitlist.my_entries(demo_db, waiting)[0]
    assert ended.state == "day_cancelled" and "学校召开年度工作会议" in ended.end_reason


def test_more_visits_per_slot_go_to_the_people_waiting(demo_db):
    fill_the_day(demo_db)
    first, second = visitors(demo_db, 2)
    waitlist.join(demo_db, first, wish("08:30"), now=NOW)
    waitlist.join(demo_db, second, wish(), now=NOW)
    tpl = reception.load_template(demo_db)
    reception.save_template(demo_db, tpl.model_copy(update={"visits_per_slot": 2}))
    assert reception.mine_on(demo_db, first, dt.date(2026, 12, 2)).slot == "08:30"
    assert reception.mine_on(demo_db, second, NEXT) is not None
    assert waitlist.waiting_count(demo_db, NEXT) == 0


def test_the_dispatchers_run_hands_on_a_lapsed_offer(demo_db):
    """``portal notify run`` runs the waiting list's clock on every run, not only every scan."""
    from portal.notify import scan

    held = fill_the_day(demo_db)
    first, second = visitors(demo_db, 2)
    waitlist.join(demo_db, first, wish(), now=NOW)
    waitlist.join(demo_db, second, wish(), now=NOW)
    reception.cancel(demo_db, holder(demo_db, held["16:00"]), held["16:00"].id, now=NOW)
    offered = reception.mine_on(demo_db, first, NEXT)
    scan.enqueue_due(demo_db, at("2026-12-01", "11:00"))  # a scan: sets the scan clock
    scan.enqueue_due(demo_db, at("2026-12-01", "12:01"))  # within the hour: no scan, but the sweep runs
    assert reception.get_booking(demo_db, first, offered.id).status == "cancelled"
    assert reception.mine_on(demo_db, second, NEXT).slot == "16:00"
