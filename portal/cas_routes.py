"""CAS single sign-on as routes of the portal's own server (``st.App``).

* ``GET /auth/cas/login?next=/path`` sends the browser to the CAS login page (``next``: where
  to land afterwards, a path of ours).
* ``GET /auth/cas/callback?ticket=…`` validates the service ticket with the CAS server,
  finds (or provisions) the account, starts the same portal session as password login
  (the HttpOnly session cookie) and opens the portal.
* ``POST /auth/cas/callback`` with ``logoutRequest`` is CAS single logout: the CAS server
  names the ticket, and the session opened with it ends.
* ``GET /auth/cas/logout`` ends the portal session and logs out of CAS too.

Every route answers 404 while CAS is not configured.
"""

from __future__ import annotations

import html
import logging
import urllib.parse

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from . import audit, config, provisioning, sessions, sso
from .cookies import set_session_cookie
from .db import open_db, write
from .errors import AuthError

log = logging.getLogger("portal")

REFUSED = "统一身份认证票据无效、已使用或已过期，请重新登录。"
UNAVAILABLE = "暂时无法连接统一身份认证服务器，请稍后再试。"


def _page(message: str, status: int, go: str = "/") -> HTMLResponse:
    """A minimal page of our own text (escaped anyway); ``go`` is always a path of ours."""
    text = html.escape(message)
    refresh = f'<meta http-equiv="refresh" content="0;url={html.escape(go)}">' if status == 200 else ""
    body = (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>联系师生服务平台</title>{refresh}</head><body>"
        f'<p>{text}</p><p><a href="{html.escape(go)}">返回联系师生服务平台</a></p></body></html>'
    )
    return HTMLResponse(body, status_code=status, headers={"cache-control": "no-store"})


def _base_url(request: Request, settings: sso.CasSettings) -> str:
    if settings.public_url:
        return settings.public_url
    scheme = request.headers.get("x-forwarded-proto") or request.url.scheme
    host = request.headers.get("x-forwarded-host") or request.headers.get("host") or request.url.netloc
    return f"{scheme}://{host}"


def return_path(value: str | None) -> str:
    """Where to land after login: a path of ours (``/cases?no=…``), never another site."""
    value = (value or "").strip()
    if not value.startswith("/") or value.startswith("//") or "\\" in value or len(value) > 500:
        return "/"
    if not value.isprintable() or urllib.parse.urlsplit(value).netloc:
        return "/"
    return value


def service_url(request: Request, settings: sso.CasSettings, next_path: str = "/") -> str:
    """The service URL the CAS server sends the ticket to; the same string validates it.
    A deep link travels in it (``?next=``) so the person lands where he or she was going."""
    url = _base_url(request, settings) + sso.CALLBACK_PATH
    return url if next_path == "/" else url + "?" + urllib.parse.urlencode({"next": next_path})


def login(request: Request) -> Response:
    settings = sso.cas_settings()
    if settings is None:
        return Response(status_code=404)
    next_path = return_path(request.query_params.get("next"))
    return RedirectResponse(
        settings.client().build_login_url(service_url(request, settings, next_path)), status_code=302
    )


def callback(request: Request) -> Response:
    settings = sso.cas_settings()
    if settings is None:
        return Response(status_code=404)
    ticket = request.query_params.get("ticket", "")
    next_path = return_path(request.query_params.get("next"))
    try:
        identity = sso.validate_ticket(settings, service_url(request, settings, next_path), ticket)
    except sso.TicketRefused as exc:
        log.warning("CAS ticket refused: %s", exc)
        code = 503 if str(exc).startswith(("URLError", "TimeoutError", "ConnectionRefused")) else 403
        with open_db() as db:
            why = f"{'统一身份认证服务不可用' if code == 503 else '票据无效'}：{exc}"[:200]
            audit.record(db, None, "login.cas", why, outcome="failed")
        return _page(UNAVAILABLE if code == 503 else REFUSED, code)
    with open_db() as db:
        try:
            user = provisioning.account_for(db, identity)
        except AuthError as exc:
            audit.record(
                db, None, "login.cas", exc.message[:200], outcome="refused", actor=identity.staff_no[:64]
            )
            return _page(exc.message, 403)
        _, cookie = sessions.open_with_cookie(db, user.id, sessions.cas_key(ticket))
        audit.record(db, user.id, "login.cas", identity.staff_no)
    # a page of ours, not a redirect: the browser then opens the portal from our own origin,
    # so the SameSite=Strict cookie goes along
    response = _page("登录成功，正在进入联系师生服务平台……", 200, go=next_path)
    set_session_cookie(request, response, cookie)
    return response


async def single_logout(request: Request) -> Response:
    """CAS single logout: the CAS server posts a SAML LogoutRequest naming the ticket."""
    if sso.cas_settings() is None:
        return Response(status_code=404)
    form = await request.form()
    ticket = sso.logout_ticket(str(form.get("logoutRequest", "")))
    if ticket:
        key = sessions.cas_key(ticket)
        with open_db() as db, write(db, housekeeping=True):
            owner = db.execute("SELECT user_id FROM sessions WHERE sso_key = ?", [key]).fetchone()
            if sessions.end_identity(db, key):
                audit.record(db, owner[0] if owner else None, "session.end", "统一身份认证单点退出")
    return Response(status_code=200)


def logout(request: Request) -> Response:
    settings = sso.cas_settings()
    if settings is None:
        return Response(status_code=404)
    with open_db() as db:
        sessions.end(db, cookie=request.cookies.get(config.SESSION_COOKIE))
    back = _base_url(request, settings) + "/"
    response = RedirectResponse(settings.client().build_logout_url(back), status_code=302)
    response.delete_cookie(config.SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response


def routes() -> list[Route]:
    return [
        Route("/auth/cas/login", login, methods=["GET"]),
        Route(sso.CALLBACK_PATH, callback, methods=["GET"]),
        Route(sso.CALLBACK_PATH, single_logout, methods=["POST"]),
        Route("/auth/cas/logout", logout, methods=["GET"]),
    ]
