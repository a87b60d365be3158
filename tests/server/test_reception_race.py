"""No double booking, ever: a race of real processes for the last seat of a slot."""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import queue

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
