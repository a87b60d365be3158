"""Campus single sign-on in a real browser, against real servers started here: a CAS 3.0
server (django-cas-server) and an OIDC provider (oidc-provider-mock).

The portal runs as ``portal serve`` with CAS configured by environment variables and OIDC by
a ``.streamlit/secrets.toml`` in its working folder; auto-provisioning is on."""

from __future__ import annotations

import secrets
import shutil
import sqlite3
import time

import pytest

from portal import provisioning
from portal.db import open_db
from tests.browser.conftest import book_first_free_slot
from tests.browser.serving import free_port, running_server, settle
from tests.idp import ROOT

PASSWORD = "campus-pw-1"
USERS = {
    "30000001": {"password": PASSWORD, "attributes": {"name": "任意", "kind": "教职工"}},
    "2029000077": {"password": PASSWORD, "attributes": {"name": "新生小王", "kind": "本科生"}},
}


@pytest.fixture(scope="module")
def oidc_provider():
    from oidc_provider_mock import User, run_server_in_thread

    people = [User(sub="oidc-30000002", claims={"preferred_username": "30000002", "name": "某某"})]
    with run_server_in_thread(port=free_port(), user_claims=people) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture(scope="module")
def sso_portal(tmp_path_factory, cas_server, oidc_provider):
    cas_server.set_users(USERS)

    def prepare(db_path, base):
        with open_db(db_path) as db:
            provisioning.set_enabled(db, True, None)
        auth = {  # made here, for this run only
            "redirect_uri": f"{base}/oauth2callback",
            "cookie_secret": secrets.token_urlsafe(24),
            "client_id": "contact-portal",
            "client_secret": secrets.token_urlsafe(12),
            "server_metadata_url": f"{oidc_provider}/.well-known/openid-configuration",
        }
        folder = db_path.parent / ".streamlit"
        folder.mkdir(exist_ok=True)
        shutil.copy(ROOT / ".streamlit" / "config.toml", folder / "config.toml")  # the theme, as deployed
        (folder / "secrets.toml").write_text("[auth]\n" + "".join(f'{k} = "{v}"\n' for k, v in auth.items()))

    settings = {
        "PORTAL_CAS_SERVER_URL": cas_server.url,
        "PORTAL_CAS_NAME_ATTRIBUTE": "name",
        "PORTAL_CAS_KIND_ATTRIBUTE": "kind",
    }
    folder = tmp_path_factory.mktemp("sso-portal")
    with running_server(folder, settings, prepare, cwd=folder) as running:
        yield running


def _query(db_path, sql, params=()):
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def cas_login(page, base: str, username: str) -> list[str]:
    """Log in through the CAS server; returns the callback URLs the browser opened."""
    callbacks: list[str] = []
    page.on("request", lambda r: callbacks.append(r.url) if "/auth/cas/callback?ticket=" in r.url else None)
    page.goto(base + "/", wait_until="networkidle")
    page.get_by_role("button", name="统一身份认证登录", exact=True).click()
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("button[type=submit]").click()
    page.get_by_role("button", name="退出登录").wait_for()
    settle(page)
    return callbacks


def test_cas_login_and_logout(sso_portal, page):
    base = sso_portal["url"]
    cas_login(page, base, "30000001")
    name = _query(sso_portal["db"], "SELECT display_name FROM users WHERE username = '30000001'")[0][0]
    page.get_by_text(name).first.wait_for()
    page.reload(wait_until="networkidle")  # the same HttpOnly session cookie as password login
    page.get_by_role("button", name="退出登录").wait_for()
    assert (
        len(
            _query(
                sso_portal["db"], "SELECT id FROM sessions WHERE sso_key LIKE 'cas:%' AND ended_at IS NULL"
            )
        )
        == 1
    )

    with page.expect_request(lambda r: r.url.startswith(base + "/auth/cas/logout")):
        page.get_by_role("button", name="退出登录").click()
    page.wait_for_load_state("networkidle")
    page.goto(base + "/", wait_until="networkidle")
    page.get_by_role("button", name="统一身份认证登录", exact=True).wait_for()
    assert not _query(
        sso_portal["db"], "SELECT id FROM sessions WHERE sso_key LIKE 'cas:%' AND ended_at IS NULL"
    )
    # logged out of CAS too: the CAS server asks for the password again
    page.get_by_role("button", name="统一身份认证登录", exact=True).click()
    page.locator("input[name=password]").wait_for()


