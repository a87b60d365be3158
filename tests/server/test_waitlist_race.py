"""The waiting list raced by real processes: holders cancel, newcomers book, others join the list and
the promoted confirm, all at once; afterwards no place is taken twice, nobody holds two places, and no
place is free while someone waits for it."""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import queue
import random

from portal import accounts, reception
from portal.db import open_db, snapshot
from portal.errors import Conflict, ValidationError
from portal.reception import bookings, waitlist
from tests.core.test_waitlist import NEXT, NOW, fill_the_day, form, visitors, wish


def _empty_while_waiting(db) -> list[str]:
    """Every committed state, not only the last: no free place of the day while someone waits for it
    (read in one snapshot). A place freed and left empty until some later cancellation's promotion
    happens to fill it breaks this at once; the end state alone would never show it."""
    with snapshot(db):
        free = {s.slot for s in reception.slots(db, NEXT) if s.free}
        wishes = [
            r[0]
            for r in db.execute(
                "SELECT slot FROM waitlist WHERE date = ? AND state = 'waiting'", [NEXT.isoformat()]
            )
        ]
    return [
        f"free {sorted(free)} while waiting for {w or 'any slot'}"
        for w in wishes
        if free and (w is None or w in free)
    ]


def _actor(path, jobs, now_iso, barrier, out):
    """One process: its jobs one after another, each in its own connection; after each (done or
    refused), the state as committed so far is checked (``_empty_while_waiting``)."""
    now = dt.datetime.fromisoformat(now_iso)
    barrier.wait()
    for kind, user_id, arg in jobs:
        try:
            _act(path, now, kind, user_id, arg)
            said = "ok"
        except (Conflict, ValidationError) as exc:
            said = f"refused: {exc.message}"
        except Exception as exc:  # noqa: BLE001 — reported to the test, which fails on it
            said = f"error: {exc!r}"
        with open_db(path) as db:
            broken = _empty_while_waiting(db)
        out.put((kind, f"error: after {kind} ({said}): {broken}" if broken else said))


def _act(path, now, kind, user_id, arg):
    with open_db(path) as db:
        person = accounts.get_user(db, user_id)
        if kind == "cancel":
            reception.cancel(db, person, arg, now=now)
        elif kind == "book":
            reception.book(db, person, form(arg), now=now)
        elif kind == "wait":
            waitlist.join(db, person, wish(arg), now=now)
        elif kind == "confirm":  # confirm whatever the waiting list gave me, if anything yet
            mine = reception.mine_on(db, person, NEXT)
            if mine is not None and mine.awaiting_confirmation:
                waitlist.confirm(db, person, mine.id, now=now)


def test_cancellations_promotions_and_new_bookings_race_without_a_double_booking(demo_db, tmp_path):
    """Twelve processes at once: holders cancel, newcomers book, others join the list, the promoted
    confirm. Afterwards: no place taken twice, nobody twice, no place free while someone waits."""
    tpl = reception.load_template(demo_db)
    reception.save_template(demo_db, tpl.model_copy(update={"visits_per_slot": 2}))
    fill_the_day(demo_db)
    held = [b for b in bookings.day_bookings(demo_db, NEXT) if b.status == "booked"]
    rng = random.Random(7)
    waiters = visitors(demo_db, 24)
    for w in waiters[:8]:  # some wait before the race
        waitlist.join(demo_db, w, wish(rng.choice([None, None, "08:30", "14:30"])), now=NOW)
    cancels = rng.sample(held, 14)
    jobs = (
        [("cancel", b.user_id, b.id) for b in cancels]
        + [("book", w.id, rng.choice(tpl.slots)) for w in waiters[8:16]]
        + [("wait", w.id, rng.choice([None, "09:00"])) for w in waiters[16:]]
        + [("confirm", w.id, None) for w in waiters[:8]] * 2
    )
    rng.shuffle(jobs)
    per = [jobs[i::12] for i in range(12)]
    path = str(tmp_path / "portal.sqlite3")
    ctx = mp.get_context("fork")
    barrier, out = ctx.Barrier(len(per)), ctx.Queue()
    procs = [ctx.Process(target=_actor, args=(path, p, NOW.isoformat(), barrier, out)) for p in per]
    for p in procs:
        p.start()
    results = []
    for _ in jobs:
        try:
            results.append(out.get(timeout=120))
        except queue.Empty:
            break
    for p in procs:
        p.join(timeout=30)
    assert len(results) == len(jobs)
    assert [r for r in results if r[1].startswith("error")] == []
    assert (
        sum(r == ("cancel", "ok") for r in results) == 14
    )  # and after each job, nobody waited for a free place

    day = NEXT.isoformat()
    assert (
        demo_db.execute(
            "SELECT slot, seat FROM bookings WHERE date = ? AND status != 'cancelled' GROUP BY slot, seat "
            "HAVING count(*) > 1",
            [day],
        ).fetchall()
        == []
    )
    assert (
        demo_db.execute(
            "SELECT slot FROM bookings WHERE date = ? AND status != 'cancelled' GROUP BY slot HAVING count(*) > 2",
            [day],
        ).fetchall()
        == []
    )
    assert (
        demo_db.execute(
            "SELECT user_id FROM bookings WHERE date = ? AND status != 'cancelled' GROUP BY user_id HAVING count(*) > 1",
            [day],
        ).fetchall()
        == []
    )
    # no place free while someone waits for it
    free = {s.slot for s in reception.slots(demo_db, NEXT) if s.free}
    wishes = [
        r[0] for r in demo_db.execute("SELECT slot FROM waitlist WHERE date = ? AND state = 'waiting'", [day])
    ]
    assert not (free and any(w is None or w in free for w in wishes)), (free, wishes)
    # the list did hand places on (14 freed, more than were waiting before the race)
    promoted = demo_db.execute(
        "SELECT count(*) FROM waitlist WHERE date = ? AND state = 'promoted'", [day]
    ).fetchone()[0]
    assert promoted >= 8
