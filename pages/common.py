"""Glue every page shares: the logged-in user, the role check, a database per rerun, messages.

Pages stay thin: read input, call a service of ``portal``, show the result.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable, Hashable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol, TypedDict, TypeGuard, TypeVar
from urllib.parse import parse_qsl, urlencode

import streamlit as st
from sqlite_utils import Database

from pages import state
from portal import (
    accounts,
    audit,
    browser,
    builds,
    config,
    cookies,
    downloads,
    links,
    navigation,
    oidc_routes,
    passwords,
    provisioning,
    sessions,
    sso,
    submissions,
)
from portal.accounts import User
from portal.browser import NAVIGATION_TARGETS
from portal.db import open_db
from portal.errors import ImportRejected, PortalError, Problem, ValidationError

T = TypeVar("T")


@contextmanager
def database() -> Iterator[Database]:
    """A connection for this rerun (never cached: reruns run on other threads)."""
    with open_db() as db:
        yield db


def client_address() -> str:
    """The browser's address, as ``portal serve`` decided it for this connection
    (``portal.addresses``: ``X-Forwarded-For`` only from a trusted proxy). Streamlit hides a
    loopback peer (None): a connection with headers but no address is this host's."""
    address = st.context.ip_address
    if isinstance(address, str) and address:
        return address
    headers = st.context.headers
    return "127.0.0.1" if isinstance(headers, Mapping) and len(headers) else ""  # none: no browser (AppTest)


def browser_session_cookie() -> str | None:
    """The session cookie this browser sent (``portal.cookies``: behind HTTPS the ``__Host-`` one only,
    which no sibling host of the campus domain can set). HTTPS as the browser reached the portal: the
    WebSocket's ``Origin``, the proxy's ``X-Forwarded-Proto``, or ``PORTAL_PUBLIC_URL``."""
    headers = st.context.headers
    headers = headers if isinstance(headers, Mapping) else {}
    https = (headers.get("origin") or "").startswith("https://") or headers.get(
        "x-forwarded-proto"
    ) == "https"
    return cookies.session_cookie(st.context.cookies or {}, cookies.secure_site(https))


def resolve_user() -> User | None:
    """The user of this browser session: from the server-side state, else the signed cookie,
    else campus single sign-on (``st.login``) mapped to an account by 工号. Also notes the
    client's address for what this rerun writes to the audit log. The entry script resolves it first
    in every run; ``require`` reuses that answer (``_this_run``) instead of reading the session again."""
    _this_run.user = _UNRESOLVED  # never another run's (or session's) answer, even if resolving fails
    user = _resolve_user()
    if user is not None:
        owner = state.OWNER.get()
        if owner is not None and owner != user.id:
            _forget_the_previous_user()
        state.OWNER.set(user.id)
    _this_run.user = user
    return user


# What a new sign-in needs from the run that signed in: its session, and what the browser does next.
_SIGN_IN_KEYS = (
    state.SESSION_ID,
    state.PENDING_CLAIM,
    state.PENDING_DEEP_LINK,
    state.PENDING_OIDC_LANDED,
)


def _forget_the_previous_user() -> None:
    """Everything this browser session kept for the person signed in before (a copy of 我的数据, a new
    account's password, a record form, a page's choices and notices) goes: the tab of a shared
    computer is the next person's now. A logout clears it too; a session that ended by itself (idle,
    reset, disabled, logged out elsewhere) did not, and the next person signing in in that tab was
    offered the previous one's files."""
    kept = {key.name: st.session_state[key.name] for key in _SIGN_IN_KEYS if key.name in st.session_state}
    st.session_state.clear()
    for name, value in kept.items():
        st.session_state[name] = value


# The user the entry script resolved at the start of the run on this thread (a run's script, its
# callbacks and its page all run on one thread; the entry script runs first and sets it every time).
_this_run = threading.local()
_UNRESOLVED = object()


