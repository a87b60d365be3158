"""Search benchmark: ``python bench/search_bench.py [--scale 6] [--per-cadre 300] [--quick]``.

Builds the quota benchmark's university (≥1,000 cadres, ≥300,000 activities) with Chinese text in
the activities (about 1 % mention 食堂), then measures in the same run:

* building the search index from nothing (what the first search after an upgrade pays);
* searching as an administrator and as a department: 食堂 (two characters — FTS5's trigram
  tokenizer cannot find it), 食堂 晚餐 (two terms), a case number; target < 300 ms each;
* the same two-character word by ``LIKE '%食堂%'`` over the activities' text, for comparison;
* indexing one changed activity (what every search pays after a write).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from quota_bench import bulk_activities  # noqa: E402

from portal import accounts, activities, demo, search  # noqa: E402
from portal.db import open_db, write  # noqa: E402

WORDS = [
    "教学",
    "实验室",
    "图书馆",
    "宿舍",
    "就业",
    "科研",
    "经费",
    "课程",
    "考试",
    "奖学金",
    "网络",
    "体育馆",
]
VERBS = ["希望改善", "建议增加", "反映不足", "需要协调", "已经落实", "正在推进"]


def sentence(rng: random.Random) -> str:
    parts = [f"{rng.choice(WORDS)}{rng.choice(VERBS)}" for _ in range(rng.randint(3, 8))]
    if rng.random() < 0.01:
        parts.insert(rng.randrange(len(parts) + 1), "食堂晚餐供应时间偏短")
    return "，".join(parts) + "。"


def timed(fn, repeat: int = 5) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=6)
    parser.add_argument("--per-cadre", type=int, default=300)
    parser.add_argument("--quick", action="store_true", help="scale 1, 50 activities per cadre")
    args = parser.parse_args()
    if args.quick:
        args.scale, args.per_cadre = 1, 50
    path = Path(tempfile.mkdtemp()) / "search_bench.sqlite3"
    rng = random.Random(3)
    with open_db(path) as db:
        demo.build(db, seed=1, scale=args.scale)
        bulk_activities(db, args.per_cadre)
        with write(db):
            ids = [r[0] for r in db.execute("SELECT id FROM activities WHERE content = '批量生成'")]
            db.conn.executemany(
                "UPDATE activities SET content = ?, opinions = ? WHERE id = ?",
                [(sentence(rng), sentence(rng) if rng.random() < 0.3 else "", i) for i in ids],
            )
        total = db.execute("SELECT count(*) FROM activities").fetchone()[0]
        print(f"data: {total:,} activities, {db.execute('SELECT count(*) FROM cases').fetchone()[0]:,} cases")

        t = time.perf_counter()
        indexed = search.rebuild(db)
        print(f"index built from nothing: {indexed:,} documents in {time.perf_counter() - t:.1f} s")

        admin = accounts.find_user(db, "admin")
        dept = accounts.find_user(db, "dangban")
        number = db.execute("SELECT number FROM cases LIMIT 1").fetchone()[0]
        ok = True
        for who, user in (("admin", admin), ("党办", dept)):
            for query in ("食堂", "食堂 晚餐", number):
                seconds, found = timed(lambda q=query, u=user: search.search(db, u, q))
                ok &= seconds < 0.3
                print(
                    f"search {query!r} as {who}: {seconds * 1000:.0f} ms "
                    f"({found.activity_total:,} activities, {found.case_total:,} cases) (target < 300 ms)"
                )
        like_s, like_n = timed(
            lambda: db.execute(
                "SELECT count(*) FROM activities WHERE content LIKE '%食堂%' OR opinions LIKE '%食堂%' "
                "OR followup LIKE '%食堂%'"
            ).fetchone()[0]
        )
        print(
            f"LIKE '%食堂%' over the activities' text, for comparison: {like_s * 1000:.0f} ms ({like_n:,} rows)"
        )

        one = activities.list_activities(db, admin, limit=1)[0]
        with write(db):  # as any write path would: the trigger queues the row
            db.execute("UPDATE activities SET followup = '食堂问题已协调解决' WHERE id = ?", [one.id])
        t = time.perf_counter()
        search.refresh(db)
        print(f"indexing one changed activity: {(time.perf_counter() - t) * 1000:.1f} ms")
        print("PASS" if ok else "FAIL")
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
