"""Glue every page shares: the logged-in user, the role check, a database per rerun, messages.

Pages stay thin: read input, call a service of ``portal``, show the result.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import streamlit as st
from sqlite_utils import Database

from portal import accounts, config, navigation, sessions, submissions
from portal.accounts import User
from portal.db import open_db
from portal.errors import PortalError

T = TypeVar("T")


@contextmanager
def database() -> Iterator[Database]:
    """A connection for this rerun (never cached: reruns run on other threads)."""
    with open_db() as db:
        yield db


def resolve_user() -> User | None:
    """The user of this browser session: from the server-side state, else the signed cookie,
    else campus single sign-on (``st.login``) mapped to an account by 工号."""
    with database() as db:
        session_id = st.session_state.get("session_id")
        if session_id:
            user = sessions.resume(db, session_id)
            if user is not None:
                return user
            st.session_state.pop("session_id", None)
            st.session_state["notice"] = "登录已超时或已在别处退出，请重新登录。"
        live = sessions.resume_from_cookie(db, st.context.cookies.get(config.SESSION_COOKIE))
        if live is not None:
            st.session_state["session_id"] = live[0]
            return live[1]
        return _sso_user(db)


def _sso_user(db: Database) -> User | None:
    try:
        logged_in = bool(st.user.is_logged_in)
    except (AttributeError, KeyError, PortalError):
        return None
    if not logged_in:
        return None
    claim = st.secrets.get("portal", {}).get("sso_staff_no_claim", "preferred_username")
    try:
        user = accounts.user_for_sso(db, str(st.user.get(claim, "")))
    except PortalError as exc:
        st.session_state["notice"] = exc.message
        return None
    session_id, _ = sessions.start(db, user.id)
    st.session_state["session_id"] = session_id
    return user


def login(username: str, password: str) -> User:
    """Check the password, open a session, and arrange for the browser to get its cookie."""
    with database() as db:
        user = accounts.authenticate(db, username, password)
        session_id, claim = sessions.start(db, user.id)
    st.session_state["session_id"] = session_id
    st.session_state["pending_claim"] = claim
    return user


def logout() -> None:
    with database() as db:
        sessions.end(db, session_id=st.session_state.get("session_id"))
    st.session_state.clear()
    st.session_state["pending_logout"] = True
    try:
        if st.user.is_logged_in:
            st.logout()
    except (AttributeError, KeyError):
        pass


def send_pending_browser_actions() -> None:
    """Set or clear the HttpOnly cookie through our own routes (portal.server).

    The script holds nothing but a server-made one-time token, never user text.
    """
    claim = st.session_state.pop("pending_claim", None)
    if claim:
        _post_from_browser("/auth/claim", {"X-Portal-Claim": claim})
    if st.session_state.pop("pending_logout", False):
        _post_from_browser("/auth/logout", {})


def _post_from_browser(path: str, headers: dict[str, str]) -> None:
    import json

    script = (
        "<script>fetch("
        + json.dumps(path)
        + ", {method: 'POST', credentials: 'same-origin', headers: "
        + json.dumps(headers)
        + "});</script>"
    )
    with st.sidebar:
        st.iframe(script, height=1)


def require(page_file: str) -> User:
    """Stop the page unless the logged-in user's roles allow it (checked on every run)."""
    user = resolve_user()
    spec = navigation.spec(page_file)
    if user is None or spec is None or not navigation.can_open(user, spec):
        st.error("您没有访问此页面的权限。")
        st.stop()
    return user  # type: ignore[return-value]


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


def show_error(exc: PortalError) -> None:
    """A service's Chinese message; multi-line reports are shown as plain text, never as HTML."""
    lines = str(exc.report() if hasattr(exc, "report") else exc.message).splitlines()
    st.error(lines[0] if lines else "操作失败")
    if len(lines) > 1:
        st.text("\n".join(lines[1:]))


def linked(param: str, what: str, find: Callable[[Database, str], T], select: str | None = None) -> T | None:
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
    except (PortalError, ValueError):
        st.error(f"无法打开链接：{what} {md(value[:40])} 不存在，或您没有查看的权限。")
        return None
    seen = st.session_state.setdefault("_links_opened", {})
    if select is not None and seen.get(select) != value:
        seen[select] = value
        st.session_state[select] = getattr(found, "id", found)
    return found


def form_token(form: str) -> str:
    """The exactly-once token of the form ``form`` as rendered now (see portal/submissions.py).

    Pass it to the creating service through ``submissions.once``. It stays the same across reruns —
    so a double click or a resubmit finds what the first submit made — until ``fresh_form``.
    """
    key = f"_form_token_{form}"
    if key not in st.session_state:
        st.session_state[key] = submissions.new_token()
    return st.session_state[key]


def fresh_form(form: str) -> None:
    """The user asks for a new, empty form: the next submit may create again."""
    st.session_state.pop(f"_form_token_{form}", None)