def _resolve_user() -> User | None:
    audit.set_address(client_address())
    with database() as db:
        notice = None
        session_id = state.SESSION_ID.get()
        if session_id:
            user = sessions.resume(db, session_id)
            if user is not None:
                return user
            # why it ended, for the login page (one that ended by itself is audited here, once)
            notice = sessions.ended_notice(db, session_id=session_id) or "登录已结束，请重新登录。"
            # what it kept is not left for whoever signs in next in this tab (a shared computer)
            st.session_state.clear()
        cookie = browser_session_cookie()
        live = sessions.resume_from_cookie(db, cookie)
        if live is not None:
            state.SESSION_ID.set(live[0])
            return live[1]
        if notice is None and cookie:  # a reload with the cookie of a session that has ended
            notice = sessions.ended_notice(db, cookie=cookie)
        user = _sso_user(db)
        if user is None and notice:
            state.NOTICE.setdefault(notice)
        return user


def _sso_user(db: Database) -> User | None:
    """The account of the OIDC identity ``st.login`` keeps in its own cookie.

    One login at the provider is one portal session (keyed by subject and login time):
    reloads resume it, and once it has timed out or been logged out the same identity
    cookie opens nothing until the person logs in at the provider again."""
    try:
        logged_in = bool(st.user.is_logged_in)
    except (AttributeError, KeyError, PortalError):
        return None
    if not logged_in:
        return None
    settings = sso.oidc_settings(st.secrets.get("portal", {}))
    identity = sso.identity_from_claims(dict(st.user), settings)
    try:
        user = provisioning.account_for(db, identity)
    except PortalError as exc:
        state.NOTICE.set(exc.message)
        if state.OIDC_REFUSED.get() != identity.staff_no:  # once, not on every rerun
            state.OIDC_REFUSED.set(identity.staff_no)
            why = exc.message[:200]
            audit.record(db, None, "login.oidc", why, outcome="refused", actor=identity.staff_no[:64])
        return None
    issued = str(st.user.get("iat") or st.user.get("nonce") or "")
    key = sessions.oidc_key(str(st.user.get("sub", "")), issued)
    new = not sessions.known_identity(db, key)
    session_id = sessions.for_identity(db, user.id, key)
    if session_id is not None and new:
        audit.record(db, user.id, "login.oidc", identity.staff_no)
    if session_id is None:
        state.NOTICE.set("登录已超时或已退出，请重新通过统一身份认证登录。")
        return None
    state.SESSION_ID.set(session_id)
    state.PENDING_CLAIM.set(sessions.new_claim(db, session_id))  # downloads need the cookie
    # the page the login was started from (oidc_routes keeps it in a cookie): followed once
    link = oidc_routes.deep_link(st.context.cookies.get(oidc_routes.NEXT_COOKIE))
    if link:
        state.PENDING_DEEP_LINK.set(link)
        state.PENDING_OIDC_LANDED.set(True)
    return user


def login(username: str, password: str) -> User:
    """Check the password, open a session, and arrange for the browser to get its cookie."""
    with database() as db:
        user = accounts.authenticate(db, username, password, password_login=sso.password_login_enabled())
        session_id, claim = sessions.start(db, user.id)
    state.SESSION_ID.set(session_id)
    state.PENDING_CLAIM.set(claim)
    return user


def logout() -> None:
    """End the portal session on the server; then the browser leaves the campus identity too: a
    session opened by CAS through ``/auth/cas/logout`` (a same-origin POST), one opened by OIDC through
    Streamlit's ``/auth/logout``, which sends it to the provider's end_session_endpoint when the
    provider has one (RP-initiated logout)."""
    with database() as db:
        session_id = state.SESSION_ID.get()
        opened_by = sessions.opened_by(db, session_id) if session_id is not None else None
        sessions.end(db, session_id=session_id)
    st.session_state.clear()
    state.NOTICE.set("您已退出登录。")
    if opened_by == "cas":
        state.PENDING_NAVIGATION.set("/auth/cas/logout")
        return
    try:
        oidc = bool(st.user.is_logged_in)
    except (AttributeError, KeyError):
        oidc = False
    if oidc:
        # our own link, not st.logout(): st.logout's redirect raced the rerun that follows it, and
        # the rerun's page change cancelled it now and then (the provider's session stayed open)
        state.PENDING_NAVIGATION.set("/auth/logout")
    else:
        state.PENDING_LOGOUT.set(True)


