"""The production server: the Streamlit app plus our own Starlette routes (``st.App``).

* ``POST /auth/claim`` trades the one-time claim token of a fresh login for the
  signed, HttpOnly session cookie (Streamlit itself cannot set one).
* ``POST /auth/logout`` ends the session and deletes the cookie.
* ``/auth/cas/…``: campus single sign-on by CAS (``portal.cas_routes``).
* ``/api/v1/…`` (read-only JSON) and ``/feeds/…`` (calendar feeds): ``portal.api``.
* Security headers on every HTTP response.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import config, seeds, sessions
from .cookies import set_session_cookie
from .db import open_db

log = logging.getLogger("portal")

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"SAMEORIGIN"),
    (b"referrer-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]


class SecurityHeaders:
    """Pure ASGI middleware (WebSockets pass untouched)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + [
                    (k, v) for k, v in SECURITY_HEADERS if k not in names
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _same_origin(request: Request) -> bool:
    """Refuse cross-site posts (SameSite=Strict covers the cookie; this covers the claim)."""
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return True
    host = request.headers.get("x-forwarded-host") or request.headers.get("host", "")
    return origin.split("://", 1)[-1] == host


def claim_cookie(request: Request) -> JSONResponse:
    if not _same_origin(request):
        return JSONResponse({"ok": False}, status_code=403)
    token = request.headers.get("x-portal-claim", "")
    with open_db() as db:
        value = sessions.claim(db, token)
    if value is None:
        return JSONResponse({"ok": False}, status_code=400)
    response = JSONResponse({"ok": True})
    set_session_cookie(request, response, value)
    return response


def logout(request: Request) -> JSONResponse:
    if not _same_origin(request):
        return JSONResponse({"ok": False}, status_code=403)
    with open_db() as db:
        sessions.end(db, cookie=request.cookies.get(config.SESSION_COOKIE))
    response = JSONResponse({"ok": True})
    response.delete_cookie(config.SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response


class ChineseFrontend:
    """Serves Streamlit's frontend files that hard-code English translated (portal/frontend_zh.py).

    A middleware, not a route: Streamlit reserves ``/static/`` for itself. Only GETs of the few
    translated files are answered here; everything else passes untouched.
    """

    def __init__(self, app: ASGIApp) -> None:
        from . import frontend_zh

        self.app = app
        self.files = {f"/static/js/{name}": body for name, body in frontend_zh.patched().items()}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = self.files.get(scope.get("path", "")) if scope["type"] == "http" else None
        if body is None or scope.get("method") not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        headers = [
            (b"content-type", b"text/javascript; charset=utf-8"),
            (b"content-length", str(len(body)).encode()),
            (b"cache-control", b"public, max-age=31536000, immutable"),  # the names carry a content hash
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body if scope["method"] == "GET" else b""})


def routes() -> list[Route]:
    from . import api, cas_routes

    return [
        Route("/auth/claim", claim_cookie, methods=["POST"]),
        Route("/auth/logout", logout, methods=["POST"]),
        *cas_routes.routes(),
        *api.routes(),
    ]


def build_app():
    import streamlit as st
    from starlette.middleware import Middleware

    return st.App(
        str(config.ENTRY_SCRIPT),
        routes=routes(),
        middleware=[Middleware(SecurityHeaders), Middleware(ChineseFrontend)],
        on_script_error=show_script_error,
    )


def show_script_error(exc: Exception) -> bool:
    """An unexpected error: the details go to the server log, the user gets a Chinese message."""
    import streamlit as st

    log.error("unexpected error in a page", exc_info=exc)
    st.error("系统出现意外错误，已记录在服务器日志中。请刷新页面重试；如仍有问题，请联系管理员。")
    return True


# Hardened defaults for an intranet server; .streamlit/config.toml holds the same for `streamlit run`.
SERVER_CONFIG = {
    "server.headless": True,
    "browser.gatherUsageStats": False,
    "server.enableXsrfProtection": True,
    "server.enableCORS": True,
    "server.maxUploadSize": max(1, config.MAX_UPLOAD_BYTES // (1024 * 1024)),
    "server.fileWatcherType": "none",
    "server.runOnSave": False,
    "client.toolbarMode": "minimal",
    "client.showErrorDetails": "none",
}


def _index_for_search() -> None:
    """Bring the search index up to date in the background (after an upgrade or a bulk import the
    first search would otherwise pay for it)."""
    from . import search

    try:
        with open_db() as db:
            search.refresh(db)
    except Exception:  # the first search will retry; never stop the server for this
        log.exception("search index refresh at start-up failed")


def serve(port: int = 8501, address: str = "0.0.0.0") -> None:
    """Run the app with our routes until stopped (blocking)."""
    import threading

    with open_db() as db:  # migrate, seed and make the secret before the first request
        seeds.seed(db)
        sessions.secret_key(db)
    threading.Thread(target=_index_for_search, name="search-index", daemon=True).start()
    build_app().run(config={**SERVER_CONFIG, "server.port": port, "server.address": address})
