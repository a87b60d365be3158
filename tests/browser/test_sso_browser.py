"""Campus single sign-on in a real browser, against real servers started here: a CAS 3.0
server (django-cas-server) and an OIDC provider (oidc-provider-mock).

The portal runs as ``portal serve`` with CAS configured by environment variables and OIDC by
a ``.streamlit/secrets.toml`` in its working folder; auto-provisioning is on."""

from __future__ import annotations

import http.cookiejar
import secrets
import shutil
import sqlite3
import time
import urllib.parse
import urllib.request

import pytest

from portal import provisioning
from portal.db import open_db
from tests.browser.conftest import book_first_free_slot
from tests.browser.serving import free_port, running_server, settle
from tests.idp import ROOT, cas_ticket_redirect

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
        # the CAS server on another site than the portal (localhost, not 127.0.0.1), as on a campus:
        # what the browser sends across sites (SameSite cookies, Origin) is what it would send there
        "PORTAL_CAS_SERVER_URL": cas_server.url.replace("127.0.0.1", "localhost"),
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
    page.on(
        "request",
        lambda r: callbacks.append(r.url) if "/auth/cas/callback?" in r.url and "ticket=" in r.url else None,
    )
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
    page.goto(
        cas_server.url.replace("127.0.0.1", "localhost") + "logout", wait_until="networkidle"
    )  # elsewhere on campus
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
        tab.get_by_text("请重新登录").wait_for()
        tab.goto(base + "/auth/cas/callback?ticket=ST-forged-1234567890", wait_until="networkidle")
        tab.get_by_text("请重新登录").wait_for()
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
    # 退出登录 always passes through the provider's end-session page (RP-initiated logout). Waiting
    # for the portal's own login button instead raced the browser's way there: the portal shows
    # that button for a moment before the browser leaves, and the next goto was then interrupted.
    end_session = page.get_by_role("button", name="End session")
    end_session.wait_for()
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


# --- the trust boundary (issue 19 §1) -----------------------------------------------------------

EVIL = "http://evil.example/"


def _evil_page(page, body: str) -> None:
    """A page of another site (the test answers its address itself) the victim opens."""
    page.route(
        EVIL, lambda route: route.fulfill(status=200, content_type="text/html; charset=utf-8", body=body)
    )
    page.goto(EVIL, wait_until="load")


def _attackers_callback(base: str, username: str) -> str:
    """The attacker starts a login at the portal in his own client, logs in at the CAS server with his
    own account and keeps the address the CAS server sends back to, ticket fresh and unused."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _Stop)
    try:
        opener.open(base + "/auth/cas/login", timeout=20)
    except urllib.error.HTTPError as answer:
        login_url = answer.headers["location"]
    return cas_ticket_redirect(login_url, username, PASSWORD)


class _Stop(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _session_user(db_path, page) -> str | None:
    """Whose portal session the browser's cookie opens (None: no live session)."""
    from portal import sessions

    cookie = next((c["value"] for c in page.context.cookies() if c["name"] == "portal_session"), None)
    with open_db(db_path) as db:
        live = sessions.resume_from_cookie(db, cookie)
    return live[1].username if live else None


def test_a_link_carrying_someone_elses_ticket_logs_nobody_in(sso_portal, page):
    """Login CSRF: a cross-site link with a fresh ticket of the attacker's own account used to put the
    victim's browser in the attacker's account (where the victim's bookings and phone number would
    then land). The callback belongs to the browser that started the login."""
    base = sso_portal["url"]
    callback = _attackers_callback(base, "2029000077")
    _evil_page(page, f'<a id="go" href="{callback}">领取奖品</a>')
    page.click("#go")
    page.wait_for_load_state("networkidle")
    assert _session_user(sso_portal["db"], page) is None
    page.get_by_text("不是从本浏览器发起").wait_for()
    page.goto(base + "/", wait_until="networkidle")
    page.get_by_role("button", name="统一身份认证登录", exact=True).wait_for()


