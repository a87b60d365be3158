"""100 people log in at the same moment: `python bench/login_bench.py [--quick] [--users N]`.

Starts a real `portal serve` on a fresh database with N accounts (100; 20 with ``--quick``;
``tests/live.server``), opens N browser sessions over Streamlit's own WebSocket protocol
(``tests/stclient.py``: what the browser's JavaScript does: the login page's form, typed name and
password, 登录), waits until every session shows the login form, then submits all N logins at
once. Samples the server's resident memory (RSS) every 20 ms and prints: logins that succeeded /
were asked to retry / failed, latency from the click to the logged-in page (p50/p95/max), and the
server's RSS idle (after one warm-up login) and at peak. The machine's load average is printed
too: latency on a shared machine says little on its own.

Target (issue 10, item 9): 100 logins at once keep server RSS under +500 MB (peak − idle).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PORTAL_TODAY", "2026-11-24")

from portal import accounts  # noqa: E402
from portal.db import open_db  # noqa: E402
from tests.live import server  # noqa: E402
from tests.stclient import Tab  # noqa: E402

PASSWORD = "bench1234"
TARGET_MB = 500


def build_db(path: Path, users: int) -> None:
    with open_db(path) as db:
        stored = accounts.hash_password(PASSWORD)  # one hash, like the demo: building stays fast
        for i in range(-1, users):  # b-001 warms the server up
            accounts.create_user(db, f"b{i:04d}", f"用户{i}", None, [accounts.Role(role="visitor")])
        db.execute("UPDATE users SET password_hash = ?", [stored])
        db.conn.commit()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Sampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop = pid, 0.0, threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.peak = max(self.peak, rss_mb(self.pid))
            time.sleep(0.02)


USERNAME, PASSWORD_LABEL, SUBMIT = "账号（工号或学号）", "密码", "登录"  # pages/login.py's form


class Visitor:
    """One browser session on the login page."""

    def __init__(self, base: str, username: str) -> None:
        self.tab, self.username = Tab(base), username

    async def open(self) -> None:
        await self.tab.open()
        assert {USERNAME, PASSWORD_LABEL, SUBMIT} <= set(self.tab.widgets), "the login form was not found"

    async def login(self) -> tuple[str, float]:
        self.tab.set(USERNAME, self.username)
        self.tab.set(PASSWORD_LABEL, PASSWORD)
        # the form's run ends in st.rerun(); the run after it shows the logged-in app or an error
        run = await self.tab.click(SUBMIT, timeout=300)
        outcome = "failed"
        if "退出登录" in self.tab.widgets:
            outcome = "ok"
        elif run.errors:
            outcome = "retry" if "稍后再试" in run.errors[0] else f"failed: {run.errors[0]}"
        return outcome, run.seconds

    async def close(self) -> None:
        await self.tab.close()


async def storm(base: str, users: int) -> tuple[list, float]:
    visitors = [Visitor(base, f"b{i:04d}") for i in range(users)]
    for chunk in range(0, users, 10):  # open the login pages ten at a time, like people arriving
        await asyncio.gather(*(v.open() for v in visitors[chunk : chunk + 10]))
    at_form = time.perf_counter()
    results = await asyncio.gather(*(v.login() for v in visitors))
    wall = time.perf_counter() - at_form
    await asyncio.gather(*(v.close() for v in visitors))
    return results, wall


def main(argv: list[str]) -> int:
    users = 20 if "--quick" in argv else 100
    if "--users" in argv:
        users = int(argv[argv.index("--users") + 1])
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "portal.sqlite3"
        build_db(db_path, users)
        with server(db_path) as running:

            async def warm() -> None:  # one login first: the pages' modules are imported once
                v = Visitor(running.base, "b-001")
                await v.open()
                assert (await v.login())[0] == "ok", "the warm-up login failed"
                await v.close()

            asyncio.run(warm())
            time.sleep(1)
            idle = rss_mb(running.pid)
            load = [f"{os.getloadavg()[0]:.1f}"]
            sampler = Sampler(running.pid)
            sampler.start()
            try:
                results, wall = asyncio.run(storm(running.base, users))
            finally:
                sampler.stop.set()
                sampler.join()
        lines = running.log.read_text(errors="replace").splitlines()
        # each error with the portal's own frame nearest to it: where the failure happened
        errors = []
        for i, ln in enumerate(lines):
            if "Error" in ln and not ln.startswith(" "):
                ours = [x.strip() for x in lines[max(0, i - 30) : i] if "/portal/" in x or "/pages/" in x]
                errors.append(f"{ln.strip()} at {' <- '.join(reversed(ours[-3:])) or '?'}")
    outcomes = [o for o, _ in results]
    latencies = sorted(t for o, t in results if o == "ok")
    ok, retry = outcomes.count("ok"), outcomes.count("retry")
    failed = [o for o in outcomes if o not in ("ok", "retry")]
    growth = sampler.peak - idle
    print(
        f"{users} logins at once against portal serve: {ok} logged in, {retry} asked to retry, "
        f"{len(failed)} failed{' ' + repr(failed[:3]) if failed else ''}; all answered in {wall:.1f} s"
    )
    if latencies:
        p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))]
        print(
            f"latency click → logged-in page shown: p50 {statistics.median(latencies):.2f} s, "
            f"p95 {p95:.2f} s, max {latencies[-1]:.2f} s"
        )
    print(
        f"server RSS: idle {idle:.0f} MB, peak {sampler.peak:.0f} MB: +{growth:.0f} MB "
        f"(target < +{TARGET_MB} MB{'' if users >= 100 else f' for 100; {users} logins here'})"
    )
    if errors:
        print("server log errors:", *sorted(set(errors))[:5], sep="\n  ")
    good = growth < TARGET_MB and not failed
    print(f"load average before/after: {load[0]} / {os.getloadavg()[0]:.1f}")
    print("OK" if good else "TARGET MISSED")
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
