"""The session cookie behind HTTPS is ``__Host-portal_session``, and only that name opens a session,
against a real `portal serve` (pages over Streamlit's WebSocket, our routes over HTTP).

A campus has hundreds of hosts under its domain. Any of them (a club's site, a forgotten test server,
one served over plain http) can set a cookie named ``portal_session`` for the whole domain: planted
with the attacker's own session, it put a logged-out visitor of the portal in the attacker's account,
where the visitor's booking, telephone number and opinions then landed (login CSRF by cookie tossing;
the CAS state cookie had the prefix already). A browser takes a ``__Host-`` cookie from the portal's
own host over HTTPS only, never with a ``Domain``."""

from __future__ import annotations

import asyncio
import shutil
import urllib.parse

import pytest

from portal import accounts, sessions
from portal.db import open_db
from tests import live
from tests.stclient import Tab

PUBLIC = "https://portal.example.edu.cn"


@pytest.fixture(scope="module")
def https_portal(tmp_path_factory, _demo_template):
    """``portal serve`` behind HTTPS as docs/deployment.md has it (the public address is https)."""
    folder = tmp_path_factory.mktemp("https")
    path = folder / "portal.sqlite3"
    shutil.copy(_demo_template, path)
    with live.serve(path, PORTAL_TODAY="2026-11-24", PORTAL_PUBLIC_URL=PUBLIC) as base:
        yield base, path


def _session(path, username: str) -> str:
    """A live session's signed cookie value, as the portal's own login hands it out."""
    with open_db(path) as db:
        _, claim = sessions.start(db, accounts.find_user(db, username).id)
        value = sessions.claim(db, claim)
    assert value
    return value


def _page(base: str, cookie: str, headers: dict[str, str] | None = None):
    async def visit():
        tab = Tab(base, cookie, headers=headers)
        try:
            return await tab.open()
        finally:
            await tab.close()

    return asyncio.run(visit())


def test_behind_https_a_plainly_named_session_cookie_opens_nothing(https_portal):
    base, path = https_portal
    attackers = _session(path, "2023000001")  # the attacker's own, genuine session
    planted = _page(base, f"portal_session={attackers}")
    assert "账号（工号或学号）" in planted.widgets, "the visitor sees the login form, in nobody's account"
    assert "退出登录" not in planted.widgets
    own = _page(base, f"__Host-portal_session={attackers}")
    assert "退出登录" in own.widgets and "账号（工号或学号）" not in own.widgets
    # our routes read it the same way: an administrator's metrics need the administrator's own cookie
    admins = _session(path, "admin")
    assert live.http("GET", base + "/_stcore/metrics", {"Cookie": f"portal_session={admins}"})[0] == 403
    assert (
        live.http("GET", base + "/_stcore/metrics", {"Cookie": f"__Host-portal_session={admins}"})[0] == 200
    )


def test_behind_https_the_portal_sets_a_host_only_secure_cookie(https_portal):
    base, path = https_portal
    with open_db(path) as db:
        _, claim = sessions.start(db, accounts.find_user(db, "30000001").id)
    status, headers, _ = live.http(
        "GET",
        base + "/auth/claim?" + urllib.parse.urlencode({"t": claim}),
        {"Sec-Fetch-Site": "same-origin", "X-Forwarded-Proto": "https"},
    )
    assert status == 200
    cookie = headers["set-cookie"]
    assert cookie.startswith("__Host-portal_session=")
    attributes = [a.strip().lower() for a in cookie.split(";")[1:]]
    assert {"secure", "httponly", "path=/", "samesite=strict"} <= set(attributes)
    assert not any(a.startswith("domain") for a in attributes)
    value = cookie.split(";")[0].split("=", 1)[1]
    # logging out deletes that cookie (Secure, or the browser would keep it)
    status, headers, _ = live.http(
        "GET",
        base + "/auth/end",
        {"Sec-Fetch-Site": "same-origin", "Cookie": f"__Host-portal_session={value}"},
    )
    assert status == 200 and headers["set-cookie"].startswith('__Host-portal_session=""')
    assert "secure" in headers["set-cookie"].lower()
    with open_db(path) as db:
        assert sessions.resume_from_cookie(db, value) is None  # ended on the server too


def test_over_plain_http_the_plain_name_still_works(tmp_path, _demo_template):
    """The quickstart and test machines (no HTTPS, no prefix possible): as before."""
    path = tmp_path / "portal.sqlite3"
    shutil.copy(_demo_template, path)
    with live.serve(path, PORTAL_TODAY="2026-11-24") as base:
        run = _page(base, f"portal_session={_session(path, '2023000001')}")
        assert "退出登录" in run.widgets