def test_single_logout_at_the_cas_server_ends_the_portal_session(sso_portal, cas_server, page):
    base = sso_portal["url"]
    cas_login(page, base, "30000001")
    live = "SELECT id FROM sessions WHERE sso_key LIKE 'cas:%' AND ended_at IS NULL"
    assert len(_query(sso_portal["db"], live)) == 1
    page.goto(cas_server.url + "logout", wait_until="networkidle")  # logging out elsewhere on campus
    deadline = time.time() + 10
    while _query(sso_portal["db"], live):
        assert time.time() < deadline, "the CAS server's LogoutRequest did not end the session"
        time.sleep(0.2)
    page.goto(base + "/", wait_until="networkidle")
    page.get_by_role("button", name="统一身份认证登录", exact=True).wait_for()


def test_first_time_student_is_provisioned_and_books(sso_portal, page):
    base = sso_portal["url"]
    cas_login(page, base, "2029000077")
    page.get_by_text("新生小王").first.wait_for()
    page.get_by_role("link", name="预约接待").first.click()
    page.get_by_role("heading", name="预约接待").wait_for()
    settle(page)
    book_first_free_slot(page, "新生宿舍网络", "13800138077")
    page.get_by_text("预约成功").wait_for()
    rows = _query(
        sso_portal["db"],
        "SELECT p.kind, b.status FROM bookings b JOIN users u ON u.id = b.user_id JOIN people p ON p.id = u.person_id "
        "WHERE u.username = '2029000077'",
    )
    assert rows == [("学生", "booked")]


def test_forged_and_replayed_tickets_are_refused(sso_portal, page, browser):
    base = sso_portal["url"]
    callbacks = cas_login(page, base, "30000001")
    assert callbacks
    other = browser.new_context(locale="zh-CN")
    try:
        tab = other.new_page()
        tab.goto(callbacks[0], wait_until="networkidle")
        tab.get_by_text("票据无效").wait_for()
        tab.goto(base + "/auth/cas/callback?ticket=ST-forged-1234567890", wait_until="networkidle")
        tab.get_by_text("票据无效").wait_for()
        assert not [c for c in other.cookies() if c["name"] == "portal_session"]
        tab.goto(base + "/", wait_until="networkidle")
        tab.get_by_role("button", name="统一身份认证登录", exact=True).wait_for()
    finally:
        other.close()


def test_oidc_login_against_the_provider(sso_portal, page):
    base = sso_portal["url"]
    page.goto(base + "/", wait_until="networkidle")
    page.get_by_role("button", name="统一身份认证登录（OIDC）").click()
    page.get_by_role("button", name="oidc-30000002").click()
    page.get_by_role("button", name="退出登录").wait_for()
    settle(page)
    name = _query(sso_portal["db"], "SELECT display_name FROM users WHERE username = '30000002'")[0][0]
    page.get_by_text(name).first.wait_for()
    for _ in range(2):
        page.reload(wait_until="networkidle")
        page.get_by_role("button", name="退出登录").wait_for()
    # one login at the provider is one portal session, however often the page is reloaded
    assert len(_query(sso_portal["db"], "SELECT id FROM sessions WHERE sso_key LIKE 'oidc:%'")) == 1
    # and one audited login, from the browser's address
    logins = "SELECT outcome, address, detail FROM audit_log WHERE action = 'login.oidc'"
    assert _query(sso_portal["db"], logins) == [("ok", "127.0.0.1", "30000002")]


def test_oidc_logout_ends_the_session(sso_portal, page):
    base = sso_portal["url"]
    page.goto(base + "/", wait_until="networkidle")
    page.get_by_role("button", name="统一身份认证登录（OIDC）").click()
    page.get_by_role("button", name="oidc-30000002").click()
    page.get_by_role("button", name="退出登录").wait_for()
    settle(page)
    latest = "SELECT ended_at FROM sessions WHERE sso_key LIKE 'oidc:%' ORDER BY rowid DESC LIMIT 1"
    assert _query(sso_portal["db"], latest) == [(None,)]
    page.get_by_role("button", name="退出登录").click()
    # st.logout may pass through the provider's end-session page (RP-initiated logout)
    end_session = page.get_by_role("button", name="End session")
    end_session.or_(page.get_by_role("button", name="统一身份认证登录（OIDC）")).first.wait_for()
    if end_session.count():
        end_session.click()
        page.wait_for_load_state("networkidle")
    page.goto(base + "/", wait_until="networkidle")
    page.get_by_role("button", name="统一身份认证登录（OIDC）").wait_for()
    assert _query(sso_portal["db"], latest)[0][0] is not None


def test_cas_login_lands_on_the_page_it_was_asked_for(sso_portal, page):
    """``/auth/cas/login?next=…`` (what the login page's button sends, with the address it was
    opened at) brings the person back to that page after the CAS server."""
    base = sso_portal["url"]
    page.goto(base + "/auth/cas/login?next=%2Faccount")
    page.locator("input[name=username]").fill("30000001")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("button[type=submit]").click()
    page.get_by_role("heading", name="我的账号").wait_for()
    assert page.url.startswith(base + "/account")
