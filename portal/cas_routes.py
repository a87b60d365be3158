"""CAS single sign-on as routes of the portal's own server (``st.App``).

* ``GET /auth/cas/login?next=/path`` sends the browser to the CAS login page. It puts a random
  *state* in the service URL and adds it to a signed cookie holding the logins this browser started
  (up to four, ten minutes each: a login started in a second tab leaves the first one's valid), so
  that the callback opens a session only in the browser that started the login (login CSRF: a link
  carrying a fresh ticket of someone else's account opens nothing). ``next`` (where to land
  afterwards) is one of the portal's pages, never one of its routes.
* ``GET /auth/cas/callback?state=…&ticket=…`` checks the state, validates the service ticket with
  the CAS server against the service URL built from ``PORTAL_PUBLIC_URL`` (never from a request
  header), finds the account, starts the same portal session as password login (the HttpOnly
  session cookie) and redirects to a clean address: the ticket stays out of the address bar and the
  history.
* ``POST /auth/cas/callback`` with ``logoutRequest`` is CAS single logout: accepted from the CAS
  server's addresses only, it ends the session opened with the ticket it names.
* ``POST /auth/cas/logout`` (same origin only: the portal's own 退出登录) ends the portal session on
  the server and then sends the browser to the CAS server's logout. A cross-site link or form ends
  nothing.

Every route answers 404 while CAS is not configured, and 503 while ``PORTAL_PUBLIC_URL`` is not set.
"""

from __future__ import annotations

import hmac
import html
import logging
import secrets
import time
import urllib.parse

from itsdangerous import BadSignature, URLSafeSerializer
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from . import audit, navigation, provisioning, sessions, sso
from .cookies import delete_session_cookie, request_session_cookie, set_session_cookie
from .db import open_db, write
from .errors import AuthError

log = logging.getLogger("portal")

REFUSED = "统一身份认证票据无效、已使用或已过期，请重新登录。"
UNAVAILABLE = "统一身份认证服务暂不可用，请稍后再试；如急需使用，请联系管理员。"
STALE = "登录请求已过期，或不是从本浏览器发起的，未登录。请重新登录。"
MISCONFIGURED = "统一身份认证尚未配置完成（缺少本平台的公开地址 PORTAL_PUBLIC_URL），请联系管理员。"
LOGOUT_HERE = "请在联系师生服务平台的页面中点击“退出登录”。"

STATE_COOKIE = "portal_cas_state"
STATE_SECONDS = 600  # a login at the CAS server must be finished within ten minutes
STATES_KEPT = 4  # logins started in other tabs of the browser and not finished yet
_STATE_SALT = "portal.cas.state"
_NO_STORE = {"cache-control": "no-store"}


def _page(message: str, status: int, go: str = "/", refresh: bool = False) -> HTMLResponse:
    """A minimal page of our own text (escaped anyway); ``go`` is a path of ours or the CAS server's."""
    text = html.escape(message)
    meta = f'<meta http-equiv="refresh" content="0;url={html.escape(go)}">' if refresh else ""
    label = "继续" if refresh else "返回联系师生服务平台"
    body = (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>联系师生服务平台</title>{meta}</head><body>"
        f'<p>{text}</p><p><a href="{html.escape(go)}">{label}</a></p></body></html>'
    )
    return HTMLResponse(body, status_code=status, headers=_NO_STORE)


def _state_cookie(settings: sso.CasSettings) -> str:
    # behind HTTPS the __Host- prefix: a sibling host of the campus domain cannot plant one
    return ("__Host-" if settings.secure else "") + STATE_COOKIE


def _serializer() -> URLSafeSerializer:
    with open_db() as db:
        return URLSafeSerializer(sessions.secret_key(db), salt=_STATE_SALT)


def _pending(request: Request, settings: sso.CasSettings) -> list[tuple[str, float]]:
    """The logins this browser started and has not finished: (state, when started), the signed
    cookie's, younger than ``STATE_SECONDS``. Several, so that a login started in a second tab does
    not make the first tab's fail."""
    cookie = request.cookies.get(_state_cookie(settings), "")
    try:
        held = _serializer().loads(cookie) if cookie else []
    except BadSignature:
        return []
    now = time.time()
    if not isinstance(held, list):
        return []
    return [
        (str(state), float(started))
        for state, started in (item for item in held if isinstance(item, list) and len(item) == 2)
        if isinstance(started, int | float) and 0 <= now - started <= STATE_SECONDS
    ]


def _keep_pending(response: Response, settings: sso.CasSettings, pending: list[tuple[str, float]]) -> None:
    """Set the state cookie to ``pending`` (deleted when none is left)."""
    name = _state_cookie(settings)
    if not pending:
        response.delete_cookie(name, path="/", secure=settings.secure, httponly=True, samesite="lax")
        return
    response.set_cookie(
        name,
        _serializer().dumps([[state, started] for state, started in pending[-STATES_KEPT:]]),
        max_age=STATE_SECONDS,
        path="/",
        httponly=True,
        samesite="lax",  # sent when the CAS server sends the browser back (a cross-site navigation)
        secure=settings.secure,
    )


def _state_matches(request: Request, settings: sso.CasSettings, state: str) -> bool:
    if not state:
        return False
    return any(hmac.compare_digest(held.encode(), state.encode()) for held, _ in _pending(request, settings))


def _logged_in(request: Request) -> bool:
    with open_db() as db:
        return sessions.resume_from_cookie(db, request_session_cookie(request)) is not None


def _configured() -> sso.CasSettings | Response:
    settings = sso.cas_settings()
    if settings is None:
        return Response(status_code=404)
    if not settings.public_url:
        log.error("CAS is on but PORTAL_PUBLIC_URL is not set")
        return _page(MISCONFIGURED, 503)
    return settings


