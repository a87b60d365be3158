"""OIDC login (Streamlit's ``st.login``) that keeps the page it was started from.

Streamlit's OIDC callback always lands on the home page. So that a link opened logged out
(``/cases?no=2026-0221``) lands on its page after the provider, as it does with CAS:

* ``KeepDeepLink`` watches Streamlit's own ``/auth/login``: the page the person was on is its
  ``Referer`` (the portal's ``Referrer-Policy: same-origin`` sends it whole to the portal only); when
  it names one of the portal's pages, Streamlit's answer also sets a short-lived signed cookie
  holding it;
* the page reads that cookie (``deep_link``) when the identity opens its portal session, opens
  the page, and loads ``GET /auth/oidc/landed`` in a hidden frame, which deletes the cookie: the
  deep link is followed once.

State, nonce and the code exchange stay Streamlit's (Authlib keeps its state in its own session
cookie, so a callback opened in another browser opens nothing).
"""

from __future__ import annotations

import urllib.parse

from itsdangerous import BadSignature, TimestampSigner
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import config, cookies, navigation, sessions
from .cookies import is_https
from .db import open_db

NEXT_COOKIE = cookies.OIDC_NEXT  # behind HTTPS __Host-portal_oidc_next (cookies.HostOnlyCookies)
NEXT_SECONDS = 600
STREAMLIT_LOGIN = "/auth/login"
_SALT = "portal.oidc.next"


def _signer() -> TimestampSigner:
    with open_db() as db:
        return TimestampSigner(sessions.secret_key(db), salt=_SALT)


def started_from(request: Request) -> str:
    """The portal page a login was started from (``/``: none, or not one of ours)."""
    referer = urllib.parse.urlsplit(request.headers.get("referer", ""))
    if request.headers.get("sec-fetch-site", "same-origin") != "same-origin":
        return "/"
    ours = {
        (request.headers.get("host") or "").lower(),
        urllib.parse.urlsplit(config.settings().public_url).netloc,
    }
    if not referer.netloc or referer.netloc.lower() not in ours:
        return "/"
    return navigation.return_path(referer.path + (f"?{referer.query}" if referer.query else ""))


class KeepDeepLink:
    """Adds the deep-link cookie to Streamlit's answer to ``/auth/login`` (see the module)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") != STREAMLIT_LOGIN:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        path = started_from(request)
        if path == "/":
            await self.app(scope, receive, send)
            return

        value = (await run_in_threadpool(_signer)).sign(path).decode()
        carrier = Response()
        carrier.set_cookie(
            NEXT_COOKIE,
            value,
            max_age=NEXT_SECONDS,
            path="/",
            httponly=True,
            samesite="lax",  # sent back on the provider's cross-site redirect to /oauth2callback
            secure=is_https(request),
        )
        cookie = carrier.headers["set-cookie"]

        async def with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and 300 <= message["status"] < 400:
                MutableHeaders(scope=message).append("set-cookie", cookie)
            await send(message)

        await self.app(scope, receive, with_cookie)


def landed(request: Request) -> Response:
    response = HTMLResponse("", headers={"cache-control": "no-store"})
    response.delete_cookie(NEXT_COOKIE, path="/", httponly=True, samesite="lax")
    return response


def deep_link(cookie: str | None) -> str | None:
    """The page an OIDC login was started from (``/cases?no=…``), from its signed cookie, or None."""
    if not cookie:
        return None
    try:
        found = _signer().unsign(cookie, max_age=NEXT_SECONDS).decode()
    except BadSignature:
        return None
    path = navigation.return_path(found)
    return None if path == "/" else path


def routes() -> list[Route]:
    return [Route("/auth/oidc/landed", landed, methods=["GET"])]