def test_a_login_link_whose_next_is_the_claim_route_keeps_the_victim_in_his_own_account(
    sso_portal, page, browser
):
    """Login CSRF, second path: /auth/cas/login?next=/auth/claim?t=<the attacker's claim token> sent the
    victim, once logged in, to trade the attacker's token for the attacker's session cookie."""
    base = sso_portal["url"]
    other = browser.new_context(locale="zh-CN")
    try:
        attacker = other.new_page()
        claims: list[str] = []

        def keep(route):
            claims.append(route.request.url)
            route.abort()

        attacker.route("**/auth/claim*", keep)
        attacker.goto(base + "/", wait_until="networkidle")
        attacker.get_by_label("账号（工号或学号）").fill("2023000001")
        attacker.get_by_label("密码", exact=True).fill("demo1234")
        attacker.get_by_role("button", name="登录", exact=True).click()
        attacker.get_by_role("button", name="退出登录").wait_for()
        for _ in range(50):
            if claims:
                break
            attacker.wait_for_timeout(100)
    finally:
        other.close()
    token = urllib.parse.parse_qs(urllib.parse.urlsplit(claims[0]).query)["t"][0]
    page.goto(base + "/auth/cas/login?next=" + urllib.parse.quote(f"/auth/claim?t={token}"))
    page.locator("input[name=username]").fill("30000001")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(1000)
    assert _session_user(sso_portal["db"], page) == "30000001"
    assert "/auth/" not in page.url
    page.get_by_role("button", name="退出登录").wait_for()


def test_a_cross_site_logout_link_ends_nothing(sso_portal, page):
    """Logout CSRF: a link (or a self-submitting form) on another site to /auth/cas/logout ended the
    campus SSO session. Now it ends neither that nor the portal session."""
    base = sso_portal["url"]
    cas_login(page, base, "30000001")
    _evil_page(
        page,
        f'<a id="go" href="{base}/auth/cas/logout">看看</a>'
        f'<form id="f" method="post" action="{base}/auth/cas/logout"></form>',
    )
    page.click("#go")
    page.wait_for_load_state("networkidle")
    _evil_page(page, f'<form id="f" method="post" action="{base}/auth/cas/logout"><button>go</button></form>')
    page.click("button")
    page.wait_for_load_state("networkidle")
    assert _session_user(sso_portal["db"], page) == "30000001"
    # still logged in at the CAS server: a new login comes straight back, no password asked
    page.goto(base + "/auth/cas/login", wait_until="networkidle")
    page.get_by_role("button", name="退出登录").wait_for()
    assert not page.locator("input[name=password]").count()


def test_the_ticket_leaves_the_address_bar_and_the_history(sso_portal, page):
    base = sso_portal["url"]
    cas_login(page, base, "30000001")
    assert "ticket=" not in page.url
    assert "ticket=" not in page.evaluate("document.referrer")
    # back: the CAS server, still logged in, answers with a new ticket at once; the portal, already
    # logged in, opens nothing new and lands on a clean address again
    page.go_back(wait_until="networkidle")
    page.get_by_role("button", name="退出登录").wait_for()
    assert "ticket=" not in page.url
    with open_db(sso_portal["db"]) as db:
        assert (
            db.execute(
                "SELECT count(*) FROM sessions WHERE ended_at IS NULL AND sso_key LIKE 'cas:%'"
            ).fetchone()[0]
            >= 1
        )


def _oidc_login(page) -> None:
    page.get_by_role("button", name="统一身份认证登录（OIDC）").click()
    page.get_by_role("button", name="oidc-30000002").click()
    page.get_by_role("button", name="退出登录").wait_for()
    settle(page)