def login(request: Request) -> Response:
    settings = _configured()
    if isinstance(settings, Response):
        return settings
    next_path = navigation.return_path(request.query_params.get("next"))
    state = secrets.token_urlsafe(24)
    response = RedirectResponse(
        settings.client().build_login_url(settings.service_url(state, next_path)),
        status_code=302,
        headers=_NO_STORE,
    )
    _keep_pending(response, settings, [*_pending(request, settings), (state, time.time())])
    return response


def _audit(user_id: int | None, action: str, detail: str, outcome: str = "ok", actor: str = "") -> None:
    with open_db() as db:
        audit.record(db, user_id, action, detail[:200], outcome=outcome, actor=actor[:64])


def callback(request: Request) -> Response:
    settings = _configured()
    if isinstance(settings, Response):
        return settings
    state = request.query_params.get("state", "")
    ticket = request.query_params.get("ticket", "")
    next_path = navigation.return_path(request.query_params.get("next"))
    if not _state_matches(request, settings, state):
        if _logged_in(request):
            # the back button: the CAS server, still logged in, sent a new ticket for a login this
            # browser finished already; nothing is opened, the person goes on where he or she was
            return RedirectResponse(next_path, status_code=303, headers=_NO_STORE)
        _audit(None, "login.cas", "登录请求已过期或不是从本浏览器发起（登录状态不符）", "refused")
        return _page(STALE, 403)
    try:
        identity = sso.validate_ticket(settings, settings.service_url(state, next_path), ticket)
    except sso.ServiceUnavailable as exc:
        log.error("CAS server unavailable: %s", exc)
        _audit(None, "login.cas", f"统一身份认证服务不可用：{exc}", "failed")
        return _page(UNAVAILABLE, 503)
    except sso.TicketRefused as exc:
        log.warning("CAS ticket refused: %s", exc)
        _audit(None, "login.cas", f"票据无效：{exc}", "failed")
        return _page(REFUSED, 403)
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
    # a redirect, not a page at this address: the ticket leaves the address bar and the history
    response = RedirectResponse(next_path, status_code=303, headers=_NO_STORE)
    set_session_cookie(request, response, cookie)
    # this login's state is spent; logins started in other tabs stay pending
    _keep_pending(response, settings, [p for p in _pending(request, settings) if p[0] != state])
    return response


def _refuse_logout(address: str | None) -> Response:
    log.warning("single logout refused from %s", address)
    _audit(None, "session.end", "统一身份认证单点退出：来源地址不是 CAS 服务器", "refused")
    return Response(status_code=403)


def _end_by_ticket(logout_request: str) -> None:
    ticket = sso.logout_ticket(logout_request)
    if ticket:
        key = sessions.cas_key(ticket)
        with open_db() as db, write(db, housekeeping=True):
            owner = db.execute("SELECT user_id FROM sessions WHERE sso_key = ?", [key]).fetchone()
            if sessions.end_identity(db, key):
                audit.record(db, owner[0] if owner else None, "session.end", "统一身份认证单点退出")


# A SAML LogoutRequest is a few hundred bytes; the form holding it is read only up to this.
_LOGOUT_BODY_MAX = 64 * 1024


async def single_logout(request: Request) -> Response:
    """CAS single logout: the CAS server posts a SAML LogoutRequest naming the ticket. The address is
    the client's as ``portal serve`` decided it (``portal.addresses``: X-Forwarded-For only from a
    trusted proxy), so behind nginx it is the CAS server's own. It is checked before a byte of the
    body is read, and the body is read up to ``_LOGOUT_BODY_MAX``: anyone may post here, and a
    request the portal then read whole could make it hold any amount of memory."""
    settings = sso.cas_settings()
    if settings is None:
        return Response(status_code=404)
    address = request.client.host if request.client else None
    if not await run_in_threadpool(sso.may_send_logout, settings, address):
        return await run_in_threadpool(_refuse_logout, address)
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > _LOGOUT_BODY_MAX:
            return Response(status_code=413)
    form = urllib.parse.parse_qs(body.decode("utf-8", errors="replace"))
    await run_in_threadpool(_end_by_ticket, (form.get("logoutRequest") or [""])[0])
    return Response(status_code=200)


def _origin(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _same_origin_post(request: Request, settings: sso.CasSettings) -> bool:
    """A POST made by the portal's own page: the browser says so (Sec-Fetch-Site, Origin)."""
    site = request.headers.get("sec-fetch-site")
    origin = request.headers.get("origin")
    if site is not None and site != "same-origin":
        return False
    if origin is None:
        return site == "same-origin"
    return origin.lower() == _origin(settings.public_url)


def logout(request: Request) -> Response:
    settings = _configured()
    if isinstance(settings, Response):
        return settings
    if request.method != "POST" or not _same_origin_post(request, settings):
        return _page(LOGOUT_HERE, 405 if request.method != "POST" else 403)
    cookie = request_session_cookie(request)
    with open_db() as db:
        sessions.end(db, cookie=cookie)  # audited there (logout)
    back = settings.client().build_logout_url(settings.public_url + "/")
    # a page, not a redirect: the form-action of the page that posted allows only our own origin
    response = _page("已退出联系师生服务平台，正在退出统一身份认证……", 200, go=back, refresh=True)
    delete_session_cookie(request, response)
    return response


def routes() -> list[Route]:
    return [
        Route("/auth/cas/login", login, methods=["GET"]),
        Route(sso.CALLBACK_PATH, callback, methods=["GET"]),
        Route(sso.CALLBACK_PATH, single_logout, methods=["POST"]),
        Route("/auth/cas/logout", logout, methods=["GET", "POST"]),
    ]
