"""Every request ``portal serve`` answers, on one log line; and where it came from.

``RequestLog`` is the outermost middleware. For each connection — an HTTP request or Streamlit's
WebSocket — it decides the client's address once (``portal.addresses``: ``X-Forwarded-For`` only
from a trusted proxy) and hands it on as the connection's client, so that routes
(``request.client``), pages (``st.context.ip_address``) and the audit log all see the same address;
uvicorn's own reading of the header is switched off (``portal.server.serve``). Then it logs one
line (logger ``portal.request``) with the time, method, path, status, duration, user and address.

A path's secret parts are not logged: a calendar feed's token is replaced by ``…``; query strings
(login tickets, claim tokens) are never logged.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections import OrderedDict

from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import addresses, audit, logs, sessions
from .cookies import request_session_cookie
from .db import open_db

log = logging.getLogger("portal.request")

_FEED_NAME = re.compile(r"^/feeds/+[^/]+/([A-Za-z]+\.ics)$")
_USER_SECONDS = 60.0  # a session's user is looked up once a minute per cookie, not per request
_USERS_KEPT = 4096


def shown_path(path: str) -> str:
    """The path as logged, at most 300 characters. Under ``/feeds/`` only the feed's file name is kept
    (``/feeds/…/roster.ics``): whatever else a request put there may be a token, however the path
    was cut (no file name, a doubled slash, a tail)."""
    if path.startswith("/feeds/"):
        found = _FEED_NAME.match(path)
        return f"/feeds/…/{found[1]}" if found else "/feeds/…"
    return path[:300]


class RequestLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._users: OrderedDict[str, tuple[str, float]] = OrderedDict()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        logs.adopt()  # a library logger created since the last request comes under our handler
        scope = decide_client(scope)
        address = scope["client"][0] if scope.get("client") else ""
        user = await self._user(request_session_cookie(HTTPConnection(scope)))
        token = audit.set_address(address)
        started, status = time.perf_counter(), 0

        async def watch(message: Message) -> None:
            nonlocal status
            kind = message["type"]
            if kind == "http.response.start":
                status = message["status"]
            elif kind == "websocket.accept":
                status = 101
            elif kind == "websocket.close" and not status:
                status = 403  # refused before it was accepted
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception:
            status = status or 500
            raise
        finally:
            audit.reset_address(token)
            duration = round((time.perf_counter() - started) * 1000, 1)
            method = scope.get("method", "WS") if scope["type"] == "http" else "WS"
            path = shown_path(scope.get("path", ""))
            log.log(
                logging.WARNING if status >= 500 else logging.INFO,
                "%s %s %s %s ms",
                method,
                path,
                status,
                duration,
                extra={
                    "method": method,
                    "path": path,
                    "status": status,
                    "duration_ms": duration,
                    "user": user,
                    "address": address,
                },
            )

    async def _user(self, cookie: str | None) -> str:
        if not cookie:
            return ""
        key = hashlib.sha256(cookie.encode()).hexdigest()
        now = time.monotonic()
        known = self._users.get(key)
        if known and known[1] > now:
            return known[0]
        try:
            name = await run_in_threadpool(_username, cookie)
        except Exception:  # noqa: BLE001 - a log line never fails a request
            name = "?"
        self._users[key] = (name, now + _USER_SECONDS)
        self._users.move_to_end(key)
        while len(self._users) > _USERS_KEPT:
            self._users.popitem(last=False)
        return name


def _username(cookie: str) -> str:
    with open_db() as db:
        return sessions.username_for_cookie(db, cookie)


# What only a proxy may say about how the portal was reached: from any other peer these are the
# client's own words, dropped before a route or page reads them (the address a page shows, the
# cookie's name behind HTTPS, the same-origin check).
PROXY_HEADERS = frozenset({b"x-forwarded-host", b"x-forwarded-proto"})


def decide_client(scope: Scope) -> Scope:
    """The scope with its client decided (``portal.addresses``) and, from a trusted proxy, the
    scheme it was reached by (``X-Forwarded-Proto``); from any other peer without ``PROXY_HEADERS``."""
    peer = scope.get("client")
    headers = scope.get("headers", [])
    forwarded = [v.decode("latin-1") for k, v in headers if k == b"x-forwarded-for"]
    address = addresses.client_address(peer[0] if peer else None, forwarded)
    decided = {**scope, "client": (address, peer[1] if peer else 0)}
    if not (peer and addresses.is_trusted(addresses.parse(peer[0]))):
        decided["headers"] = [(k, v) for k, v in headers if k not in PROXY_HEADERS]
    else:
        proto = next((v.decode("latin-1").strip() for k, v in headers if k == b"x-forwarded-proto"), "")
        if proto in ("http", "https"):
            decided["scheme"] = proto if scope["type"] == "http" else proto.replace("http", "ws")
    return decided
