"""A real `portal serve` and a plain client of Streamlit's WebSocket protocol, for tests that
talk to the running server the way a browser (or an attacker's script) does, without a browser."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState, WidgetStates
from websockets.sync.client import connect

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(db_path: Path, **env: str) -> Iterator[str]:
    """`python -m portal serve` on a free port over ``db_path``; yields the base URL."""
    port = free_port()
    log_path = db_path.parent / f"server-{port}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "portal", "serve", "--port", str(port), "--address", "127.0.0.1"],
            env={**os.environ, "PORTAL_DB": str(db_path), **env},
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.time() + 90
            while True:
                try:
                    with urllib.request.urlopen(base + "/_stcore/health", timeout=2):
                        break
                except OSError:
                    if proc.poll() is not None or time.time() > deadline:
                        raise RuntimeError(log_path.read_text(errors="replace")) from None
                    time.sleep(0.3)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def http(method: str, url: str, headers: dict[str, str] | None = None) -> tuple[int, dict, bytes]:
    """(status, lower-cased headers, body) of one plain HTTP request; errors are answers too."""
    req = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as err:
        return err.code, {k.lower(): v for k, v in err.headers.items()}, err.read()


class Browser:
    """One browser tab's conversation with Streamlit, spoken without a browser."""

    def __init__(self, base: str, cookie: str | None = None) -> None:
        headers = {"Origin": base}
        if cookie:
            headers["Cookie"] = cookie
        self.ws = connect(
            base.replace("http", "ws", 1) + "/_stcore/stream",
            subprotocols=["streamlit"],
            additional_headers=headers,
            max_size=None,
            open_timeout=60,
        )
        self.elements: list = []

    def run(self, widgets: list[WidgetState] | None = None, page: str = "") -> list:
        """One rerun (following st.rerun()); returns the new elements of the final run."""
        state = ClientState(query_string="", page_name=page, widget_states=WidgetStates(widgets=widgets or []))
        self.ws.send(BackMsg(rerun_script=state).SerializeToString())
        while True:
            elements = []
            while True:
                msg = ForwardMsg()
                msg.ParseFromString(self.ws.recv(timeout=120))
                kind = msg.WhichOneof("type")
                if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                    elements.append(msg.delta.new_element)
                elif kind == "script_finished":
                    break
            if msg.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                self.elements = elements
                return elements

    def of(self, kind: str) -> list:
        return [getattr(el, kind) for el in self.elements if el.WhichOneof("type") == kind]

    def login(self, username: str, password: str) -> None:
        self.run()
        inputs = [t.id for t in self.of("text_input")]
        submit = next(b.id for b in self.of("button") if b.is_form_submitter)
        self.run(
            [
                WidgetState(id=inputs[0], string_value=username),
                WidgetState(id=inputs[1], string_value=password),
                WidgetState(id=submit, trigger_value=True),
            ]
        )

    def close(self) -> None:
        self.ws.close()
