"""100 people log in at the same moment: `python bench/login_bench.py [--quick] [--users N]`.

Starts a real `portal serve` on a fresh database with N accounts (100; 20 with ``--quick``),
opens N browser sessions over Streamlit's own WebSocket protocol (what the browser's JavaScript
does: the login page's form, typed name and password, 登录), waits until every session shows the
login form, then submits all N logins at once. Samples the server's resident memory (RSS) every
20 ms and prints: logins that succeeded / were asked to retry / failed, latency from the click to
the logged-in page (p50/p95/max), and the server's RSS idle (after one warm-up login) and at peak. The machine's load average is
printed too: latency on a shared machine says little on its own.

Target (issue 10, item 9): 100 logins at once keep server RSS under +500 MB (peak − idle).
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PORTAL_TODAY", "2026-11-24")

import websockets  # noqa: E402
from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: E402
from streamlit.proto.ClientState_pb2 import ClientState  # noqa: E402
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402
from streamlit.proto.WidgetStates_pb2 import WidgetState, WidgetStates  # noqa: E402

from portal import accounts  # noqa: E402
from portal.db import open_db  # noqa: E402

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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rerun(widgets: list[WidgetState] | None = None) -> bytes:
    msg = BackMsg(rerun_script=ClientState(query_string="", widget_states=WidgetStates(widgets=widgets or [])))
    return msg.SerializeToString()


async def _until_finished(ws) -> list:
    """The elements of one script run (until script_finished)."""
    elements = []
    while True:
        msg = ForwardMsg()
        msg.ParseFromString(await ws.recv())
        kind = msg.WhichOneof("type")
        if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            elements.append(msg.delta.new_element)
        elif kind == "script_finished":
            return elements


class Visitor:
    """One browser session on the login page."""

    def __init__(self, url: str, username: str) -> None:
        self.url, self.username = url, username
        self.ws = None
        self.inputs: list[str] = []
        self.submit = ""

    async def open(self) -> None:
        self.ws = await websockets.connect(
            self.url, subprotocols=["streamlit"], max_size=None, open_timeout=60, ping_interval=None
        )
        await self.ws.send(_rerun())
        for el in await _until_finished(self.ws):
            kind = el.WhichOneof("type")
            if kind == "text_input":
                self.inputs.append(el.text_input.id)
            elif kind == "button" and el.button.is_form_submitter:
                self.submit = el.button.id
        assert len(self.inputs) == 2 and self.submit, "the login form was not found"

    async def login(self) -> tuple[str, float]:
        widgets = [
            WidgetState(id=self.inputs[0], string_value=self.username),
            WidgetState(id=self.inputs[1], string_value=PASSWORD),
            WidgetState(id=self.submit, trigger_value=True),
        ]
        started = time.perf_counter()
        await self.ws.send(_rerun(widgets))
        outcome = "failed"
        for _ in range(3):  # the form's run, then st.rerun() into the logged-in app
            elements = await asyncio.wait_for(_until_finished(self.ws), 300)
            labels = [el.button.label for el in elements if el.WhichOneof("type") == "button"]
            errors = [el.alert.body for el in elements if el.WhichOneof("type") == "alert"]
            if "退出登录" in labels:
                outcome = "ok"
                break
            if errors:
                outcome = "retry" if "稍后再试" in errors[0] else f"failed: {errors[0]}"
                break
        return outcome, time.perf_counter() - started

    async def close(self) -> None:
        await self.ws.close()


async def storm(url: str, users: int) -> tuple[list, float]:
    visitors = [Visitor(url, f"b{i:04d}") for i in range(users)]
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
        port = _free_port()
        env = {**os.environ, "PORTAL_DB": str(db_path), "PYTHONPATH": str(ROOT)}
        log = open(Path(tmp) / "server.log", "wb")  # noqa: SIM115 - open as long as the server runs
        server = subprocess.Popen(
            [sys.executable, "-m", "portal", "serve", "--port", str(port), "--address", "127.0.0.1"],
            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.time() + 90
            while True:
                try:
                    with urllib.request.urlopen(base + "/_stcore/health", timeout=2):
                        break
                except OSError:
                    if server.poll() is not None or time.time() > deadline:
                        raise RuntimeError((Path(tmp) / "server.log").read_text(errors="replace")) from None
                    time.sleep(0.3)
            url = f"ws://127.0.0.1:{port}/_stcore/stream"

            async def warm() -> None:  # one login first: the pages' modules are imported once
                v = Visitor(url, "b-001")
                await v.open()
                assert (await v.login())[0] == "ok", "the warm-up login failed"
                await v.close()

            asyncio.run(warm())
            time.sleep(1)
            idle = rss_mb(server.pid)
            load = [f"{os.getloadavg()[0]:.1f}"]
            sampler = Sampler(server.pid)
            sampler.start()
            results, wall = asyncio.run(storm(url, users))
            sampler.stop.set()
            sampler.join()
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
            log.close()
            lines = (Path(tmp) / "server.log").read_text(errors="replace").splitlines()
            # each error with the portal's own frame nearest to it: where the failure happened
            errors = []
            for i, ln in enumerate(lines):
                if "Error" in ln and not ln.startswith(" "):
                    ours = [x.strip() for x in lines[max(0, i - 30):i] if "/portal/" in x or "/pages/" in x]
                    errors.append(f"{ln.strip()} at {' <- '.join(reversed(ours[-3:])) or '?'}")
    outcomes = [o for o, _ in results]
    latencies = sorted(t for o, t in results if o == "ok")
    ok, retry = outcomes.count("ok"), outcomes.count("retry")
    failed = [o for o in outcomes if o not in ("ok", "retry")]
    growth = sampler.peak - idle
    print(f"{users} logins at once against portal serve: {ok} logged in, {retry} asked to retry, "
          f"{len(failed)} failed{' ' + repr(failed[:3]) if failed else ''}; all answered in {wall:.1f} s")
    if latencies:
        p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))]
        print(f"latency click → logged-in page shown: p50 {statistics.median(latencies):.2f} s, "
              f"p95 {p95:.2f} s, max {latencies[-1]:.2f} s")
    print(f"server RSS: idle {idle:.0f} MB, peak {sampler.peak:.0f} MB: +{growth:.0f} MB "
          f"(target < +{TARGET_MB} MB{'' if users >= 100 else f' for 100; {users} logins here'})")
    if errors:
        print("server log errors:", *sorted(set(errors))[:5], sep="\n  ")
    good = growth < TARGET_MB and not failed
    print(f"load average before/after: {load[0]} / {os.getloadavg()[0]:.1f}")
    print("OK" if good else "TARGET MISSED")
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
