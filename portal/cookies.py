"""The session cookie: set by our own routes (password login's /auth/claim and CAS's callback),
read by every route and page. HttpOnly, SameSite=Strict, living as long as a session may.

Behind HTTPS it is ``__Host-portal_session`` (Secure, ``Path=/``, no ``Domain``), and only that name
is read. A cookie named plainly ``portal_session`` can be set for the whole campus domain by any
sibling host (``clubs.example.edu.cn``, even one served over plain http): planted with the
attacker's own session, it put a logged-out visitor of the portal in the attacker's account, where
his booking, telephone number and opinions then landed (login CSRF by cookie tossing). A browser
accepts a ``__Host-`` cookie only from the portal's own host, over HTTPS. Over plain http (a test
machine, the quickstart) no prefix is possible and the plain name is used.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import HTTPConnection
from starlette.responses import Response

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
