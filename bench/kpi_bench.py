"""The department KPIs for a whole university's year: ``python bench/kpi_bench.py [--cases N] [--db FILE] [--quick]``.

Builds (or reuses with ``--db``) the demo university at the page benchmark's scale (``--scale 6``: ≥ 1,000 cadres)
and adds ``--cases`` cases raised over 2026 (default 20,000: four times page_bench's 5,000, a busy year) with the
histories departments give them: referred (most the next working day), answered (most on time), rated by the
raiser or through a 回访 (some 不满意, reopened, answered and rated again), some left open or unrated. Then times
``portal.kpis.compute`` for the year 2026 — by responsible department, undertaking unit, cadre and month — and
the 工作台账's four groupings at once (``kpis.reports``: one pass over the cases).

Target (issue 21 item 5): each computation of a whole university's year < 1 s, judged on the process's CPU time
(SQLite runs in the process; on this shared machine the wall time includes waiting for other processes, and is
printed beside it). ``--quick``: 3,000 cases, scale 2.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PORTAL_TODAY", "2026-12-31T18:00:00")

from portal import demo, kpis, workdays  # noqa: E402
from portal.db import open_db, write  # noqa: E402
from portal.policy import policy  # noqa: E402

YEAR = 2026
RATINGS = (("satisfied", 62), ("basic", 28), ("unsatisfied", 10))


def _stamp(day: dt.date, hour: int) -> str:
    return f"{day.isoformat()}T{hour:02d}:00:00+08:00"


def add_cases(db, n: int, seed: int = 7) -> None:
    """``n`` cases of 2026 with their histories, written straight into the tables the services fill."""
    rng = random.Random(seed)
    cal = workdays.calendar(db, dt.date(YEAR, 1, 1), dt.date(YEAR + 1, 6, 30))
    cadres = [r[0] for r in db.execute("SELECT DISTINCT person_id FROM cadre_posts")]
    units = [r[0] for r in db.execute("SELECT id FROM units")]
    users = [r[0] for r in db.execute("SELECT id FROM users WHERE person_id IS NOT NULL LIMIT 3000")]
    clerk = db.execute("SELECT id FROM users WHERE username = 'dangban'").fetchone()[0]
    depts = policy().departments
    today = dt.date.fromisoformat(os.environ["PORTAL_TODAY"][:10])
    first = db.execute("SELECT COALESCE(max(id), 0) FROM cases").fetchone()[0] + 1
    cases, events, answers, ratings = [], [], [], []
    answer_id = db.execute("SELECT COALESCE(max(id), 0) FROM case_answers").fetchone()[0]
    weights = [w for _, w in RATINGS]
    for i in range(n):
        cid = first + i
        contact = dt.date(YEAR, 1, 1) + dt.timedelta(days=rng.randint(0, 363))
        source = rng.choice(("reception", "symposium", "other"))
        days = policy().deadlines.for_source(source)
        due = cal.due(contact, days)
        raiser = rng.choice(users) if rng.random() < 0.4 else None
        state, unit, answered_at, reopens, closed_at = "registered", None, None, 0, None
        events.append((cid, _stamp(contact, 9), clerk, "opened", None, "registered", ""))
        refer = cal.due(contact, 1 if rng.random() < 0.85 else rng.randint(2, 5))
        if refer < today and rng.random() < 0.95:
            unit, state = rng.choice(units), "referred"
            events.append((cid, _stamp(refer, 10), clerk, "referred", "registered", "referred", "转办"))
            answer_day = cal.due(refer, rng.randint(1, days + (2 if rng.random() < 0.12 else -1)))
            seq = 0
            while answer_day < today and seq < 3 and rng.random() < 0.93:
                seq += 1
                answer_id += 1
                answered_at = _stamp(answer_day, 16)
                answers.append((answer_id, cid, seq, "已落实", answered_at, clerk))
                events.append((cid, answered_at, clerk, "answered", state, "answered", "已落实"))
                state = "answered"
                rating = rng.choices([r for r, _ in RATINGS], weights=weights)[0]
                by_raiser = raiser is not None and rng.random() < 0.6
                day = cal.due(answer_day, rng.randint(1, 4) if by_raiser else rng.randint(6, 9))
                if day >= today or (not by_raiser and rng.random() < 0.25):
                    break  # 待评价 or 未评价
                via = "raiser" if by_raiser else "followup"
                outcome = "closed" if rating != "unsatisfied" else ("reopened" if seq == 1 else "supervised")
                ratings.append(
                    (
                        cid,
                        answer_id,
                        rating,
                        via,
                        None if by_raiser else "phone",
                        None if by_raiser else day.isoformat(),
                        outcome,
                        raiser if by_raiser else clerk,
                        _stamp(day, 18),
                    )
                )
                if rating != "unsatisfied":
                    state, closed_at = "closed", _stamp(day, 18)
                    break
                reopens += 1
                state = "in_progress"
                due = cal.due(day, days)
                events.append((cid, _stamp(day, 18), clerk, "reopened", "answered", "in_progress", "不满意"))
                answer_day = cal.due(day, rng.randint(2, 5))
        cases.append(
            (
                cid,
                f"{YEAR}-B{cid:06d}",
                source,
                cadre := rng.choice(cadres),
                raiser,
                "食堂、宿舍、实验室条件改善的建议",
                rng.choice(depts),
                unit,
                state,
                contact.isoformat(),
                days,
                due.isoformat(),
                "已落实" if answered_at else "",
                answered_at,
                closed_at,
                reopens,
                _stamp(contact, 9),
                _stamp(today, 9),
            )
        )
        del cadre
    with write(db):
        db.conn.executemany(
            "INSERT INTO cases (id, number, source, cadre_id, raised_by, content, responsible_dept, handling_unit_id, "
            "state, contact_date, deadline_days, due_date, answer, answered_at, closed_at, reopen_count, created_at, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            cases,
        )
        db.conn.executemany(
            "INSERT INTO case_events (case_id, at, user_id, action, from_state, to_state, note) VALUES (?, ?, ?, ?, ?, ?, ?)",
            events,
        )
        db.conn.executemany(
            "INSERT INTO case_answers (id, case_id, seq, body, at, user_id) VALUES (?, ?, ?, ?, ?, ?)",
            answers,
        )
        db.conn.executemany(
            "INSERT INTO case_ratings (case_id, answer_id, rating, via, method, held_at, outcome, user_id, at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ratings,
        )
    db.execute("ANALYZE")


def timed(label: str, func):
    """Run ``func`` once; print its wall time and this process's CPU time (SQLite runs in the process: on
    a machine shared with other work the CPU time is what the computation costs)."""
    wall, cpu = time.perf_counter(), time.process_time()
    value = func()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{label:<52} {wall * 1000:7.0f} ms wall {cpu * 1000:7.0f} ms CPU")
    return value, (wall, cpu)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=20000)
    parser.add_argument("--scale", type=int, default=6)
    parser.add_argument("--db", type=Path, help="keep the generated university here (reused when it exists)")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.cases, args.scale = 3000, 2
    path = args.db or Path(tempfile.mkdtemp()) / "kpi.sqlite3"
    fresh = not path.exists()
    with open_db(path) as db:
        if fresh:
            started = time.perf_counter()
            demo.build(db, seed=1, scale=args.scale)
            add_cases(db, args.cases)
            print(f"built in {time.perf_counter() - started:.0f} s")
        since, until = dt.date(YEAR, 1, 1), dt.date(YEAR, 12, 31)
        n = db.execute(
            "SELECT count(*) FROM cases WHERE contact_date BETWEEN ? AND ?",
            [since.isoformat(), until.isoformat()],
        ).fetchone()[0]
        sizes = {
            "cadres": db.execute("SELECT count(DISTINCT person_id) FROM cadre_posts").fetchone()[0],
            "units": db.execute("SELECT count(*) FROM units").fetchone()[0],
            "answers": db.execute("SELECT count(*) FROM case_answers").fetchone()[0],
            "ratings": db.execute("SELECT count(*) FROM case_ratings").fetchone()[0],
            "events": db.execute("SELECT count(*) FROM case_events").fetchone()[0],
        }
        print(f"{YEAR}: {n:,} cases; " + ", ".join(f"{v:,} {k}" for k, v in sizes.items()))
        worst = (0.0, 0.0)
        for by in ("department", "unit", "cadre", "month"):
            report, took = timed(
                f"kpis.compute {YEAR}, whole university, by {by}",
                lambda by=by: kpis.compute(db, by=by, since=since, until=until),
            )
            worst = (max(worst[0], took[0]), max(worst[1], took[1]))
        t = report.total
        print("  " + "，".join(f"{kpis.RATE_LABELS[k]} {r.text}" for k, r in t.rates.items()))
        _, took = timed(
            "one department (党办), by unit",
            lambda: kpis.compute(db, by="unit", since=since, until=until, department="党办"),
        )
        worst = (max(worst[0], took[0]), max(worst[1], took[1]))
        _, four = timed(
            "工作台账 (whole university): its four groupings in one pass",
            lambda: kpis.reports(db, ("department", "unit", "cadre", "month"), since=since, until=until),
        )
    ok = worst[1] < 1.0  # the CPU: on a shared machine the wall time includes waiting for others
    print(
        f"target: each computation of a whole university's year < 1 s CPU: {'ok' if ok else 'MISSED'} "
        f"(slowest {worst[1] * 1000:.0f} ms CPU and {worst[0] * 1000:.0f} ms wall; the ledger's four together "
        f"{four[0] * 1000:.0f} ms wall, {four[1] * 1000:.0f} ms CPU; load average {os.getloadavg()[0]:.1f})"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
