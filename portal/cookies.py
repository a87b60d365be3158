"""The session cookie: set by our own routes (password login's /auth/claim and CAS's callback),
read by every route and page. HttpOnly, SameSite=Strict, living as long as a session may.

Behind HTTPS it is ``__Host-portal_session`` (Secure, ``Path=/``, no ``Domain``), and only that name
is read. A cookie named plainly ``portal_session`` can be set for the whole campus domain by any
sibling host (``clubs.example.edu.cn``, even one served over plain http): planted with the
attacker's own session, it put a logged-out visitor of the portal in the attacker's account, where
his booking, telephone number and opinions then landed (login CSRF by cookie tossing). A browser
accepts a ``__Host-`` cookie only from the portal's own host, over HTTPS. Over plain http (a test
machine, the quickstart) no prefix is possible and the plain name is used.

The cookies of an OIDC login get the same prefix behind HTTPS (``HostOnlyCookies``): Streamlit names
its own (``_streamlit_user``, the signed identity that opens a portal session; ``_streamlit_user_tokens``;
``_streamlit_session``, Authlib's login state) plainly and without ``Secure``, and ``portal_oidc_next``
is ours. Planted by a sibling host, the first put a visitor in the attacker's account, the second let
the attacker's authorisation code do the same, the third chose the page the visitor landed on.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import config

HOST_ONLY = "__Host-" + config.SESSION_COOKIE


def is_https(request: HTTPConnection) -> bool:
    return request.url.scheme in ("https", "wss") or request.headers.get("x-forwarded-proto") == "https"


def secure_site(https: bool) -> bool:
    """Whether the portal is served over HTTPS: this request came so, or ``PORTAL_PUBLIC_URL`` says so."""
    return https or config.settings().public_url.startswith("https://")


def cookie_name(secure: bool) -> str:
    return HOST_ONLY if secure else config.SESSION_COOKIE


def session_cookie(cookies: Mapping[str, str], secure: bool) -> str | None:
    """The session cookie among a request's ``cookies``: behind HTTPS the ``__Host-`` one only."""
    if secure:
        return cookies.get(HOST_ONLY)
    return cookies.get(HOST_ONLY) or cookies.get(config.SESSION_COOKIE)


def request_session_cookie(request: HTTPConnection) -> str | None:
    return session_cookie(request.cookies, secure_site(is_https(request)))


def set_session_cookie(request: HTTPConnection, response: Response, value: str) -> None:
    secure = secure_site(is_https(request))
    response.set_cookie(
        cookie_name(secure),
        value,
        max_age=config.settings().session_max_age,
        path="/",
        httponly=True,
        samesite="strict",
        secure=secure,
    )


def delete_session_cookie(request: HTTPConnection, response: Response) -> None:
    secure = secure_site(is_https(request))
    response.delete_cookie(cookie_name(secure), path="/", httponly=True, samesite="strict", secure=secure)


PREFIX = "__Host-"
OIDC_NEXT = "portal_oidc_next"  # portal.oidc_routes: the page an OIDC login was started from
# Streamlit's st.login cookies (and their chunks, ``_streamlit_user_tokens__1``…) and ours
HOST_ONLY_FAMILIES = ("_streamlit_user", "_streamlit_session", OIDC_NEXT)


def _in_family(name: str) -> bool:
    return any(name == f or name.startswith(f + "_") for f in HOST_ONLY_FAMILIES)


def _read_host_only(header: str) -> str:
    """A ``Cookie`` header as the app may read it: a family's plain names dropped (anyone on the
    domain can set those), its ``__Host-`` ones under the plain name the app knows."""
    kept = []
    for part in header.split(";"):
        name, _, value = part.strip().partition("=")
        if _in_family(name):
            continue
        if name.startswith(PREFIX) and _in_family(name[len(PREFIX) :]):
            name = name[len(PREFIX) :]
        if name:
            kept.append(f"{name}={value}")
    return "; ".join(kept)


def _set_host_only(cookie: str) -> str:
    """A family's ``Set-Cookie`` as a ``__Host-`` cookie: Secure, ``Path=/``, no ``Domain``."""
    pair, *attributes = [a.strip() for a in cookie.split(";")]
    name = pair.partition("=")[0]
    if not _in_family(name):
        return cookie
    kept = [a for a in attributes if a.partition("=")[0].strip().lower() not in ("domain", "path", "secure")]
    return "; ".join([PREFIX + pair, *kept, "Path=/", "Secure"])


class HostOnlyCookies:
    """Behind HTTPS, ``HOST_ONLY_FAMILIES`` go out as ``__Host-`` cookies and only those are read."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or not secure_site(is_https(HTTPConnection(scope))):
            await self.app(scope, receive, send)
            return
        headers = []
        for key, value in scope.get("headers", []):
            if key == b"cookie":
                value = _read_host_only(value.decode("latin-1")).encode("latin-1")
            headers.append((key, value))
        scope = {**scope, "headers": headers}

        async def renamed(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                made = out.getlist("set-cookie")
                if any(_in_family(c.partition("=")[0]) for c in made):
                    del out["set-cookie"]
                    for cookie in made:
                        out.append("set-cookie", _set_host_only(cookie))
            await send(message)

        await self.app(scope, receive, renamed)
