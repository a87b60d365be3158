"""The session cookie as our own routes set it (password login's /auth/claim and CAS's callback):
HttpOnly, SameSite=Strict, Secure behind HTTPS, living as long as a session may."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from . import config


def is_https(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"


def set_session_cookie(request: Request, response: Response, value: str) -> None:
    response.set_cookie(
        config.SESSION_COOKIE,
        value,
        max_age=config.settings().session_max_age,
        path="/",
        httponly=True,
        samesite="strict",
        secure=is_https(request),
    )
