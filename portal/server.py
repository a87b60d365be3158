"""The production server: the Streamlit app plus our own Starlette routes (``st.App``).

* ``/auth/claim`` trades the one-time claim token of a fresh login for the signed,
  HttpOnly session cookie (Streamlit itself cannot set one). The page loads it in a
  hidden same-origin frame (GET, token in the query) — no inline script, so the
  Content-Security-Policy allows no inline script but ``portal.browser``'s, by hash.
* ``/auth/end`` ends the session and deletes the cookie (not ``/auth/logout``: that is
  ``st.logout``'s own route, which must reach Streamlit to end an OIDC login).
* ``/auth/cas/…``: campus single sign-on by CAS (``portal.cas_routes``).
* ``/api/v1/…`` (read-only JSON) and ``/feeds/…`` (calendar feeds): ``portal.api``.
* Security headers, a Content-Security-Policy among them, on every HTTP response,
  500s included.
* Streamlit's media files (``/media/…``: the record forms and exports behind download
  buttons) and ``/_stcore/metrics`` need a live session cookie (metrics: an admin's); an
  upload (``/_stcore/upload_file/…``) needs a live user who may open a page with an uploader.
"""

from __future__ import annotations

import base64
import ctypes
import gc
import hashlib
import importlib
import logging
import os
import pkgutil
import re
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cache
from pathlib import Path

import streamlit
import streamlit as st
import uvicorn.config
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import __path__ as core
from . import (
    api,
    branding,
    browser,
    cas_routes,
    config,
    cookies,
    downloads,
    frontend_zh,
    health,
    logs,
    oidc_routes,
    search,
    seeds,
    sessions,
    shell,
    tcp_nodelay,
    uploads,
)
from .cookies import delete_session_cookie, request_session_cookie, set_session_cookie
from .db import is_locked, open_db
from .errors import Busy
from .request_log import RequestLog

log = logging.getLogger("portal")


@cache
def _inline_script_hashes() -> str:
    """CSP hashes of the inline scripts in Streamlit's own index.html (one tiny flag today)."""
    try:
        html = (Path(streamlit.__file__).parent / "static" / "index.html").read_text(encoding="utf-8")
    except OSError:
        return ""
    bodies = re.findall(r"<script>(.*?)</script>", html, flags=re.S)
    return " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(b.encode()).digest()).decode() + "'" for b in bodies
    )


def content_security_policy() -> str:
    """Everything from the portal itself; scripts only from our files (Streamlit's charts use
    Vega's interpreter, no eval); inline styles are Streamlit's (emotion) and stay allowed."""
    return "; ".join(
        [
            "default-src 'self'",
            " ".join(["script-src 'self'", _inline_script_hashes(), *browser.script_hashes()]).strip(),
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "media-src 'self' blob:",
            "worker-src 'self' blob:",
            "frame-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'self'",
        ]
    )


