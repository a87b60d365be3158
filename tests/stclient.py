"""A minimal Streamlit client over the app's own WebSocket protocol (``/_stcore/stream``).

It does what a browser tab does, without a browser: opens the stream with the session cookie,
asks for a page run (``BackMsg.rerun_script``), reads the elements the run sends back (widget ids,
labels, options, alerts), and reruns with widget values and a button's trigger — so tests and
benchmarks can load a real ``portal serve`` with a hundred users on two cores.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

_DONE = {
    ForwardMsg.FINISHED_SUCCESSFULLY,
    ForwardMsg.FINISHED_WITH_COMPILE_ERROR,
    ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY,
}


@dataclass
class Widget:
    kind: str
    id: str
    label: str
    options: list[str] = field(default_factory=list)
    form_id: str = ""
    fragment_id: str = ""  # a widget inside st.fragment reruns only its fragment


@dataclass
class Run:
    """What one page run showed: widgets by label, alerts by kind, the time it took."""

    seconds: float
    widgets: dict[str, Widget]
    errors: list[str]
    successes: list[str]
    warnings: list[str]
    texts: list[str]
    exception: str | None = None
    starts: int = 0  # script runs the request caused (a page that calls st.rerun runs twice)


class Tab:
    """One browser tab: a WebSocket session of the app, logged in by cookie."""

    def __init__(
        self,
        base_url: str,
        cookie: str | None = None,
        page: str = "",
        *,
        headers: dict[str, str] | None = None,
        source: str | None = None,
        query: str = "",
    ):
        """``headers``: sent with the WebSocket handshake (a proxy's ``X-Forwarded-For``);
        ``source``: the local address to connect from (``127.0.0.9``: a peer that is no proxy);
        ``query``: the address's query string (``no=2026-0221``), as a browser sends it."""
        self.url = base_url.replace("http", "ws", 1).rstrip("/") + "/_stcore/stream"
        self.cookie = cookie
        self.page = page
        self.headers = dict(headers or {})
        self.source = source
        self.query = query
        self.states: dict[str, WidgetState] = {}
        self.widgets: dict[str, Widget] = {}
        self.ws = None
        self.session_id = ""  # Streamlit's id of this tab's session (uploads are addressed to it)
        self._fragment = ""

    async def open(self, timeout: float = 60) -> Run:
        headers = {**self.headers, **({"Cookie": self.cookie} if self.cookie else {})}
        extra = {"local_addr": (self.source, 0)} if self.source else {}
        self.ws = await websockets.connect(
            self.url,
            additional_headers=headers,
            subprotocols=["streamlit"],
            max_size=2**26,
            open_timeout=timeout,
            ping_interval=None,
            **extra,
        )
        return await self.rerun(timeout=timeout)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()

    def set(self, label: str, value: str | float | int) -> None:
        """Set a widget by its label, as typing or choosing would (kept for later reruns)."""
        w = self.widgets[label]
        state = WidgetState(id=w.id)
        if w.kind == "checkbox":
            state.bool_value = bool(value)
        elif w.kind == "number_input":
            state.double_value = float(value)
        else:
            state.string_value = str(value)
        self.states[w.id] = state
        self._fragment = w.fragment_id  # as a browser does: a fragment's widget reruns the fragment

    async def click(self, label: str, timeout: float = 60) -> Run:
        w = self.widgets[label]
        self._fragment = w.fragment_id
        return await self.rerun([WidgetState(id=w.id, trigger_value=True)], timeout=timeout)

    async def goto(self, page: str, timeout: float = 60, query: str = "") -> Run:
        self.page, self.states, self.query = page, {}, query
        return await self.rerun(timeout=timeout)

    async def rerun(self, extra: list[WidgetState] | None = None, timeout: float = 60) -> Run:
        msg = BackMsg()
        msg.rerun_script.query_string = self.query
        msg.rerun_script.page_name = self.page
        msg.rerun_script.widget_states.widgets.extend([*self.states.values(), *(extra or [])])
        fragment, self._fragment = self._fragment, ""
        if fragment:
            msg.rerun_script.fragment_id = fragment
        started = time.perf_counter()
        await self.ws.send(msg.SerializeToString())
        run = Run(0.0, {}, [], [], [], [])
        while True:
            raw = await asyncio.wait_for(self.ws.recv(), timeout)
            fwd = ForwardMsg()
            fwd.ParseFromString(raw)
            kind = fwd.WhichOneof("type")
            if kind == "new_session":  # sent as each script run starts
                run.starts += 1
                self.session_id = fwd.new_session.initialize.session_id or self.session_id
            if kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                self._element(fwd.delta.new_element, run, fwd.delta.fragment_id)
            elif kind == "script_finished" and fwd.script_finished in _DONE:
                break
        run.seconds = time.perf_counter() - started
        # a fragment run sends its own elements only: the rest of the page stays as it was
        self.widgets = {**self.widgets, **run.widgets} if fragment else run.widgets
        return run

    @staticmethod
    def _element(el, run: Run, fragment_id: str = "") -> None:
        kind = el.WhichOneof("type")
        if kind == "alert":
            body = el.alert.body
            # Alert.Format: ERROR = 1, WARNING = 2, INFO = 3, SUCCESS = 4
            {1: run.errors, 2: run.warnings, 4: run.successes}.get(el.alert.format, run.texts).append(body)
        elif kind == "exception":
            run.exception = f"{el.exception.type}: {el.exception.message}"
        elif kind in ("text", "markdown"):
            run.texts.append(getattr(el, kind).body)
        elif kind == "code":
            run.texts.append(el.code.code_text)
        elif kind in ("selectbox", "text_input", "text_area", "number_input", "button", "radio", "checkbox"):
            w = getattr(el, kind)
            options = list(getattr(w, "options", []))
            run.widgets[w.label] = Widget(
                kind, w.id, w.label, options, getattr(w, "form_id", ""), fragment_id
            )
