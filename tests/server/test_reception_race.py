"""No double booking, ever: a race of real processes for the last seat of a slot."""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import queue

import pytest

from portal import accounts, reception
from portal.db import open_db
from portal.errors import Conflict
from portal.reception import bookings
from tests.pages.test_reception import NEXT, at, form, free_slot, fresh_visitors


def _race(path: str, user_id: int, day: str, slot: str, now: str, barrier, out) -> None:
    with open_db(path) as db:
        booker = accounts.get_user(db, user_id)
        data = form(day=dt.date.fromisoformat(day), slot=slot)
        barrier.wait()
        try:
            made = reception.book(db, booker, data, now=dt.datetime.fromisoformat(now))
            out.put(("booked", made.code))
        except Conflict as exc:
            out.put(("conflict", exc.message))
        except Exception as exc:  # noqa: BLE001 — reported to the test, which fails on it
            out.put(("error", repr(exc)))


def test_a_race_of_processes_for_the_last_seat_books_it_once(demo_db, tmp_path):
    tpl = reception.load_template(demo_db)
    reception.save_template(demo_db, tpl.model_copy(update={"visits_per_slot": 3}))
    slot = free_slot(demo_db, NEXT)
    now = at("2026-11-24")
    for early in fresh_visitors(demo_db, NEXT, 2):
        reception.book(demo_db, early, form(slot=slot), now=now)
    racers = fresh_visitors(demo_db, NEXT, 24)
    path = str(tmp_path / "portal.sqlite3")
    ctx = mp.get_context("fork")
    barrier, out = ctx.Barrier(len(racers)), ctx.Queue()
    procs = [
        ctx.Process(target=_race, args=(path, r.id, NEXT.isoformat(), slot, now.isoformat(), barrier, out))
        for r in racers
    ]
    for p in procs:
        p.start()
    results = []
    for _ in procs:
        try:
            results.append(out.get(timeout=120))
        except queue.Empty:
            break
    for p in procs:
        p.join(timeout=30)
    assert len(results) == len(racers)
    assert [r for r in results if r[0] == "error"] == []
    assert sum(r[0] == "booked" for r in results) == 1
    assert all(r[1] == bookings.SEAT_TAKEN for r in results if r[0] == "conflict")
    taken = demo_db.execute(
        "SELECT count(*), count(DISTINCT seat) FROM bookings WHERE date = ? AND slot = ? AND status != 'cancelled'",
        [NEXT.isoformat(), slot],
    ).fetchone()
    assert taken == (3, 3)


# --- the day's actions raced by a cancellation (threads, each with its own connection) ---------

from portal.errors import PortalError  # noqa: E402
from portal.reception import day as reception_day  # noqa: E402
from tests.core.test_no_shows import PAST, booked_on  # noqa: E402
from tests.core.test_waitlist import at as at_time  # noqa: E402
from tests.core.test_waitlist import user, visitors  # noqa: E402

DAY = PAST[-1]  # a Wednesday gone by: its slots are over, the day's actions may be taken
_STAFF_ACTIONS = {
    "签到": lambda db, staff, b: reception_day.check_in(db, staff, b.id),
    "标记未到": lambda db, staff, b: reception_day.mark_no_show(
        db, staff, b.id, now=at_time(DAY.isoformat(), "18:00")
    ),
    "记录接待情况": lambda db, staff, b: reception_day.record_reception(
        db, staff, b.id, reception_day.ReceptionRecord(outcome="answered", answer="当面答复")
    ),
}