def password_form(user: User) -> bool:
    """The form that changes one's own password (我的账号, and the forced change after an initial or
    reset password); True once changed. The rule in force is said on the form."""
    with st.form("change_password", clear_on_submit=True):
        old = st.text_input("原密码", type="password", max_chars=128)
        new = st.text_input(f"新密码（{passwords.password_rule()}）", type="password", max_chars=128)
        again = st.text_input("再次输入新密码", type="password", max_chars=128)
        if not st.form_submit_button("修改密码", type="primary"):
            return False
    if new != again:
        st.error("两次输入的新密码不一致")
        return False
    try:
        with database() as db:
            accounts.change_password(db, user.id, old, new, keep_session=state.SESSION_ID.get())
    except PortalError as exc:
        show_error(exc)
        return False
    return True


def must_change_password(user: User) -> bool:
    """Whether this session must change its password before anything else: an initial or reset
    password, in a session that password opened (single sign-on never used it)."""
    if not user.must_change_password:
        return False
    session_id = state.SESSION_ID.get()
    with database() as db:
        return session_id is not None and sessions.opened_by(db, session_id) is None


def demo_warning() -> str | None:
    """The login page's warning while demo accounts keep the published demo password."""
    with database() as db:
        exposed = accounts.demo_passwords_in_use(db)
    if not exposed:
        return None
    return (
        "本平台仍有使用公开演示密码的演示账号（包括管理员 admin），任何人都能用它们登录。"
        "演示账号只用于试用：正式使用前请用 `portal init` 新建数据库，或修改这些账号的密码。"
    )


def send_pending_browser_actions() -> None:
    """Set or clear the HttpOnly cookie through our own routes (portal.server).

    A hidden same-origin frame loads the route: no script (the Content-Security-Policy allows
    no inline script but ``portal.browser``'s), and the URL holds nothing but a server-made
    one-time token.
    """
    if state.PENDING_DEEP_LINK.held():
        return  # this run switches pages (follow_deep_link): the next run loads them
    claim = state.PENDING_CLAIM.pop()
    if claim:
        _load_hidden("/auth/claim?" + urlencode({"t": claim}))
    if state.PENDING_LOGOUT.pop():
        _load_hidden(config.LOGOUT_PATH)
    if state.PENDING_OIDC_LANDED.pop():
        _load_hidden("/auth/oidc/landed")
    target = state.PENDING_NAVIGATION.pop()
    if target in NAVIGATION_TARGETS:
        _navigate_from_browser(target)


# a hidden frame's name for a screen reader (Streamlit's default title is "st.iframe"); out of the Tab order
HIDDEN_FRAME = "后台处理（无内容）"


def _load_hidden(path: str) -> None:
    with st.sidebar:
        st.iframe(path, height=1, alt=HIDDEN_FRAME, tab_index=-1)


def start_cas_login() -> None:
    state.PENDING_NAVIGATION.set("/auth/cas/login")
    st.rerun()


def follow_deep_link(user: User) -> None:
    """After an OIDC login, open the page the login was started from (``/cases?no=…``), once."""
    target = state.PENDING_DEEP_LINK.pop()
    if not target:
        return
    path, _, query = target.partition("?")
    spec = next((p for p in navigation.PAGES if f"/{p.url_path}" == path), None)
    if spec is not None and navigation.can_open(user, spec):
        st.switch_page(str(config.ROOT / spec.path), query_params=dict(parse_qsl(query)))


