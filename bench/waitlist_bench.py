"""The waiting list under a storm: `python bench/waitlist_bench.py [--quick]`.

Builds the seed-1 demo in a temporary folder, fills the Wednesday after next (12 slots × 2 visits),
puts people on its waiting list, then lets separate processes (8 by default) interleave at the same
moment: holders cancelling (each freed place is handed to the first person waiting, in the cancel's
own transaction), newcomers booking, more people joining the list, and the promoted confirming their
places (确认前往). Prints, against issue 21's targets:

* double bookings (a seat taken twice, a slot over capacity, a person twice on the day): target 0;
* places left empty while someone waits for them: target 0;
* promoted and confirmed places; errors (anything but a Chinese refusal): target 0;
* p50/p95 latency of each kind of operation, and the throughput.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PORTAL_TODAY", "2026-11-24")

from bench.crowd import crowded_university, without_booking  # noqa: E402
from portal import accounts, dates, reception  # noqa: E402
from portal.db import open_db  # noqa: E402
from portal.errors import PortalError  # noqa: E402
from portal.reception import bookings, waitlist  # noqa: E402

DAY = dt.date(2026, 12, 2)
NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dates.TZ)
VISITS = 2


def _form(slot: str) -> bookings.BookingInput:
    return bookings.BookingInput(
        date=DAY, slot=slot, category="其他", subject="基准测试", phone="13800000000"
    )


def _wish(slot: str | None) -> waitlist.WaitInput:
    return waitlist.WaitInput(date=DAY, slot=slot, category="其他", subject="候补基准", phone="13800000000")


def _one(path: str, kind: str, user_id: int, arg) -> tuple[str, str, float]:
    started = time.perf_counter()
    try:
        with open_db(path) as db:
            person = accounts.get_user(db, user_id)
            if kind == "cancel":
                reception.cancel(db, person, arg, now=NOW)
            elif kind == "book":
                reception.book(db, person, _form(arg), now=NOW)
            elif kind == "wait":
                waitlist.join(db, person, _wish(arg), now=NOW)
            else:  # confirm whatever the list gave me, if anything yet
                mine = reception.mine_on(db, person, DAY)
                if mine is None or not mine.awaiting_confirmation:
                    return kind, "nothing yet", time.perf_counter() - started
                waitlist.confirm(db, person, mine.id, now=NOW)
        outcome = "ok"
    except PortalError:
        outcome = "refused"
    except Exception as exc:  # noqa: BLE001 — counted and shown, never hidden
        outcome = f"error: {exc!r}"
    return kind, outcome, time.perf_counter() - started


def _worker(path, jobs, barrier, out):
    barrier.wait()
    out.put([_one(path, *job) for job in jobs])


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    procs_n = 4 if quick else 8
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "bench.sqlite3")
        with open_db(path) as db:
            crowded_university(db, VISITS)
            tpl = reception.load_template(db)
            free = [s.slot for s in reception.slots(db, DAY) for _ in range(s.free)]
            people = without_booking(db, ("学生",))
            rng = random.Random(21)
            crowd, people = people[: len(free)], people[len(free) :]
            for uid, slot in zip(crowd, free, strict=True):
                reception.book(db, accounts.get_user(db, uid), _form(slot), now=NOW)
            early = people[: 12 if quick else 40]
            for uid in early:
                waitlist.join(
                    db, accounts.get_user(db, uid), _wish(rng.choice([None, None, "08:30", "14:30"])), now=NOW
                )
            held = [b for b in bookings.day_bookings(db, DAY) if b.status == "booked"]
        cancels = rng.sample(held, min(len(held), 10 if quick else 20))
        rest = people[len(early) :]
        newcomers, joiners = rest[: 10 if quick else 40], rest[40 : 50 if quick else 80]
        jobs = (
            [("cancel", b.user_id, b.id) for b in cancels]
            + [("book", uid, rng.choice(tpl.slots)) for uid in newcomers]
            + [("wait", uid, rng.choice([None, "09:00"])) for uid in joiners]
            + [("confirm", uid, None) for uid in early] * 3
        )
        rng.shuffle(jobs)
        per = [jobs[i::procs_n] for i in range(procs_n)]
        ctx = mp.get_context("fork")
        barrier, out = ctx.Barrier(procs_n), ctx.Queue()
        workers = [ctx.Process(target=_worker, args=(path, p, barrier, out)) for p in per]
        started = time.perf_counter()
        for w in workers:
            w.start()
        results = [r for _ in workers for r in out.get(timeout=600)]
        wall = time.perf_counter() - started
        for w in workers:
            w.join()
        with open_db(path) as db:
            waitlist.sweep(db, NOW)
            day = DAY.isoformat()
            seats = db.execute(
                "SELECT count(*) FROM (SELECT 1 FROM bookings WHERE date = ? AND status != 'cancelled' "
                "GROUP BY slot, seat HAVING count(*) > 1)",
                [day],
            ).fetchone()[0]
            over = db.execute(
                "SELECT count(*) FROM (SELECT 1 FROM bookings WHERE date = ? AND status != 'cancelled' "
                "GROUP BY slot HAVING count(*) > ?)",
                [day, VISITS],
            ).fetchone()[0]
            twice = db.execute(
                "SELECT count(*) FROM (SELECT 1 FROM bookings WHERE date = ? AND status != 'cancelled' "
                "GROUP BY user_id HAVING count(*) > 1)",
                [day],
            ).fetchone()[0]
            free_now = {s.slot for s in reception.slots(db, DAY) if s.free}
            wishes = [
                r[0]
                for r in db.execute("SELECT slot FROM waitlist WHERE date = ? AND state = 'waiting'", [day])
            ]
            empty = sum(1 for w in wishes if w is None and free_now or w in free_now)
            promoted = db.execute(
                "SELECT count(*) FROM waitlist WHERE date = ? AND state = 'promoted'", [day]
            ).fetchone()[0]
            confirmed = db.execute(
                "SELECT count(*) FROM bookings b JOIN waitlist w ON w.booking_id = b.id WHERE b.date = ? "
                "AND b.confirmed_at IS NOT NULL AND b.status = 'booked'",
                [day],
            ).fetchone()[0]
    errors = [o for _, o, _ in results if o.startswith("error")]
    print(
        f"waiting list storm: {procs_n} processes, {len(jobs)} operations on one day of 12 slots × {VISITS}"
    )
    print(f"(a shared machine, load average {os.getloadavg()[0]:.1f})")
    print(
        f"before: {len(early)} waiting; during: {len(cancels)} cancellations, {len(newcomers)} bookers, "
        f"{len(joiners)} joining, {len(early) * 3} confirmation attempts"
    )
    for kind in ("cancel", "book", "wait", "confirm"):
        lat = sorted(t for k, _, t in results if k == kind)
        outcomes: dict[str, int] = {}
        for k, o, _ in results:
            if k == kind:
                outcomes[o] = outcomes.get(o, 0) + 1
        p95 = lat[max(0, int(len(lat) * 0.95) - 1)]
        print(
            f"  {kind:8s} p50 {statistics.median(lat) * 1000:6.1f} ms, p95 {p95 * 1000:6.1f} ms  "
            + ", ".join(f"{o} {n}" for o, n in sorted(outcomes.items()))
        )
    print(f"places handed on from the waiting list: {promoted}; confirmed by their new holders: {confirmed}")
    print(
        f"double bookings: {seats + over + twice} (seats twice {seats}, slots over {over}, people twice {twice}) (target 0)"
    )
    print(f"places empty while someone waits for them: {empty} (target 0)")
    print(f"errors: {len(errors)} (target 0); wall {wall:.2f} s, {len(results) / wall:.0f} operations/s")
    for e in errors[:5]:
        print(f"  {e}")
    return 1 if (seats or over or twice or empty or errors) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
