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


# --- Streamlit's WebSocket messages (protobuf), encoded by hand ----------------------------
# Streamlit's generated message classes are internal modules (tests/test_house.py keeps them out of
# the repository), so the few fields a login needs are written and read here from the wire format.
# Field numbers of Streamlit 1.67's BackMsg/ForwardMsg protocol:
RERUN_SCRIPT = 11  # BackMsg.rerun_script: ClientState
WIDGET_STATES, WIDGETS = 2, 1  # ClientState.widget_states: WidgetStates.widgets
W_ID, W_TRIGGER, W_STRING = 1, 2, 6  # WidgetState.id, .trigger_value, .string_value
DELTA, SCRIPT_FINISHED = 5, 6  # ForwardMsg.delta, .script_finished
NEW_ELEMENT = 3  # Delta.new_element: Element
BUTTON, TEXT_INPUT, ALERT = 19, 24, 30  # Element.button, .text_input, .alert
EL_ID, EL_LABEL, IS_FORM_SUBMITTER, ALERT_BODY = 1, 2, 6, 1
FINISHED_EARLY_FOR_RERUN = 2


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        out.append(low | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number: int, value: bytes | str | bool | int) -> bytes:
    if isinstance(value, (bool, int)):
        return _varint(number << 3) + _varint(int(value))
    data = value.encode() if isinstance(value, str) else value
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def _message(*fields: tuple[int, bytes | str | bool | int]) -> bytes:
    return b"".join(_field(n, v) for n, v in fields)


def _parse(buf: bytes) -> dict[int, list]:
    """A message as {field number: [values]} (length-delimited values stay bytes)."""
    fields: dict[int, list] = {}
    i = 0
    while i < len(buf):
        key, shift = 0, 0
        while True:
            b = buf[i]
            i += 1
            key |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        number, kind = key >> 3, key & 7
        if kind == 0:
            value, shift = 0, 0
            while True:
                b = buf[i]
                i += 1
                value |= (b & 0x7F) << shift
                shift += 7
                if not b & 0x80:
                    break
        elif kind == 2:
            length, shift = 0, 0
            while True:
                b = buf[i]
                i += 1
                length |= (b & 0x7F) << shift
                shift += 7
                if not b & 0x80:
                    break
            value, i = buf[i : i + length], i + length
        elif kind == 1:
            value, i = buf[i : i + 8], i + 8
        elif kind == 5:
            value, i = buf[i : i + 4], i + 4
        else:
            raise ValueError(f"wire type {kind}")
        fields.setdefault(number, []).append(value)
    return fields


def _rerun(widgets: list[bytes] | None = None) -> bytes:
    states = _message(*[(WIDGETS, w) for w in widgets or []])
    return _message((RERUN_SCRIPT, _message((1, ""), (WIDGET_STATES, states))))


def _text(fields: dict, number: int) -> str:
    return fields.get(number, [b""])[0].decode()


async def _until_finished(ws) -> list[tuple[str, dict]]:
    """The elements of the next script run that is not cut short by st.rerun(): (kind, fields)."""
    elements: list[tuple[str, dict]] = []
    while True:
        msg = _parse(await ws.recv())
        if DELTA in msg:
            delta = _parse(msg[DELTA][0])
            if NEW_ELEMENT in delta:
                element = _parse(delta[NEW_ELEMENT][0])
                for kind, number in (("button", BUTTON), ("text_input", TEXT_INPUT), ("alert", ALERT)):
                    if number in element:
                        elements.append((kind, _parse(element[number][0])))
        elif SCRIPT_FINISHED in msg:
            if msg[SCRIPT_FINISHED][0] != FINISHED_EARLY_FOR_RERUN:
                return elements
            elements = []


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
        for kind, el in await _until_finished(self.ws):
            if kind == "text_input":
                self.inputs.append(_text(el, EL_ID))
            elif kind == "button" and el.get(IS_FORM_SUBMITTER, [0])[0]:
                self.submit = _text(el, EL_ID)
        assert len(self.inputs) == 2 and self.submit, "the login form was not found"

    async def login(self) -> tuple[str, float]:
        widgets = [
            _message((W_ID, self.inputs[0]), (W_STRING, self.username)),
            _message((W_ID, self.inputs[1]), (W_STRING, PASSWORD)),
            _message((W_ID, self.submit), (W_TRIGGER, True)),
        ]
        started = time.perf_counter()
        await self.ws.send(_rerun(widgets))
        # the form's run ends in st.rerun(); the run after it shows the logged-in app or an error
        elements = await asyncio.wait_for(_until_finished(self.ws), 300)
        labels = [_text(el, EL_LABEL) for kind, el in elements if kind == "button"]
        errors = [_text(el, ALERT_BODY) for kind, el in elements if kind == "alert"]
        outcome = "failed"
        if "退出登录" in labels:
            outcome = "ok"
        elif errors:
            outcome = "retry" if "稍后再试" in errors[0] else f"failed: {errors[0]}"
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