def _navigate_from_browser(path: str) -> None:
    """Open one of our routes in the whole window (``portal.browser``: the CSP allows this
    script by its hash)."""
    with st.sidebar:
        st.iframe(
            "<script>" + browser.navigation_script(path) + "</script>",
            height=1,
            alt=HIDDEN_FRAME,
            tab_index=-1,
        )


def public_base() -> str:
    """The portal's address as the browser sees it: ``PORTAL_PUBLIC_URL`` when set, else the host a
    trusted proxy names (``X-Forwarded-Host``, which ``portal.request_log`` drops from any other peer),
    else the default. Never the request's own ``Host``: a client writes that."""
    configured = config.settings().public_url
    headers = st.context.headers
    host = headers.get("x-forwarded-host") if isinstance(headers, Mapping) else None
    if configured or not host:
        return links.base_url()
    scheme = headers.get("x-forwarded-proto") or "http"
    return f"{scheme}://{host}"


REFUSAL = "您没有访问此页面的权限。"


def refused_pages(user: User) -> list[st.Page]:
    """The pages ``user`` may not open, each answering its own URL with a Chinese refusal.

    A bookmarked or typed link to such a page then says why instead of Streamlit's English
    "Page not found"; they are hidden from the menu and never run the page's script.
    """

    def refusal() -> None:
        st.title("无权访问")
        st.error(REFUSAL)
        page_link("pages/home.py", label="返回首页", icon=":material/home:")

    return [
        st.Page(refusal, title=spec.title, url_path=spec.url_path, visibility="hidden")
        for spec in navigation.PAGES
        if not navigation.can_open(user, spec)
    ]


