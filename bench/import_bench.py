"""Reading and importing a 100,000-row activities sheet: `python bench/import_bench.py [--quick]`.

Builds the seed-1 demo in a temporary folder and an .xlsx of 100,000 activities (听课 by the demo's
cadres over two years; `--quick`: 20,000), then, each in a fresh child process so that peak memory
is its own:

* reading the sheet with ``portal.tabular.read_sheet`` (time, peak RSS added while reading), against
  openpyxl's read-only mode — what the importer used before (time, peak RSS);
* an .xlsx "element bomb" (tests/hostile.py: 440 KB, one row of ten million empty cells): refused,
  how fast, peak RSS added;
* ``imports.prepare`` (read + validate + preview counts: no transaction) and ``imports.commit``
  (the one write transaction: how long other writers would wait).

Targets: reading stays bounded in memory (well under 1 GB for 100k rows) and the write transaction
of a 100k-row import is short (< 5 s; other users' writes wait that long at most, once).
"""

from __future__ import annotations

import datetime as dt
import io
import multiprocessing as mp
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PORTAL_TODAY", "2026-11-24")
os.environ.setdefault("PORTAL_MAX_UPLOAD_BYTES", str(64 * 1024 * 1024))

from portal import demo, imports, tabular  # noqa: E402
from portal.db import open_db  # noqa: E402
from portal.errors import ImportRejected  # noqa: E402

COLUMNS = [
    "工号",
    "制度",
    "类别",
    "日期",
    "地点",
    "联系对象",
    "对象编号",
    "课时",
    "开展情况",
    "意见建议",
    "落实情况",
]


def activities_xlsx(staff: list[str], rows: int) -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet()
    ws.append(COLUMNS)
    first = dt.datetime(2024, 11, 25)
    for i in range(rows):
        day = first + dt.timedelta(days=i % 720)
        ws.append(
            [
                staff[i % len(staff)],
                "听课",
                "听课",
                day,
                f"第{i % 9 + 1}教学楼 {i % 500 + 100}",
                f"{2022 + i % 4}级本科生",
                "",
                None,
                f"随堂听课第 {i} 次：课堂秩序良好，教师讲授认真，学生参与积极。",
                "建议增加实验课时" if i % 7 == 0 else "",
                "已反馈教务处" if i % 7 == 0 else "",
            ]
        )
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _child(task: str, data: bytes, path: str, out) -> None:
    before = _rss_mb()
    started = time.perf_counter()
    extra = ""
    if task == "portal":
        sheet = tabular.read_sheet("activities.xlsx", data)
        rows = len(sheet.rows)
    elif task == "bomb":
        try:
            tabular.read_sheet("bomb.xlsx", data)
            extra = "READ (not refused)"
        except ImportRejected as exc:
            extra = exc.message
        rows = 0
    elif task == "openpyxl":
        from openpyxl import load_workbook

        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        table = [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
        rows = len(table) - 1
    else:  # import: prepare, then commit
        with open_db(path) as db:
            prepared = imports.prepare(db, "activities", "activities.xlsx", data)
            prepare_s = time.perf_counter() - started
            at = time.perf_counter()
            report = imports.commit(db, prepared)
            commit_s = time.perf_counter() - at
            extra = (
                f"prepare {prepare_s:.1f} s (reads only), commit {commit_s:.1f} s: staged in short transactions of "
                f"{imports.ActivityImporter.STAGE_ROWS:,} rows, then the final write transaction "
                f"{report.write_seconds:.2f} s; "
            )
            extra += report.summary()
            rows = prepared.rows
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out.put((rows, seconds, peak - before, extra))


def measure(task: str, data: bytes, path: str = "") -> tuple[int, float, float, str]:
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    proc = ctx.Process(target=_child, args=(task, data, path, out))
    proc.start()
    result = out.get(timeout=1800)
    proc.join()
    return result


def main(argv: list[str]) -> int:
    rows = 20_000 if "--quick" in argv else 100_000
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "bench.sqlite3")
        with open_db(path) as db:
            demo.build(db, seed=1)
            staff = [
                r[0]
                for r in db.execute(
                    "SELECT DISTINCT p.staff_no FROM people p JOIN cadre_posts c ON c.person_id = p.id"
                )
            ]
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        started = time.perf_counter()
        data = activities_xlsx(staff, rows)
        print(
            f"sheet: {rows:,} activities, {len(data) / 1024 / 1024:.1f} MB .xlsx (made in {time.perf_counter() - started:.0f} s)"
        )
        n, secs, mem, _ = measure("portal", data)
        print(f"read (portal.tabular, streaming):  {n:,} rows in {secs:.1f} s, peak RSS +{mem:.0f} MB")
        ok = n == rows
        n2, secs2, mem2, _ = measure("openpyxl", data)
        print(f"read (openpyxl read-only, before): {n2:,} rows in {secs2:.1f} s, peak RSS +{mem2:.0f} MB")
        from tests.hostile import xlsx_element_bomb

        bomb = xlsx_element_bomb()
        _, secs_b, mem_b, said = measure("bomb", bomb)
        refused = said.startswith("文件过大")
        print(
            f"element bomb ({len(bomb) / 1024:.0f} KB .xlsx, one row of 10,000,000 empty cells): "
            f"{'refused' if refused else 'NOT refused'} in {secs_b:.2f} s, peak RSS +{mem_b:.0f} MB ({said})"
        )
        n3, secs3, mem3, extra = measure("import", data, path)
        print(f"import: {secs3:.1f} s in all, peak RSS +{mem3:.0f} MB; {extra}")
        commit_s = float(extra.split("final write transaction ")[1].split(" s")[0]) if extra else 99
        print(
            f"targets: reading bounded (< 1,000 MB: {'met' if mem < 1000 else 'MISSED'}); "
            f"the bomb refused within 1 s and 50 MB ({'met' if refused and secs_b < 1 and mem_b < 50 else 'MISSED'}); "
            f"final write transaction < 5 s ({'met' if commit_s < 5 else 'MISSED'})"
        )
        bomb_ok = refused and secs_b < 1 and mem_b < 50
        return 0 if ok and mem < 1000 and commit_s < 5 and bomb_ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
