"""Quota engine benchmark: ``python bench/quota_bench.py [--scale 6] [--per-cadre 300] [--keep FILE]``.

Builds the demo university at a scale with ≥1,000 cadres, adds bulk-generated activities over
three academic years (2023-09-01 … 2026-08-31, ≥300,000 rows, with targets and counterparts
where the rules read them), then measures in the same run:

* the whole-university report for academic year 2025-2026 (every cadre × rule × period
  overlapping it) — target < 1 s and within 3× of the SQL aggregation below;
* one hand-written SQL aggregation over the same rows (counts and hours per cadre, system,
  subtype and month over the same date range);
* one cadre's dashboard data (``quota.dashboard``) — target < 50 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("PORTAL_TODAY", "2026-08-31")

from portal import demo, quota  # noqa: E402
from portal.db import open_db, write  # noqa: E402
from portal.policy import policy  # noqa: E402

FIRST, LAST = dt.date(2023, 9, 1), dt.date(2026, 8, 31)
ON, SINCE = dt.date(2026, 8, 31), dt.date(2025, 9, 1)
TARGET_SYSTEMS = {
    ("联系基层", "联系学院"): "联系学院",
    ("联系基层", "联系点"): "联系点",
    ("联系基层", "结对子"): "结对子",
    ("联系师生党支部", "组织生活"): "党支部",
    ("联系高层次人才", "走访"): "高层次人才",
    ("联系党外代表人士", "交流谈心"): "党外代表人士",
    ("联系离退休老同志", "走访"): "离退休老同志",
}


def bulk_activities(db, per_cadre: int, seed: int = 7) -> int:
    """About ``per_cadre`` activities per cadre over three academic years, spread over the systems."""
    rng = random.Random(seed)
    kinds = [(s.name, t) for s in policy().systems for t in s.subtypes if s.name != "接待日"]
    cadres = [r[0] for r in db.execute("SELECT DISTINCT person_id FROM cadre_posts ORDER BY person_id")]
    staff = [
        r[0] for r in db.execute("SELECT staff_no FROM people p JOIN cadre_posts c ON c.person_id = p.id")
    ]
    held: dict[tuple[int, str], list[str]] = {}
    for cadre_id, kind, code in db.execute("SELECT cadre_id, kind, target_code FROM assignments"):
        held.setdefault((cadre_id, kind), []).append(code)
    span = (LAST - FIRST).days
    next_id = (db.execute("SELECT max(id) FROM activities").fetchone()[0] or 0) + 1
    stamp = "2026-08-31T12:00:00+08:00"
    rows, targets = [], []
    for cadre_id in cadres:
        for _ in range(per_cadre):
            system, subtype = rng.choice(kinds)
            day = FIRST + dt.timedelta(days=rng.randrange(span + 1))
            hours = rng.choice((1.0, 2.0)) if subtype == "思政课授课" else 0.0
            rows.append(
                (next_id, cadre_id, system, subtype, day.isoformat(), hours, "批量生成", stamp, stamp)
            )
            kind = TARGET_SYSTEMS.get((system, subtype))
            if kind and held.get((cadre_id, kind)):
                targets.append((next_id, rng.choice(held[(cadre_id, kind)])))
            elif system == "谈心谈话":
                targets.append((next_id, rng.choice(staff)))
            next_id += 1
    with write(db):
        db.conn.executemany(
            "INSERT INTO activities (id, cadre_id, system, subtype, date, hours, content, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        db.conn.executemany(
            "INSERT OR IGNORE INTO activity_targets (activity_id, target_code) VALUES (?, ?)", targets
        )
    db.execute("ANALYZE")
    return len(rows)


def timed(fn, repeat: int) -> tuple[float, float, object]:
    """Median wall-clock and median CPU seconds of ``repeat`` runs (the CPU figure is what the
    code costs; wall clock also counts waiting for the other processes on a shared machine)."""
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        result = fn()
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
    return statistics.median(walls), statistics.median(cpus), result


SQL = """
SELECT a.cadre_id, a.system, a.subtype, substr(a.date, 1, 7) AS month, count(*) AS n, sum(a.hours) AS hours
FROM activities a
WHERE a.voided_at IS NULL AND a.date BETWEEN ? AND ?
GROUP BY a.cadre_id, a.system, a.subtype, month
"""
SQL_SCAN = SQL.replace("FROM activities a", "FROM activities a NOT INDEXED")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=6, help="demo scale (6 gives ≥1,000 cadres)")
    parser.add_argument("--per-cadre", type=int, default=300, help="bulk activities per cadre")
    parser.add_argument("--keep", help="keep the database at this path")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    path = Path(args.keep) if args.keep else Path(tempfile.mkdtemp()) / "quota_bench.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    with open_db(path) as db:
        t0 = time.perf_counter()
        demo.build(db, seed=1, scale=args.scale)
        added = bulk_activities(db, args.per_cadre)
        build_s = time.perf_counter() - t0
        cadres = db.execute("SELECT count(DISTINCT person_id) FROM cadre_posts").fetchone()[0]
        total = db.execute("SELECT count(*) FROM activities").fetchone()[0]
        print(f"data: {cadres} cadres, {total:,} activities ({added:,} bulk), built in {build_s:.1f} s")

        print(f"load average before measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        quota.compute(db, since=SINCE, on=ON)  # warm the caches a server would have warm
        report_s, report_cpu, results = timed(lambda: quota.compute(db, since=SINCE, on=ON), args.repeat)
        lo = min(r.start for r in results).isoformat()
        # the baseline: the same rows aggregated in one statement, as the planner likes it and as one table scan
        sql_s, sql_cpu, rows = min(
            timed(lambda: db.execute(SQL, [lo, ON.isoformat()]).fetchall(), args.repeat),
            timed(lambda: db.execute(SQL_SCAN, [lo, ON.isoformat()]).fetchall(), args.repeat),
            key=lambda t: t[1],
        )
        print(
            f"whole-university report 2025-2026: {report_s * 1000:.0f} ms wall, {report_cpu * 1000:.0f} ms CPU "
            f"for {len(results):,} results"
        )
        print(
            f"hand-written SQL aggregation over the same rows ({lo} … {ON}): {sql_s * 1000:.0f} ms wall, "
            f"{sql_cpu * 1000:.0f} ms CPU, {len(rows):,} rows"
        )
        ratio, ratio_cpu = report_s / sql_s, report_cpu / sql_cpu
        print(f"ratio report / SQL: {ratio:.2f}× wall, {ratio_cpu:.2f}× CPU (target ≤ 3×)")
        print(
            f"report under 1 s: wall {'yes' if report_s < 1 else 'NO'}, CPU {'yes' if report_cpu < 1 else 'NO'}"
        )

        someone = db.execute(
            "SELECT cadre_id FROM activities GROUP BY cadre_id ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()[0]
        dash_s, dash_cpu, dash = timed(lambda: quota.dashboard(db, someone, on=ON), max(args.repeat, 20))
        print(
            f"one cadre's dashboard data: {dash_s * 1000:.1f} ms wall, {dash_cpu * 1000:.1f} ms CPU "
            f"({len(dash.results)} results, {sum(m['count'] for m in dash.monthly)} activities charted) (target < 50 ms)"
        )
        ok = report_cpu < 1 and ratio_cpu <= 3 and dash_cpu < 0.05
        print("PASS (CPU time)" if ok else "FAIL")
    if not args.keep:
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)


if __name__ == "__main__":
    main()