def _interleaved(path, first, second, hook_module, hook_name, monkeypatch):
    """Run ``first`` and ``second`` on two threads, each in its own connection, with ``second`` let go
    right after ``first`` has read the booking (``hook_module.hook_name``) — the moment a slow write
    lock (a booking rush) leaves open. Returns each one's outcome: "ok", or the Chinese refusal."""
    import threading

    read, second_done = threading.Event(), threading.Event()
    original = getattr(hook_module, hook_name)

    def reading(*args, **kwargs):
        found = original(*args, **kwargs)
        if threading.current_thread().name == "first":
            read.set()
            second_done.wait(2)  # the other action goes now (or waits for our write lock)
        return found

    monkeypatch.setattr(hook_module, hook_name, reading)
    outcome: dict[str, str] = {}

    def run(name, action, after=None):
        if after is not None:
            after.wait(10)
        try:
            with open_db(path) as db:
                action(db)
            outcome[name] = "ok"
        except PortalError as exc:
            outcome[name] = exc.message
        except Exception as exc:  # noqa: BLE001 — reported to the test, which fails on it
            outcome[name] = f"error: {exc!r}"
        finally:
            if name == "second":
                second_done.set()

    threads = [
        threading.Thread(target=run, args=("first", first), name="first"),
        threading.Thread(target=run, args=("second", second, read), name="second"),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return outcome


@pytest.mark.parametrize("what", list(_STAFF_ACTIONS))
def test_a_cancellation_while_staff_act_on_the_booking_leaves_one_of_the_two(
    what, demo_db, tmp_path, monkeypatch
):
    """党办 cancels a visitor's booking (he phoned) the moment a colleague checks him in, marks him 未到
    or records his reception from the list on screen: one of the two happens and the other is refused
    with the reason — never a cancelled booking checked in, received, or counted as a no-show."""
    visitor = visitors(demo_db, 1, DAY)[0]
    b = booked_on(demo_db, visitor, DAY)
    path = str(tmp_path / "portal.sqlite3")

    def staff_act(db):
        _STAFF_ACTIONS[what](db, user(db, "dangban"), b)

    def manager_cancels(db):
        reception.cancel(
            db, user(db, "xiaoban"), b.id, now=at_time(DAY.isoformat(), "10:00"), reason="来电说来不了"
        )

    outcome = _interleaved(path, staff_act, manager_cancels, reception_day, "_on_the_day", monkeypatch)
    assert not [v for v in outcome.values() if v.startswith("error")], outcome
    assert sorted(v == "ok" for v in outcome.values()) == [False, True], outcome
    status, checked_in, cancelled_at = demo_db.execute(
        "SELECT status, checked_in_at, cancelled_at FROM bookings WHERE id = ?", [b.id]
    ).fetchone()
    if outcome["second"] == "ok":
        assert (status, checked_in) == ("cancelled", None)
    else:
        assert status != "cancelled" and cancelled_at is None


def test_a_check_in_while_the_booking_is_cancelled_leaves_one_of_the_two(demo_db, tmp_path, monkeypatch):
    """The holder cancels from a page open since the morning while the desk checks him in: a visitor
    checked in is never cancelled afterwards (and his place never handed to someone waiting)."""
    visitor = visitors(demo_db, 1, DAY)[0]
    b = booked_on(demo_db, visitor, DAY)
    path = str(tmp_path / "portal.sqlite3")

    def manager_cancels(db):
        reception.cancel(db, user(db, "xiaoban"), b.id, now=at_time(DAY.isoformat(), "10:00"))

    def desk_checks_in(db):
        reception_day.check_in(db, user(db, "dangban"), b.id)

    outcome = _interleaved(path, manager_cancels, desk_checks_in, bookings, "get_booking", monkeypatch)
    assert not [v for v in outcome.values() if v.startswith("error")], outcome
    assert sorted(v == "ok" for v in outcome.values()) == [False, True], outcome
    status, checked_in = demo_db.execute(
        "SELECT status, checked_in_at FROM bookings WHERE id = ?", [b.id]
    ).fetchone()
    assert (status == "cancelled") == (checked_in is None), (status, checked_in)


def test_a_day_cancelled_while_people_book_it_or_join_its_list_keeps_nobody_on_it(
    demo_db, tmp_path, monkeypatch
):
    """党办 cancels a day in the middle of a booking rush: a booker whose form was checked against the
    day before the cancellation, and who then waited for the write lock behind it, is refused with the
    reason — never 预约成功 for a cancelled day, nor a waiting entry left on it."""
    from portal.reception import roster, waitlist
    from tests.core.test_waitlist import NEXT, fill_the_day, form, wish

    path = str(tmp_path / "portal.sqlite3")
    slot = next(s.slot for s in reception.slots(demo_db, NEXT) if s.free)
    booker = visitors(demo_db, 1)[0]

    def books(db):
        reception.book(db, user(db, booker.username), form(slot), now=at_time("2026-11-24"))

    def cancels_the_day(db):
        roster.cancel_day(db, NEXT, user(db, "dangban"), "值班校领导临时出差")

    outcome = _interleaved(path, books, cancels_the_day, roster, "get_day", monkeypatch)
    assert outcome["second"] == "ok", outcome
    assert "接待日已取消" in outcome["first"], outcome
    assert demo_db.execute(
        "SELECT count(*) FROM bookings WHERE date = ? AND status != 'cancelled'", [NEXT.isoformat()]
    ).fetchone() == (0,)

    # the list: a day full, someone joins as it is cancelled
    later = dt.date(2026, 12, 9)
    fill_the_day(demo_db, later, at_time("2026-11-25"))  # its booking opens on 25 Nov
    waiter = visitors(demo_db, 1, later)[0]
    monkeypatch.undo()

    def joins(db):
        waitlist.join(db, user(db, waiter.username), wish(date=later), now=at_time("2026-11-25"))

    def cancels_that_day(db):
        roster.cancel_day(db, later, user(db, "dangban"), "校领导集中学习")

    outcome = _interleaved(path, joins, cancels_that_day, waitlist, "_day_open", monkeypatch)
    assert outcome["second"] == "ok", outcome
    assert "接待日已取消" in outcome["first"], outcome
    assert demo_db.execute(
        "SELECT count(*) FROM waitlist WHERE date = ? AND state = 'waiting'", [later.isoformat()]
    ).fetchone() == (0,)
