"""200 people book the same Wednesday at once: `python bench/booking_bench.py [--quick] [--processes]`.

Builds the seed-1 demo in a temporary folder, gives the coming-after-next Wednesday 12 slots of
10 visits (120 places), and lets 200 bookers — threads by default (the way Streamlit serves
users: one process, a thread and a connection per rerun), or separate processes with
``--processes`` — each open their own connection and book a random slot at the same moment.
Prints bookings made, double bookings found afterwards, throughput and latency (p50/p95).
"""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PORTAL_TODAY", "2026-11-24")

from bench.crowd import crowded_university, without_booking  # noqa: E402
from portal import accounts, dates, reception  # noqa: E402
from portal.db import open_db  # noqa: E402
from portal.errors import Conflict  # noqa: E402

DAY = dt.date(2026, 12, 2)
NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dates.TZ)


def attempt(path: str, user_id: int, slot: str) -> tuple[str, float]:
    """One booker: own connection, one booking; returns (outcome, seconds spent in book())."""
    with open_db(path) as db:
        user = accounts.get_user(db, user_id)
        data = reception.BookingInput(
            date=DAY, slot=slot, category="其他", subject="基准测试", phone="13800000000", group_size=1
        )
        started = time.perf_counter()
        try:
            reception.book(db, user, data, now=NOW)
            outcome = "booked"
        except Conflict:
            outcome = "conflict"
        except Exception as exc:  # noqa: BLE001 — counted and shown, never hidden
            outcome = f"error: {exc!r}"
        return outcome, time.perf_counter() - started


def _thread_run(path, jobs, barrier, results, lock):
    def one(job):
        barrier.wait()
        result = attempt(path, *job)
        with lock:
            results.append(result)

    threads = [threading.Thread(target=one, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _process_one(path, job, barrier, out):
    barrier.wait()
    out.put(attempt(path, *job))


def _process_run(path, jobs, results):
    ctx = mp.get_context("fork")
    barrier, out = ctx.Barrier(len(jobs)), ctx.Queue()
    procs = [ctx.Process(target=_process_one, args=(path, job, barrier, out)) for job in jobs]
    for p in procs:
        p.start()
    for _ in procs:
        results.append(out.get(timeout=300))
    for p in procs:
        p.join()


def main(argv: list[str]) -> int:
    bookers = 60 if "--quick" in argv else 200
    use_processes = "--processes" in argv
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "bench.sqlite3")
        with open_db(path) as db:
            crowded_university(db)
            places = sum(s.free for s in reception.slots(db, DAY))
            users = without_booking(db, limit=bookers)
            slots = reception.load_template(db).slots
        rng = random.Random(1)
        # a fifth of the bookers are a second click of someone else in the crowd: same person, same day
        jobs = [(uid, rng.choice(slots)) for uid in users]
        jobs[: bookers // 5] = [(users[-1 - k], rng.choice(slots)) for k in range(bookers // 5)]
        results: list[tuple[str, float]] = []
        started = time.perf_counter()
        if use_processes:
            _process_run(path, jobs, results)
        else:
            _thread_run(path, jobs, threading.Barrier(len(jobs)), results, threading.Lock())
        wall = time.perf_counter() - started
        with open_db(path) as db:
            over = db.execute(
                "SELECT count(*) FROM (SELECT slot, count(*) AS n FROM bookings WHERE date = ? "
                "AND status != 'cancelled' GROUP BY slot HAVING n > ?)",
                [DAY.isoformat(), 10],
            ).fetchone()[0]
            same_seat = db.execute(
                "SELECT count(*) FROM (SELECT slot, seat FROM bookings WHERE date = ? AND status != 'cancelled' "
                "GROUP BY slot, seat HAVING count(*) > 1)",
                [DAY.isoformat()],
            ).fetchone()[0]
            twice = db.execute(
                "SELECT count(*) FROM (SELECT user_id FROM bookings WHERE date = ? AND status != 'cancelled' "
                "GROUP BY user_id HAVING count(*) > 1)",
                [DAY.isoformat()],
            ).fetchone()[0]
    latencies = sorted(t for _, t in results)
    made = sum(o == "booked" for o, _ in results)
    conflicts = sum(o == "conflict" for o, _ in results)
    errors = [o for o, _ in results if o.startswith("error")]
    p95 = latencies[max(0, int(len(latencies) * 0.95) - 1)]
    print(f"bookers: {len(jobs)} {'processes' if use_processes else 'threads'}, each with its own connection")
    print(f"places free before: {places} (12 slots x 10)")
    print(f"bookings made: {made}; refused with a Conflict: {conflicts}; errors: {len(errors)}")
    print(
        f"double bookings: {over + same_seat} (slots over capacity {over}, seats taken twice {same_seat}); "
        f"people booked twice the same day: {twice}"
    )
    print(f"wall {wall:.2f} s; throughput {len(results) / wall:.0f} booking attempts/s")
    print(
        f"latency of book(): p50 {statistics.median(latencies) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, "
        f"max {latencies[-1] * 1000:.1f} ms"
    )
    for e in errors[:5]:
        print(e)
    return 1 if (over or same_seat or twice or errors) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
