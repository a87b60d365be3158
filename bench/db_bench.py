"""Connection set-up benchmark: ``python bench/db_bench.py [--quick]``.

Every page rerun and every request opens its own connection (``open_db()``: connections never
cross threads), so the set-up is paid on each. Measured on a migrated database:

* statements run by ``open_db()`` before the caller's first query — target ≤ 3 (per-connection
  pragmas only; WAL and the migration check are done once per file per process);
* the time of one ``open_db()`` (connect, set up, close), median and p95 — target < 1 ms median.

Measured in November 2026 (old and new ``open_db`` interleaved in one process, 6 × 1,500 opens
with one query each): 10 set-up statements → 3, but about 0.8 ms either way: the time goes to
SQLite opening the file and, when the last connection closes, checkpointing and removing the
WAL, not to the statements.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from portal.db import open_db  # noqa: E402
from tests.core.test_db import statements_of_open  # noqa: E402

TARGET_STATEMENTS = 3
TARGET_MEDIAN_MS = 1.0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    args = parser.parse_args(argv)
    rounds = 500 if args.quick else 5000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.sqlite3"
        with open_db(path):  # create and migrate
            pass
        statements = statements_of_open(path)
        times = []
        for _ in range(rounds):
            started = time.perf_counter()
            with open_db(path) as db:
                pass
            times.append((time.perf_counter() - started) * 1000)
        del db
    times.sort()
    median = statistics.median(times)
    p95 = times[int(len(times) * 0.95)]
    print(f"set-up statements per open_db(): {len(statements)} (target ≤ {TARGET_STATEMENTS})")
    for sql in statements:
        print(f"    {sql.strip()[:90]}")
    print(
        f"open_db() on a migrated file, {rounds} rounds: median {median:.3f} ms, p95 {p95:.3f} ms "
        f"(target median < {TARGET_MEDIAN_MS} ms)"
    )
    ok = len(statements) <= TARGET_STATEMENTS and median < TARGET_MEDIAN_MS
    print("within target" if ok else "OUTSIDE TARGET")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