def security_headers() -> list[tuple[bytes, bytes]]:
    return [
        (b"content-security-policy", content_security_policy().encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"SAMEORIGIN"),
        (b"referrer-policy", b"same-origin"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    ]


class SecurityHeaders:
    """Pure ASGI middleware (WebSockets pass untouched).

    Starlette's own 500 page is made by its outermost middleware, outside this one, and would
    go out bare: an exception that reaches us before the response has started is answered
    here with a plain Chinese 500 carrying the headers, and raised again for the log.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                names = {k.lower() for k, _ in message.get("headers", [])}
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + [
                    (k, v) for k, v in security_headers() if k not in names
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            if not started:
                response = PlainTextResponse("服务器内部错误，已记录在服务器日志中。", status_code=500)
                await response(scope, receive, send_with_headers)
            raise


def _live_user(scope: Scope):
    cookie = request_session_cookie(Request(scope))
    if not cookie:
        return None
    with open_db() as db:
        live = sessions.resume_from_cookie(db, cookie)
    return live[1] if live else None


# Streamlit's upload route: /_stcore/upload_file/{session id}/{file id}
_UPLOAD = "/_stcore/upload_file/"


class SessionGate:
    """Downloads (Streamlit's ``/media/`` files) are served to the user they were built for,
    ``/_stcore/metrics`` to administrators, and uploads are taken only from a user who may open
    a page with an uploader (``portal.uploads``).

    A download link is a bearer URL: without this, anyone who learns it (a shared screen, a
    proxy log, the browser history of a shared computer) fetches the record form while it is
    kept. A live session is not enough either: the bytes served must be bytes a page built for
    that session's user (``portal.downloads``). Metrics describe the server to an attacker.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope.get("path", "")
            # refused before Streamlit reads a byte of the body: nothing is kept
            if (
                path.startswith(_UPLOAD)
                and scope.get("method") in ("PUT", "DELETE")
                and not await self._may_upload(scope)
            ):
                await PlainTextResponse("无权上传文件：请先登录。", status_code=403)(scope, receive, send)
                return
            # Streamlit's media endpoint only: /static/media/ holds the page's own fonts, which the
            # login page must load before anyone has a session
            if path.startswith("/media/") or path.endswith("/_stcore/metrics"):
                user = await run_in_threadpool(_live_user, scope)
                allowed = user is not None and (not path.endswith("/metrics") or user.has("admin"))
                if not allowed:
                    await PlainTextResponse("请先登录。", status_code=403)(scope, receive, send)
                    return
                if path.startswith("/media/"):
                    await self._owned_media(user.id, scope, receive, send)
                    return
        await self.app(scope, receive, send)

    @staticmethod
    async def _may_upload(scope: Scope) -> bool:
        """An upload reaches Streamlit only from a live user who may open a page with an uploader
        (``portal.uploads``); Streamlit itself asks only that the session is live — the login
        page's is."""
        return uploads.may_upload(await run_in_threadpool(_live_user, scope))

    async def _owned_media(self, user_id: int, scope: Scope, receive: Receive, send: Send) -> None:
        """The file, whole, if a page built these bytes for ``user_id``; else 403.

        The whole file, as built, is needed to know whose it is: it is asked for uncompressed (the
        record forms and workbooks are zip files already), a range is answered with the whole
        file (a download never asks for one), and a HEAD after the same check, without the body."""
        head = scope.get("method") == "HEAD"
        inner = {
            **scope,
            "method": "GET",
            "headers": [
                (k, v) for k, v in scope.get("headers", []) if k.lower() not in (b"range", b"accept-encoding")
            ],
        }
        start: Message | None = None
        body = bytearray()

        async def keep(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                body.extend(message.get("body", b""))

        await self.app(inner, receive, keep)
        if start is None:
            return
        served = bytes(body)
        if start["status"] == 200 and not downloads.may_fetch(user_id, served, serving=not head):
            refusal = (
                "此文件只能下载一次，已经下载过。" if downloads.spent(user_id, served) else "无权下载此文件。"
            )
            await PlainTextResponse(refusal, status_code=403)(scope, receive, send)
            return
        # one person's file: no proxy keeps it, and a browser asks this check again before it shows a
        # copy it kept (Streamlit sends no caching headers). Not no-store: Streamlit's page fetches each
        # download button's file once without reading it, and Chromium then never finishes a no-store
        # answer, leaving one connection hung per button (and "networkidle" never coming)
        headers = [
            (k, v) for k, v in start.get("headers", []) if k.lower() not in (b"cache-control", b"vary")
        ]
        headers += [(b"cache-control", b"private, no-cache"), (b"vary", b"Cookie")]
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if head else served})


class StreamlitLogoutGuard:
    """Streamlit's own ``/auth/logout`` (``st.logout``, OIDC) answers any GET: a link on another site
    would end the person's identity cookie and, through the provider's end_session_endpoint, the
    provider's session (logout CSRF). It is let through from the portal's own pages (and a typed
    address) only, as the browser tells it (Sec-Fetch-Site)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("path") == "/auth/logout":
            site = Request(scope).headers.get("sec-fetch-site")
            if site is not None and site not in ("same-origin", "none"):
                refusal = PlainTextResponse("请在联系师生服务平台的页面中点击“退出登录”。", status_code=403)
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _same_origin(request: Request) -> bool:
    """Refuse cross-site posts (SameSite=Strict covers the cookie; this covers the claim)."""
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return True
    host = request.headers.get("x-forwarded-host") or request.headers.get("host", "")
    return origin.split("://", 1)[-1] == host


def _from_our_page(request: Request) -> bool:
    """A GET that changes state only from our own pages (the hidden frame), never another site."""
    return _same_origin(request) and request.headers.get("sec-fetch-site", "same-origin") == "same-origin"


def claim_cookie(request: Request) -> Response:
    if not _from_our_page(request):
        return JSONResponse({"ok": False}, status_code=403)
    token = request.headers.get("x-portal-claim") or request.query_params.get("t", "")
    with open_db() as db:
        value = sessions.claim(db, token)
    if value is None:
        return JSONResponse({"ok": False}, status_code=400)
    response: Response = JSONResponse({"ok": True}) if request.method == "POST" else HTMLResponse("")
    set_session_cookie(request, response, value)
    return response


# st.login/st.logout own these: our routes keep off them (ours would shadow theirs).
STREAMLIT_AUTH_PATHS = ("/auth/login", "/auth/logout", "/oauth2callback")


def logout(request: Request) -> Response:
    if not _from_our_page(request):
        return JSONResponse({"ok": False}, status_code=403)
    with open_db() as db:
        sessions.end(db, cookie=request_session_cookie(request))
    response: Response = JSONResponse({"ok": True}) if request.method == "POST" else HTMLResponse("")
    delete_session_cookie(request, response)
    return response


class ChineseFrontend:
    """Serves Streamlit's frontend in Chinese: the files that hard-code English translated
    (portal/frontend_zh.py), its shell page in Chinese with the portal's stylesheet, and that
    stylesheet (portal/shell.py).

    A middleware, not a route: Streamlit reserves ``/static/`` for itself and answers every page
    address with its shell. Only GETs of these files and of pages are touched; everything else
    passes untouched.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.files = {
            f"/static/js/{name}": (b"text/javascript; charset=utf-8", body)
            for name, body in frontend_zh.patched().items()
        }
        self.files[shell.stylesheet_path()] = (b"text/css; charset=utf-8", shell.stylesheet())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        found = self.files.get(scope.get("path", ""))
        if found is not None:
            kind, body = found
            headers = [
                (b"content-type", kind),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"public, max-age=31536000, immutable"),  # the names carry a content hash
            ]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body if scope["method"] == "GET" else b""})
            return
        if scope["method"] == "GET" and _opens_a_page(scope):
            await self._shell(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _shell(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A page opened in the browser: Streamlit's shell made the portal's (asked for
        uncompressed, to be read); any other answer passes as it comes."""
        inner = {
            **scope,
            "headers": [(k, v) for k, v in scope.get("headers", []) if k.lower() != b"accept-encoding"],
        }
        start: Message | None = None
        body = bytearray()

        async def keep(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                kind = dict((k.lower(), v) for k, v in message.get("headers", [])).get(b"content-type", b"")
                if not kind.startswith(b"text/html"):
                    await send(message)
                    return
                start = message
            elif start is None:
                await send(message)
            else:
                body.extend(message.get("body", b""))
                if not message.get("more_body"):
                    page = bytes(body)
                    if shell.MARKER.encode() in page:
                        page = shell.patch(page.decode("utf-8"), site_title(), site_icon()).encode("utf-8")
                    headers = [
                        (k, v)
                        for k, v in start.get("headers", [])
                        if k.lower() not in (b"content-length", b"etag", b"last-modified")
                    ]
                    await send({**start, "headers": [*headers, (b"content-length", str(len(page)).encode())]})
                    await send({"type": "http.response.body", "body": page})

        await self.app(inner, receive, keep)


def _opens_a_page(scope: Scope) -> bool:
    """A browser opening a page (its shell), not a script asking for data or a file."""
    headers = {k.lower(): v for k, v in scope.get("headers", [])}
    if headers.get(b"sec-fetch-dest") in (b"document", b"iframe"):
        return True
    return headers.get(b"accept", b"").startswith(b"text/html")


def site_title() -> str:
    """The browser's title for the portal before the app has run (the app then sets its own)."""
    return branding.brand().title


def site_icon() -> str:
    """The tab's icon before the app has run: the school's colour, as the app's own (a data: URL)."""
    return branding.brand().favicon


def routes() -> list[Route]:
    return [
        Route("/health", health.route, methods=["GET"]),
        Route("/auth/claim", claim_cookie, methods=["GET", "POST"]),
        Route(config.LOGOUT_PATH, logout, methods=["GET", "POST"]),
        *cas_routes.routes(),
        *oidc_routes.routes(),
        *api.routes(),
    ]


def build_app():
    return st.App(
        str(config.ENTRY_SCRIPT),
        routes=routes(),
        # RequestLog first: it decides the client's address for everything below it
        middleware=[
            Middleware(RequestLog),
            Middleware(cookies.HostOnlyCookies),  # behind HTTPS: st.login's cookies __Host- as ours
            Middleware(SecurityHeaders),
            Middleware(StreamlitLogoutGuard),
            Middleware(oidc_routes.KeepDeepLink),
            Middleware(SessionGate),
            Middleware(ChineseFrontend),
        ],
        lifespan=_lifespan,
        on_script_error=show_script_error,
    )


@asynccontextmanager
async def _lifespan(app: object) -> AsyncIterator[None]:
    """Once Streamlit and uvicorn have set up their loggers, bring them under ours."""
    logs.adopt()
    log.info("portal serve ready", extra={"pid": os.getpid()})
    yield
    log.info("portal serve stopping")


def show_script_error(exc: Exception) -> bool:
    """An unexpected error: the details go to the server log, the user gets a Chinese message."""
    if isinstance(exc, Busy) or is_locked(exc):
        log.warning("database busy in a page: %s", exc)
        st.error(Busy.MESSAGE)
        return True
    log.error("unexpected error in a page", exc_info=exc)
    st.error("系统出现意外错误，已记录在服务器日志中。请刷新页面重试；如仍有问题，请联系管理员。")
    return True


# Hardened defaults for an intranet server; .streamlit/config.toml holds the same for `streamlit run`.
SERVER_CONFIG = {
    "server.headless": True,
    "browser.gatherUsageStats": False,
    "server.enableXsrfProtection": True,
    "server.enableCORS": True,
    "server.maxUploadSize": 5,  # serve() sets it from PORTAL_MAX_UPLOAD_BYTES
    "server.fileWatcherType": "none",
    "server.runOnSave": False,
    "client.toolbarMode": "minimal",
    "client.showErrorDetails": "none",
    # Tables offer no "Download as CSV"/copy: a cell such as =HYPERLINK(…) would go out raw and
    # run in Excel. The portal's own Excel exports keep text exactly, as text cells.
    "client.disableDataExport": True,
    "server.enableAgentApi": False,
    # Streamlit runs a full gc.collect(2) after every script run: with pandas and pyarrow loaded
    # that is ≈ 50 ms of CPU, most of a page run, and it serialises a booking rush. Python's own
    # generational collector still runs; the modules loaded at start are frozen out of it (serve).
    "runner.postScriptGC": False,
}


def _index_for_search() -> None:
    """Bring the search index up to date in the background (after an upgrade or a bulk import the
    first search would otherwise pay for it)."""
    try:
        with open_db() as db:
            search.refresh(db)
    except Exception:  # the first search will retry; never stop the server for this
        log.exception("search index refresh at start-up failed")


# what Streamlit imports on a page's first use of an element, not at its own import
LAZY_LIBRARY_MODULES = ("streamlit.emojis",)


def preload() -> list[str]:
    """Import every module of the core before the first request (and before ``gc.freeze``).

    Pages import what they need when they first run: openpyxl, docxtpl, jinja2, lxml … Left to
    the first visitor of 年度考核 after a restart, that was ≈ 0.3 s on top of the page
    (bench/page_bench.py). Importing here also keeps these modules out of every collection.
    Streamlit's own emoji table is one of them: the first alert after a start compiled its regex
    (≈ 0.2 s holding the GIL, every other page run of the process waiting), in a booking rush."""
    loaded = []
    names = [f.name for f in pkgutil.walk_packages(core, prefix=f"{__package__}.")]
    for name in [*names, *LAZY_LIBRARY_MODULES]:
        if name.endswith("__main__"):
            continue
        try:
            importlib.import_module(name)
        except Exception:  # an optional module (a test helper's dependency): the page will say
            log.exception("preloading %s failed", name)
            continue
        loaded.append(name)
    return loaded


def limit_malloc_arenas(arenas: int = 2) -> bool:
    """Cap glibc's malloc arenas (what ``MALLOC_ARENA_MAX`` does), before any thread starts.

    glibc gives threads that allocate at the same time arenas of their own, up to eight per
    core, and keeps their memory: 100 logins at once on Streamlit's script threads left the
    server 320–470 MB larger; with two arenas, 110–135 MB (bench/login_bench.py). Python
    threads take turns on the GIL anyway, so more arenas buy no speed here. An explicit
    ``MALLOC_ARENA_MAX`` wins; elsewhere than glibc this does nothing.
    """
    if config.malloc_arenas_set():
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(-8, arenas))  # -8: M_ARENA_MAX
    except (OSError, AttributeError):
        return False


def theme() -> dict[str, str]:
    """Streamlit's theme options from the settings: the accent colour is the school's
    (``PORTAL_SCHOOL_COLOR``: buttons, links, the chosen tab, focus rings)."""
    return {"theme.primaryColor": branding.brand().color}


def serve(port: int = 8501, address: str = "127.0.0.1") -> None:
    """Run the app with our routes until stopped (blocking)."""
    # The client's address is decided by portal.addresses (request_log.RequestLog), from
    # PORTAL_TRUSTED_PROXIES: uvicorn's own X-Forwarded-For reading (trusting 127.0.0.1 and ::1)
    # is switched off, and its log lines go through our handler (it would install its own).
    config.for_libraries(FORWARDED_ALLOW_IPS="")
    uvicorn.config.LOGGING_CONFIG.clear()
    uvicorn.config.LOGGING_CONFIG.update(logs.uvicorn_config())
    log.info(
        "portal serve starting on %s:%s",
        address,
        port,
        extra={"trusted_proxies": ",".join(str(n) for n in config.settings().trusted_proxies)},
    )
    limit_malloc_arenas()
    tcp_nodelay.install()
    with open_db() as db:  # migrate, seed and make the secret before the first request
        seeds.seed(db)
        sessions.secret_key(db)
    threading.Thread(target=_index_for_search, name="search-index", daemon=True).start()
    app = build_app()
    preload()
    gc.freeze()  # what is loaded by now lives as long as the server: keep it out of every collection
    upload_mb = max(1, config.settings().max_upload_bytes // (1024 * 1024))
    app.run(
        config={
            **SERVER_CONFIG,
            **theme(),
            "server.maxUploadSize": upload_mb,
            "server.port": port,
            "server.address": address,
        }
    )
