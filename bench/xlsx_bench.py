"""Excel export benchmark: ``python bench/xlsx_bench.py [--quick] [--db FILE]``.

Builds the quota benchmark's university (≥1,000 cadres, ≥300,000 activities; ``--quick``: a
small one), then, in the same run, for the whole-university 工作台账 of academic year 2025-2026
and the 2026 年度考核:

* times ``ledger.export_xlsx`` / ``assessment.export_xlsx`` (wall and CPU, the machine is shared);
* times plain openpyxl write-only mode writing the same cells (values only, no layout) — the
  floor; target: each export within 1.5× of it;
* the peak RSS of a process that only runs the export (forked after the data is loaded, so it
  counts the data too) — target < 500 MB.

``--db FILE`` keeps the generated database there and reuses it on the next run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("PORTAL_TODAY", "2026-08-31")

from openpyxl import Workbook, load_workbook  # noqa: E402
from quota_bench import bulk_activities  # noqa: E402

from portal import accounts, assessment, demo, ledger  # noqa: E402
from portal.db import open_db  # noqa: E402

SINCE, UNTIL, YEAR = dt.date(2025, 9, 1), dt.date(2026, 8, 31), 2026
RATIO_TARGET, RSS_TARGET_MB = 1.5, 500


def timed(fn) -> tuple[float, float, object]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def cells_of(data: bytes) -> list[tuple[str, list[tuple]]]:
    wb = load_workbook(io.BytesIO(data), read_only=True)
    return [(ws.title, [tuple(r) for r in ws.iter_rows(values_only=True)]) for ws in wb.worksheets]


def plain_write_only(sheets: list[tuple[str, list[tuple]]]) -> bytes:
    """The floor: the same values written by openpyxl's write-only mode, no layout at all."""
    wb = Workbook(write_only=True)
    for title, rows in sheets:
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _child(fn, queue) -> None:
    fn()
    queue.put(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def peak_rss_mb(fn) -> float:
    """Peak RSS (MB) of a forked process running ``fn`` (the data already loaded is counted)."""
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(fn, queue))
    proc.start()
    peak = queue.get()
    proc.join()
    return peak


def compare(name: str, export) -> bool:
    wall, cpu, data = timed(export)
    sheets = cells_of(data)
    n = sum(len(r) for _, rows in sheets for r in rows)
    base_wall, base_cpu, _ = timed(lambda: plain_write_only(sheets))
    rss = peak_rss_mb(export)
    ratio_wall, ratio_cpu = wall / base_wall, cpu / base_cpu
    print(
        f"{name}: {n:,} cells, {len(data) / 1e6:.1f} MB; export {wall:.2f} s wall / {cpu:.2f} s CPU; "
        f"plain write-only {base_wall:.2f} s wall / {base_cpu:.2f} s CPU"
    )
    print(
        f"  ratio {ratio_wall:.2f}× wall, {ratio_cpu:.2f}× CPU (target ≤ {RATIO_TARGET}×); "
        f"peak RSS of the exporting process {rss:.0f} MB (target < {RSS_TARGET_MB} MB)"
    )
    return ratio_cpu <= RATIO_TARGET and rss < RSS_TARGET_MB


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small university (smoke run)")
    parser.add_argument("--db", help="keep the database at this path (reused when it exists)")
    args = parser.parse_args()
    scale, per_cadre = (1, 30) if args.quick else (6, 300)
    path = Path(args.db) if args.db else Path(tempfile.mkdtemp()) / "xlsx_bench.sqlite3"
    fresh = not path.exists()
    with open_db(path) as db:
        if fresh:
            t0 = time.perf_counter()
            demo.build(db, seed=1, scale=scale)
            bulk_activities(db, per_cadre)
            print(f"built in {time.perf_counter() - t0:.0f} s")
        cadres = db.execute("SELECT count(DISTINCT person_id) FROM cadre_posts").fetchone()[0]
        total = db.execute("SELECT count(*) FROM activities").fetchone()[0]
        print(f"data: {cadres:,} cadres, {total:,} activities; load average {os.getloadavg()[0]:.1f}")
        admin = accounts.find_user(db, "admin")
        book = ledger.build(db, admin, since=SINCE, until=UNTIL)
        result = assessment.assess(db, YEAR, on=UNTIL)

    def ledger_export() -> bytes:
        with open_db(path) as db:  # the workbook reads its rows as it writes them
            return ledger.export_xlsx(db, book)

    ok = compare(f"工作台账（全校）{book.total:,} activities", ledger_export)
    ok &= compare(f"{YEAR}年度考核 {len(result.cadres):,} cadres", lambda: assessment.export_xlsx(result))
    print("PASS (CPU time)" if ok else "FAIL")
    if not args.db:
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
