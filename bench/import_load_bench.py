"""Bookings and logins while big imports run: `python bench/import_load_bench.py [--quick]`.

Builds the seed-1 demo in a temporary folder; then two import processes start at once — 5,000
accounts (CSV) and 100,000 activities (.xlsx) (`--quick`: 500 and 20,000) — while, in the benchmark's
own process, booking threads book reception-day slots and login threads log in with the demo
password, each attempt on its own connection, until both imports are done. Prints, for bookings and
for logins, attempts, failures and latency (p50/p95/max), and each import's figures.

Target (issue 10): every booking and login succeeds, p95 < 1 s, while the imports run.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("PORTAL_TODAY", "2026-11-24")
os.environ.setdefault("PORTAL_MAX_UPLOAD_BYTES", str(64 * 1024 * 1024))

from import_bench import activities_xlsx  # noqa: E402

from bench.crowd import crowded_university, without_booking  # noqa: E402
from portal import accounts, dates, imports, reception  # noqa: E402
from portal.db import open_db  # noqa: E402
from portal.errors import Conflict  # noqa: E402

DAY = dt.date(2026, 12, 2)
NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dates.TZ)


def accounts_csv(n: int) -> bytes:
    lines = ["工号,姓名,角色,单位,人员类别"]
    lines += [f"2026{i:06d},新生{i},师生,,学生" for i in range(n)]
    return ("\n".join(lines) + "\n").encode()


def _import(path: str, kind: str, name: str, data: bytes, out) -> None:
    started = time.perf_counter()
    with open_db(path) as db:
        prepared = imports.prepare(db, kind, name, data)
        report = imports.commit(db, prepared)
    out.put((kind, time.perf_counter() - started, report.write_seconds, report.summary()))


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    n_accounts, n_activities = (500, 20_000) if quick else (5_000, 100_000)
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "bench.sqlite3")
        with open_db(path) as db:
            crowded_university(db)
            staff = [
                r[0]
                for r in db.execute(
                    "SELECT DISTINCT p.staff_no FROM people p JOIN cadre_posts c ON c.person_id = p.id"
                )
            ]
            visitors = without_booking(db, ("学生",), limit=400)
            logins = [
                r[0]
                for r in db.execute("SELECT username FROM users WHERE is_active = 1 ORDER BY id LIMIT 40")
            ]
            slots = reception.load_template(db).slots
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        sheet = activities_xlsx(staff, n_activities)
        people = accounts_csv(n_accounts)
        ctx = mp.get_context("fork")
        out = ctx.Queue()
        procs = [
            ctx.Process(target=_import, args=(path, "accounts", "accounts.csv", people, out)),
            ctx.Process(target=_import, args=(path, "activities", "activities.xlsx", sheet, out)),
        ]
        stop = threading.Event()
        results: dict[str, dict[str, list[tuple[bool, float, str]]]] = {
            p: {"booking": [], "login": []} for p in ("baseline", "import")
        }
        lock = threading.Lock()
        phase = "baseline"

        def booker(ids: list[int]) -> None:
            k = 0
            while not stop.is_set():  # book, then cancel: two writes per round, as long as the imports run
                uid = ids[k % len(ids)]
                k += 1
                started = time.perf_counter()
                ok, why = True, ""
                try:
                    with open_db(path) as db:
                        user = accounts.get_user(db, uid)
                        data = reception.BookingInput(
                            date=DAY,
                            slot=slots[k % len(slots)],
                            category="其他",
                            subject="压力测试",
                            phone="13800000000",
                            group_size=1,
                        )
                        made = reception.book(db, user, data, now=NOW)
                        reception.cancel(db, user, made.id, now=NOW, reason="压力测试")
                except Conflict as exc:  # a full slot is an answer, not a failure
                    why = exc.message
                except Exception as exc:  # noqa: BLE001 — counted and shown
                    ok, why = False, repr(exc)
                with lock:
                    results[phase]["booking"].append((ok, time.perf_counter() - started, why))
                time.sleep(0.05)

        def login_loop(names: list[str]) -> None:
            k = 0
            while not stop.is_set():
                name = names[k % len(names)]
                k += 1
                started = time.perf_counter()
                ok, why = True, ""
                try:
                    with open_db(path) as db:
                        accounts.authenticate(db, name, "demo1234")
                except Exception as exc:  # noqa: BLE001
                    ok, why = False, repr(exc)
                with lock:
                    results[phase]["login"].append((ok, time.perf_counter() - started, why))
                time.sleep(0.2)

        def load() -> list[threading.Thread]:
            threads = [threading.Thread(target=booker, args=(visitors[i::4],)) for i in range(4)]
            threads += [threading.Thread(target=login_loop, args=(logins[i::2],)) for i in range(2)]
            for t in threads:
                t.start()
            return threads

        # the same load for a while without imports: what users get on this machine anyway
        threads = load()
        time.sleep(10 if quick else 20)
        stop.set()
        for t in threads:
            t.join()
        stop.clear()
        phase = "import"
        started = time.perf_counter()
        for p in procs:
            p.start()
        threads = load()
        finished = [out.get(timeout=3600) for _ in procs]
        stop.set()
        for p in procs:
            p.join()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
    print(f"imports ran {wall:.0f} s; meanwhile 4 booking threads and 2 login threads (own connection each)")
    for kind, total, commit, summary in finished:
        print(f"  import {kind}: {total:.1f} s in all, write transaction {commit:.2f} s — {summary}")
    met = True
    for name in ("baseline", "import"):
        print("without imports (baseline):" if name == "baseline" else "while the imports run:")
        for what, found in results[name].items():
            times = sorted(t for _, t, _ in found)
            failed = [why for ok, _, why in found if not ok]
            p95 = times[max(0, int(len(times) * 0.95) - 1)] if times else 0
            good = not failed and p95 < 1.0 and len(times) > 0
            if name == "import":
                met &= good
            print(
                f"  {what}s: {len(found)} attempts, {len(failed)} failed; latency p50 "
                f"{statistics.median(times) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, max {times[-1] * 1000:.0f} ms"
                + (
                    f" — target all succeed, p95 < 1 s: {'met' if good else 'MISSED'}"
                    if name == "import"
                    else ""
                )
            )
            for why in failed[:3]:
                print(f"    {why}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