def page_fragment(user: User, page_file: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """``st.fragment`` for a part of a page that ``user`` works in: a tap there reruns the part alone.

    A fragment's own rerun runs without the entry script, which on a whole run resolves the session
    and holds the settings: here the part does both itself. A session that ended meanwhile, another
    user signed in, or a role taken away brings a whole rerun (the login, or the refusal); the
    settings are held for the part's run (``config.held``). A whole run has its answer already and
    pays nothing."""

    def decorate(part: Callable[..., None]) -> Callable[..., None]:
        @st.fragment
        @functools.wraps(part)
        def run(*args: Any, **kwargs: Any) -> None:
            resolved_here = getattr(_this_run, "user", _UNRESOLVED) is _UNRESOLVED
            try:
                now = _this_runs_user()
                if now is None or now.id != user.id or not _may_open(now, page_file):
                    st.rerun()  # the whole page says why
                with config.held():
                    part(*args, **kwargs)
            finally:
                if resolved_here:  # not an answer for the thread's next run
                    end_run()

        return run

    return decorate


def end_run() -> None:
    """The entry script's run is over: its answer to "who is this" is not the next run's (a
    fragment's rerun may come on the same thread)."""
    _this_run.user = _UNRESOLVED


def _this_runs_user() -> User | None:
    """This run's answer to "who is this" (the entry script's), resolved now if it has none yet."""
    found = getattr(_this_run, "user", _UNRESOLVED)  # a User, None, or not yet
    return found if found is None or isinstance(found, User) else resolve_user()


def _may_open(user: User, page_file: str) -> bool:
    spec = navigation.spec(page_file)
    return spec is not None and navigation.can_open(user, spec)


def require(page_file: str) -> User:
    """Stop the page unless the logged-in user's roles allow it (checked on every run)."""
    user = _this_runs_user()
    if user is None or not _may_open(user, page_file):
        st.error(REFUSAL)
        st.stop()
    return user


# What an action acts on (the override to remove, the day to cancel) is chosen with no default.
# Streamlit sends a choice back as the label the user saw; when that label has left the list (the
# first tap of a double tap removed or renamed it) the choice falls back to the default, and with
# a default the second tap acted on the first entry. With none it falls back to nothing.
class Target(TypedDict):
    index: None
    placeholder: str


TARGET: Target = {"index": None, "placeholder": "请选择"}


def chosen(value: T | None, what: str) -> TypeGuard[T]:
    """Whether the target of an action is chosen (``value`` is then not None); if not, say which
    choice is missing."""
    if value is None:
        st.error(f"请选择{what}")
        return False
    return True


Downloadable = bytes | str | Callable[[], bytes | str]


def owned(user: User, data: Downloadable, *, once: bool = False) -> bytes | Callable[[], bytes]:
    """A download button's ``data``, served to ``user`` only (``portal.downloads``): pass every
    ``st.download_button``'s data through this. A function (a file built when clicked) stays a
    function; text is sent as UTF-8, as Streamlit would. ``once``: served a single time (files
    holding initial passwords)."""
    uid = user.id

    def as_bytes(value: bytes | str) -> bytes:
        return downloads.built(
            uid, value.encode("utf-8") if isinstance(value, str) else bytes(value), once=once
        )

    if callable(data):
        return lambda: as_bytes(data())
    return as_bytes(data)


def audited(user: User, action: str, detail: str, build: Callable[[], bytes]) -> Callable[[], bytes]:
    """A download's ``build`` that records, when it runs (the click), who took what away (``detail``)
    from which address (that of the page offering it: the build runs on a thread of its own) in the
    audit log: exports of personal data are 等保's 安全审计 as much as changes are."""
    address = client_address()

    def made() -> bytes:
        data = build()
        with database() as db:
            audit.record(db, user.id, action, detail, address=address)
        return data

    return made


def entering(url_path: str) -> None:
    """Note which page this run shows (called by the entry script before it runs the page)."""
    state.ARRIVED.set(state.PAGE.get() != url_path)
    state.PAGE.set(url_path)


def arrived() -> bool:
    """Whether this run is the first of a visit to the page: the user came from another page (or
    signed in). What a page keeps for "the result you just saw" ends there."""
    return bool(state.ARRIVED.get(True))


def page_link(page: str, **kwargs) -> None:
    """``st.page_link`` to a page named by its repository path (``"pages/x.py"``, as in
    ``portal.navigation``); Streamlit resolves a relative path against the entry script's folder."""
    st.page_link(str(config.ROOT / page), **kwargs)


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def md(text: object) -> str:
    """User text made safe for elements that render markdown (st.caption, st.info, st.error …):
    every markdown character is escaped, so it shows exactly as typed and never becomes a
    link, an image or formatting. Prefer st.text / st.dataframe for long user text."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text)).replace("\n", "  \n")


FIGURE_WIDTH = 128  # px: three figures a line on a 390 px phone, all of them on one line on a desktop


def figures(items: Mapping[str, int | float | str | None]) -> None:
    """A row of figures (label → value) that wraps: two or three a line on a phone, where
    ``st.columns`` would stack them one per line and fill the first screen with numbers."""
    with st.container(horizontal=True, gap="medium"):
        for label, value in items.items():
            st.metric(label, value, width=FIGURE_WIDTH)


def built_file(
    user: User,
    name: str,
    params: Hashable,
    work: builds.Work,
    *,
    build_label: str,
    download_label: str,
    file_name: str,
    mime: str,
    disabled: bool = False,
) -> builds.Build | None:
    """A file that takes a while to build (portal.builds): ``build_label`` (生成…) starts it, a
    progress bar with the time left shows while it builds in the background, then
    ``download_label`` offers it. ``params`` are what the file is built from (a department and
    dates): other params, another file. While it builds the button is off, and a second click that
    gets through anyway (a double tap, a second tab) gets the running build, not a second one."""
    key = (name, user.id, params)
    build = builds.find(key)
    running = build is not None and build.running
    if st.button(build_label, icon=":material/build:", key=f"build_{name}", disabled=disabled or running):
        found, build = build, builds.start(key, user.id, work)
        running = build.running
        if build is not found:  # a new build (not the running one a second click gets)
            with database() as db:  # an export of personal data: who asked for which file, from where
                audit.record(db, user.id, f"{name}.export", file_name)
    if build is None:
        return None
    if running:
        build_progress(key)
    elif build.error:
        st.error(build.error)
    else:
        st.download_button(
            download_label,
            data=owned(user, build.read),  # read when clicked
            file_name=file_name,
            mime=mime,
            icon=":material/download:",
            key=f"build_{name}_download",
        )
        st.caption(f"已生成（{build.size() / 1e6:.1f} MB），一小时内可下载；条件改变后请重新生成。")
    return build


@st.fragment(run_every=1.0)
def build_progress(key: Hashable) -> None:
    """The progress of a build, redrawn every second; once it is done the whole page runs again
    (the download shows and the redrawing stops)."""
    build = builds.find(key)
    if build is None or not build.running:
        st.rerun()
    assert build is not None
    st.progress(build.fraction, text=f"正在生成：{build.describe()}")


def date_column(label: str, **kwargs):
    """A table column of dates shown as 2026年12月6日 (Streamlit's default is 2026-12-06); the
    column still sorts as dates. Give the table ``datetime.date`` values, not text."""
    return st.column_config.DateColumn(label, format="YYYY年M月D日", **kwargs)


def phone_only(name: str):
    """A block shown on a phone's narrow screen only (portal/data/portal.css hides it on wider
    ones): for what a phone shows in place of a wide chart or table. Both are sent; a screen
    reader meets only the one shown."""
    return st.container(key=f"phone_only_{name}")


def desktop_only(name: str):
    """A block shown on screens wider than a phone only (see ``phone_only``)."""
    return st.container(key=f"desktop_only_{name}")


def show_error(exc: PortalError) -> None:
    """A service's Chinese message; multi-line reports are shown as plain text, never as HTML."""
    lines = (exc.report() if isinstance(exc, ImportRejected) else exc.message).splitlines()
    st.error(lines[0] if lines else "操作失败")
    if len(lines) > 1:
        st.text("\n".join(lines[1:]))


class _Place(Protocol):
    """What ``st.empty()`` returns, as far as FieldErrors uses it (its class is not public API)."""

    def container(self) -> AbstractContextManager[object]: ...


class FieldErrors:
    """A submitted form's problems, all at once: each under its input, and every one in a list
    under the submit button (where the user is looking).

    Streamlit draws a form before the script knows what its submit brings, so ``under(field)``
    leaves an empty place right after an input, and ``show`` fills the places afterwards. Fields are
    named as the service names them in ``ValidationError.problems``.

    A form submitted through a callback knows its problems before it is drawn: ``known`` (none: an
    empty list) draws each beside its field at once and leaves no empty places, which are elements
    sent to the browser on every run (a seventh of 预约接待's)."""

    def __init__(self, known: list[Problem] | None = None) -> None:
        self.places: dict[str, _Place | None] = {}  # None: drawn already (``known``)
        self.known = known

    def under(self, *fields: str) -> None:
        if self.known is None:
            place = st.empty()
            for field in fields:
                self.places[field] = place
            return
        for field in fields:
            self.places[field] = None
        self._beside([p.message for p in self.known if p.field in fields])

    @staticmethod
    def _beside(messages: list[str]) -> None:
        for message in messages:
            st.error(md(message), icon=":material/error:")

    def show(self, exc: PortalError) -> None:
        problems = exc.problems if isinstance(exc, ValidationError) else [Problem("", exc.message)]
        beside: dict[str, list[str]] = {}
        for p in problems:
            if p.field in self.places:
                beside.setdefault(p.field, []).append(p.message)
        for field, messages in beside.items():
            place = self.places[field]
            if place is not None:
                with place.container():
                    self._beside(messages)
        if len(problems) == 1:
            st.error(md(problems[0].message))
            return
        st.error(f"有 {len(problems)} 处需要修改，请改正后再提交：")
        st.text("\n".join(f"· {p.message}" for p in problems))


def linked(
    param: str, what: str, find: Callable[[Database, str], T], select: state.Key[Any] | None = None
) -> T | None:
    """The object a link names (``?param=value``, see ``portal.links``) when the user may see it.

    ``find`` is the service's own lookup, which checks visibility; anything it refuses becomes a
    Chinese message. The first time a page run sees a link, ``select`` (a selectbox key) is set to
    the object's id so the page opens on it; afterwards the user's own choice wins.
    """
    value = st.query_params.get(param)
    if not value:
        return None
    try:
        with database() as db:
            found = find(db, value)
    except (PortalError, ValueError, OverflowError):  # OverflowError: a number no SQLite column holds
        st.error(f"无法打开链接：{what} {md(value[:40])} 不存在，或您没有查看的权限。")
        return None
    seen = state.LINKS_OPENED.setdefault({})
    if select is not None and seen.get(select.name) != value:
        seen[select.name] = value
        select.set(getattr(found, "id", found))
    return found


def form_token(form: str) -> str:
    """The exactly-once token of the form ``form`` as rendered now (see portal/submissions.py).

    Pass it to the creating service through ``submissions.once``. It stays the same across reruns —
    so a double click or a resubmit finds what the first submit made — until ``fresh_form``.
    """
    return state.FORM_TOKENS.of(form).setdefault(submissions.new_token())


def form_token_for(form: str, *values: object) -> str:
    """The token of ``form`` as rendered now *with these inputs* (``submissions.token_for``)."""
    return submissions.token_for(form_token(form), *values)


def fresh_form(form: str) -> None:
    """The user asks for a new, empty form: the next submit may create again."""
    state.FORM_TOKENS.of(form).pop()


# --- confirming destructive actions -------------------------------------------------------------
# The action's button only asks (``ask``); a dialog shows what will happen; its 确认 button marks
# the question answered, and the page runs the action on the next run (``confirmed``). The state
# lives in session_state, not in the dialog, so a rerun or a lost dialog never runs it by itself.


def ask(key: str, **details: object) -> None:
    """Remember that the user asked for the destructive action ``key`` (with its details) and
    open its confirmation dialog on the next run."""
    state.CONFIRMS.of(key).set(details)
    state.CONFIRMED.of(key).pop()
    st.rerun()


def pending(key: str) -> dict | None:
    """The details of an action waiting for confirmation."""
    return state.CONFIRMS.of(key).get()


def _drop(key: str) -> None:
    state.CONFIRMS.of(key).pop()
    state.CONFIRMED.of(key).pop()


def confirmed(key: str, title: str, lines: list[str], *, ok: str) -> dict | None:
    """The action's details once the user confirmed it (asked once: then forgotten); while it
    waits, the dialog listing ``lines`` (shown as plain text) with ``ok`` and 取消."""
    details = pending(key)
    if details is None:
        return None
    if state.CONFIRMED.of(key).get():
        _drop(key)
        return details

    # not dismissible: an on_dismiss callback also fires when 确认 closes the dialog (measured with
    # Streamlit 1.67 in Chromium), dropping the answer; 确认 and 取消 are the only ways out
    @st.dialog(title, dismissible=False)
    def _dialog() -> None:
        st.text("\n".join(lines))
        c1, c2 = st.columns(2)
        if c1.button(ok, type="primary", key=f"_ok_{key}"):
            state.CONFIRMED.of(key).set(True)
            st.rerun()
        if c2.button("取消", key=f"_no_{key}"):
            _drop(key)
            st.rerun()

    _dialog()
    return None


def answer_key(key: str) -> str:
    """The session_state key the dialog's 确认 sets (tests answer the dialog through it: AppTest
    cannot reach buttons inside ``st.dialog``)."""
    return state.CONFIRMED.of(key).name
