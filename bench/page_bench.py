"""The heavy pages at a whole university's scale: ``python bench/page_bench.py [--db FILE] [--code DIR]``.

Builds (or reuses with ``--db``; kept there for the next run) the quota benchmark's university —
≥ 1,000 cadres, ≥ 300,000 activities over three academic years, ≥ 5,000 cases, ≥ 3,000 accounts —
starts ``portal serve`` on it, and opens each heavy page as an administrator over Streamlit's own
WebSocket protocol (``tests/stclient.py``, what a browser tab sends), one fresh tab per page. For each page:

* first load (the tab's first run of the page): target < 1 s; and the load by a second session right after
  (results cached per arguments, today and data stamp are shared);
* a widget change (the widget named below; a fragment's widget reruns its fragment only): target < 300 ms;
* the server's CPU for the load, and its RSS growth while the tab stays open: target < 100 MB a session.

Pages are measured once the server is idle: on a freshly built university it first indexes 360,000
records for search in a background thread (as after any bulk import); the wait is printed.

``PORTAL_TODAY`` is 2026-08-31 (the end of the generated data). ``--code DIR`` serves another checkout
(e.g. ``/work/main``) for before/after figures. Wall-clock figures on a shared machine include waiting
for the other processes: the server CPU column is what the page costs.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ["PORTAL_TODAY"] = "2026-08-31"

from quota_bench import bulk_activities  # noqa: E402
from rush_bench import cpu_seconds, rss_mb, server  # noqa: E402

from portal import accounts, case_opening, cases, config, demo, sessions  # noqa: E402
from portal.db import open_db, write  # noqa: E402
from portal.policy import policy  # noqa: E402
from tests.stclient import Tab  # noqa: E402

# (page, title, the widget changed, how to pick its new value from the options)
PAGES = [
    ("assessment", "年度考核", "单位报告", lambda opts: opts[len(opts) // 2]),
    ("ledger", "工作台账（全校）", "汇总方式", lambda opts: opts[-1]),
    ("cases", "意见建议办理", None, None),
    ("activities", "联系活动记录", "制度", lambda opts: opts[2]),
    ("admin_users", "账号管理", None, None),
]


def build(path: Path) -> None:
    with open_db(path) as db:
        started = time.perf_counter()
        demo.build(db, seed=1, scale=6)
        bulk_activities(db, 300)
        rng = random.Random(7)
        cadres = [r[0] for r in db.execute("SELECT person_id FROM cadre_posts")]
        depts = policy().departments
        with write(db):
            for _ in range(4000):
                case_opening.open_case(
                    db,
                    source=rng.choice(cases.SOURCES),
                    content="食堂、宿舍、实验室条件改善的建议" * rng.randint(1, 4),
                    responsible_dept=rng.choice(depts),
                    contact_date=dt.date(2025, 9, 1) + dt.timedelta(days=rng.randint(0, 360)),
                    cadre_id=rng.choice(cadres),
                )
        db.execute("ANALYZE")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        print(f"built in {time.perf_counter() - started:.0f} s")


def describe(path: Path) -> str:
    with open_db(path) as db:
        n = {
            t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("activities", "cases", "users")
        }
        cadres = db.execute("SELECT count(DISTINCT person_id) FROM cadre_posts").fetchone()[0]
    return f"{cadres:,} cadres, {n['activities']:,} activities, {n['cases']:,} cases, {n['users']:,} accounts"


def settle(pid: int, limit: float = 300.0) -> float:
    """Wait until the server is idle (under 5 % of a core over half a second): a freshly built
    university is indexed for search by a background thread at start — a one-off after a bulk
    import, not what a page costs. Returns the seconds waited."""
    started = time.perf_counter()
    while time.perf_counter() - started < limit:
        before = cpu_seconds(pid)
        time.sleep(0.5)
        if cpu_seconds(pid) - before < 0.025:
            break
    return time.perf_counter() - started


def admin_cookie(path: Path) -> str:
    with open_db(path) as db:
        _, claim = sessions.start(db, accounts.find_user(db, "admin").id)
        return f"{config.SESSION_COOKIE}={sessions.claim(db, claim)}"


async def measure(url: str, pid: int, cookie: str) -> list[tuple]:
    rows = []
    for page, title, widget, pick in PAGES:
        tab = Tab(url, cookie, page)
        rss0, cpu0 = rss_mb(pid), cpu_seconds(pid)
        try:
            first = await tab.open(timeout=600)
        except Exception as exc:  # noqa: BLE001 - a page that never answers is a figure too
            rows.append((title, None, None, None, None, None, f"{exc!r}"[:80]))
            continue
        load_cpu = cpu_seconds(pid) - cpu0
        failed = [e for e in first.errors if "意外错误" in e or "系统繁忙" in e or "权限" in e]
        problem = first.exception or (failed[0] if failed else "")
        change = None
        if widget and widget in tab.widgets:
            options = tab.widgets[widget].options
            tab.set(widget, pick(options))
            change = (await tab.rerun(timeout=600)).seconds
        elif widget:
            problem = problem or f"no widget {widget}"
        rss = rss_mb(pid) - rss0
        # another session opening the same page next (what the cache is for)
        other = Tab(url, cookie, page)
        again = (await other.open(timeout=600)).seconds
        await other.close()
        rows.append((title, first.seconds, load_cpu, again, change, rss, problem[:80]))
        await asyncio.sleep(
            0.5
        )  # the first tab stays open (its session kept) while the next page is measured
    return rows


def main(argv: list[str]) -> int:
    code = Path(argv[argv.index("--code") + 1]).resolve() if "--code" in argv else None
    path = (
        Path(argv[argv.index("--db") + 1]) if "--db" in argv else Path(tempfile.mkdtemp()) / "pages.sqlite3"
    )
    if not path.exists():
        build(path)
    print(f"data: {describe(path)}; today {os.environ['PORTAL_TODAY']}; code: {code or ROOT}")
    print(
        f"(a shared machine, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs: wall times include waiting)"
    )
    cookie = admin_cookie(path)
    with server(str(path), code) as running:
        waited = settle(running.pid)
        print(
            f"server idle {waited:.1f} s after it answered (its start-up work: migrations, the search index)"
        )
        rss_start = rss_mb(running.pid)
        rows = asyncio.run(measure(running.base, running.pid, cookie))
        rss_end = rss_mb(running.pid)
    ok = True
    print(
        f"{'page':<18}{'first load':>12}{'server CPU':>12}{'2nd session':>13}{'widget change':>15}{'RSS growth':>12}  note"
    )
    for title, load, cpu, again, change, rss, problem in rows:
        fmt = lambda v, unit="s": "—" if v is None else f"{v:.2f} {unit}"  # noqa: E731
        print(
            f"{title:<18}{fmt(load):>12}{fmt(cpu):>12}{fmt(again):>13}{fmt(change):>15}{fmt(rss, 'MB'):>12}  {problem}"
        )
        ok = ok and load is not None and load < 1 and (change is None or change < 0.3) and (rss or 0) < 100
        ok = ok and not problem
    print(f"server RSS: {rss_start:.0f} MB at start, {rss_end:.0f} MB with {len(rows)} sessions open")
    print(
        "targets: first load < 1 s, widget change < 300 ms, RSS < 100 MB a session —",
        "PASS" if ok else "FAIL",
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