def test_a_deep_link_survives_an_oidc_login(sso_portal, page):
    """Issue 19 §1.7: a link opened logged out lands on its page after the OIDC provider (CAS kept it,
    OIDC went to the home page)."""
    base = sso_portal["url"]
    page.goto(base + "/reception_roster?date=2026-11-25", wait_until="networkidle")
    _oidc_login(page)
    page.get_by_role("heading", name="接待日安排").wait_for()
    assert page.url.startswith(base + "/reception_roster")
    # once: a reload of the home page afterwards stays on the home page
    page.goto(base + "/", wait_until="networkidle")
    page.get_by_role("button", name="退出登录").wait_for()
    settle(page)
    assert not page.get_by_role("heading", name="接待日安排").count()


def test_logout_ends_the_oidc_providers_session(sso_portal, oidc_provider, page):
    """Issue 19 §1.7: 退出登录 calls the provider's end_session_endpoint (RP-initiated logout), so the
    provider's session ends too."""
    base = sso_portal["url"]
    page.goto(base + "/", wait_until="networkidle")
    _oidc_login(page)
    with page.expect_request(
        lambda r: r.url.startswith(oidc_provider + "/oauth2/end_session"), timeout=20_000
    ) as ask:
        page.get_by_role("button", name="退出登录").click()
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(ask.value.url).query)
    assert query.get("id_token_hint") and query.get("post_logout_redirect_uri")


def test_a_cross_site_link_to_the_oidc_logout_ends_nothing(sso_portal, oidc_provider, page):
    """Streamlit's own /auth/logout answers a GET: a link on another site ended the identity cookie and
    sent the browser to the provider's end_session_endpoint. Refused from other sites now."""
    base = sso_portal["url"]
    page.goto(base + "/", wait_until="networkidle")
    _oidc_login(page)
    ended: list[str] = []
    page.on("request", lambda r: ended.append(r.url) if "/oauth2/end_session" in r.url else None)
    _evil_page(page, f'<a id="go" href="{base}/auth/logout">看看</a>')
    page.click("#go")
    page.wait_for_load_state("networkidle")
    assert not ended
    assert any(c["name"] == "_streamlit_user" for c in page.context.cookies())
    page.goto(base + "/", wait_until="networkidle")
    page.get_by_role("button", name="退出登录").wait_for()


def test_an_oidc_callback_from_another_browser_logs_nobody_in(sso_portal, page, browser):
    """Login CSRF on the OIDC path: Streamlit's callback checks its state against its own session
    cookie (Authlib), so a callback URL with a fresh code of the attacker's login, opened in the
    victim's browser, opens nothing — while in the attacker's own browser it logs in. No gap to close
    here; this keeps it so."""
    base = sso_portal["url"]
    other = browser.new_context(locale="zh-CN")
    try:
        attacker = other.new_page()
        kept: list[str] = []

        def keep(route):
            # the provider's answer to the attacker's choice: a redirect to our callback, kept unused
            if route.request.method != "POST":
                route.continue_()
                return
            answer = route.fetch(max_redirects=0)
            kept.append(answer.headers.get("location", ""))
            route.abort()

        attacker.route("**/oauth2/authorize*", keep)
        attacker.goto(base + "/", wait_until="networkidle")
        attacker.get_by_role("button", name="统一身份认证登录（OIDC）").click()
        attacker.get_by_role("button", name="oidc-30000002").click()
        for _ in range(50):
            if kept:
                break
            attacker.wait_for_timeout(100)
        assert kept and "code=" in kept[0]
        page.goto(kept[0], wait_until="networkidle")
        page.goto(base + "/", wait_until="networkidle")
        page.get_by_role("button", name="统一身份认证登录（OIDC）").wait_for()
        assert not page.get_by_role("button", name="退出登录").count()
        assert not any(c["name"] in ("_streamlit_user", "portal_session") for c in page.context.cookies())
        attacker.goto(kept[0], wait_until="networkidle")  # the same address, in the browser that asked
        attacker.get_by_role("button", name="退出登录").wait_for()
    finally:
        other.close()
