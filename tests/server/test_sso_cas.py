"""CAS sign-in against a real CAS 3.0 server: the ticket opens the same portal session as
password login, attributes become a provisioned 师生 account when allowed, a replayed or
forged ticket is refused, single logout ends the session."""

from __future__ import annotations

import html
import http.cookiejar
import http.server
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from email.message import Message

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware

from portal import accounts, audit, config, navigation, org, provisioning, server, sessions, sso
from portal.errors import AuthError
from portal.request_log import RequestLog
from portal.settings import SettingsError
from tests.idp import ROOT, free_port

PASSWORD = "campus-pw-1"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """A cookie jar that follows no redirect: each hop is looked at."""

    def __init__(self) -> None:
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect)

    def get(
        self, url: str, data: dict | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Message, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(url, data=body, headers=headers or {})
        try:
            with self.opener.open(request, timeout=20) as r:
                return r.status, r.headers, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read().decode()

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.jar if c.name == name), None)


@pytest.fixture(scope="module")
def portal_routes():
    """The portal's own routes (portal.server.routes) served by uvicorn on 127.0.0.1, behind the
    middleware that decides the client's address, as `portal serve` has them."""
    port = free_port()
    app = Starlette(routes=server.routes(), middleware=[Middleware(RequestLog)])
    instance = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    while not instance.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    instance.should_exit = True
    thread.join(10)


@pytest.fixture
def campus(cas_server, portal_routes, monkeypatch, demo_db):
    monkeypatch.setenv("PORTAL_CAS_SERVER_URL", cas_server.url)
    monkeypatch.setenv("PORTAL_PUBLIC_URL", portal_routes)
    monkeypatch.setenv("PORTAL_CAS_NAME_ATTRIBUTE", "name")
    monkeypatch.setenv("PORTAL_CAS_KIND_ATTRIBUTE", "kind")
    cas_server.set_users(
        {
            "30000001": {"password": PASSWORD, "attributes": {"name": "任意", "kind": "教职工"}},
            "2029000042": {"password": PASSWORD, "attributes": {"name": "新同学", "kind": "本科生"}},
            "2029000043": {
                "password": PASSWORD,
                "attributes": {"name": "团员同学", "kind": ["本科生", "共青团员"]},
            },
            "2029000044": {"password": PASSWORD, "attributes": {"name": "进修学员", "kind": "继续教育学员"}},
            "2029000045": {
                "password": PASSWORD,
                "attributes": {"name": "在职博士", "kind": ["博士研究生", "教职工"]},
            },
            "10000001": {"password": PASSWORD, "attributes": {"name": "书记", "kind": "教职工"}},
            "admin": {"password": PASSWORD, "attributes": {"name": "冒名者", "kind": "教职工"}},
            "JiaoWu": {"password": PASSWORD, "attributes": {"name": "冒名者", "kind": "教职工"}},
        }
    )
    return {"cas": cas_server, "portal": portal_routes, "db": demo_db}


def cas_login(campus, browser: Browser, username: str, next_path: str = "") -> str:
    """Log in at the CAS server through the portal's /auth/cas/login; returns the callback URL."""
    query = "?" + urllib.parse.urlencode({"next": next_path}) if next_path else ""
    status, headers, _ = browser.get(campus["portal"] + "/auth/cas/login" + query)
    assert status == 302
    login_url = headers["location"]
    assert login_url.startswith(campus["cas"].url + "login?service=")
    status, headers, page = browser.get(login_url)
    if status == 302:  # already logged in at CAS: straight back with a new ticket
        return headers["location"]
    fields = {k: html.unescape(v) for k, v in re.findall(r'name="([^"]+)"[^>]*value="([^"]*)"', page)}
    fields.update(username=username, password=PASSWORD)
    status, headers, _ = browser.get(login_url, fields)
    assert status == 302, "the CAS server sends the browser back with a ticket"
    assert headers["location"].startswith(campus["portal"] + sso.CALLBACK_PATH + "?")
    assert "ticket=ST-" in headers["location"]
    return headers["location"]


def test_cas_login_starts_the_portal_session(campus):
    browser = Browser()
    status, headers, _ = browser.get(cas_login(campus, browser, "30000001"))
    assert status == 303 and headers["location"] == "/"
    live = sessions.resume_from_cookie(campus["db"], browser.cookie(config.SESSION_COOKIE))
    assert live is not None and live[1].username == "30000001"
    entry = audit.search(campus["db"], category="login.").entries[0]
    assert (entry.action, entry.outcome, entry.address) == ("login.cas", "ok", "127.0.0.1")
    assert entry.actor.startswith("30000001")


def test_replayed_and_forged_tickets_are_refused(campus):
    browser = Browser()
    callback = cas_login(campus, browser, "30000001")
    assert browser.get(callback)[0] == 303
    # a replay, even by a browser holding a login state of its own: the CAS server refuses the ticket
    replay = Browser()
    status, headers, _ = replay.get(campus["portal"] + "/auth/cas/login")
    state = _query(_query(headers["location"])["service"])["state"]
    status, _, page = replay.get(
        campus["portal"] + sso.CALLBACK_PATH + f"?state={state}&ticket={_query(callback)['ticket']}"
    )
    assert status == 403 and "票据无效" in page and replay.cookie(config.SESSION_COOKIE) is None
    status, headers, _ = replay.get(campus["portal"] + "/auth/cas/login")
    state = _query(_query(headers["location"])["service"])["state"]
    forged = campus["portal"] + sso.CALLBACK_PATH + f"?state={state}&ticket=ST-forged-0123456789"
    status, _, _ = replay.get(forged)
    assert status == 403 and replay.cookie(config.SESSION_COOKIE) is None
    refused = audit.search(campus["db"], category="login.", outcome="failed").entries
    assert len(refused) == 2 and all(e.address == "127.0.0.1" and "票据无效" in e.detail for e in refused)


def test_unknown_person_is_refused_unless_auto_provisioning_is_on(campus):
    db = campus["db"]
    browser = Browser()
    status, _, page = browser.get(cas_login(campus, browser, "2029000042"))
    assert status == 403 and "没有与该工号对应的账号" in page
    assert accounts.find_user(db, "2029000042") is None
    refused = audit.search(db, category="login.", outcome="refused").entries[0]
    assert refused.actor == "2029000042" and "没有与该工号对应的账号" in refused.detail

    admin = accounts.find_user(db, "admin")
    provisioning.set_enabled(db, True, admin.id)
    status, _, _ = browser.get(cas_login(campus, browser, "2029000042"))
    assert status == 303
    user = accounts.find_user(db, "2029000042")
    assert user.display_name == "新同学" and [r.role for r in user.roles] == ["visitor"]
    person = org.person_by_staff_no(db, "2029000042")
    assert person.kind == "学生" and user.person_id == person.id


def test_a_disabled_account_stays_disabled(campus):
    db = campus["db"]
    provisioning.set_enabled(db, True, None)
    accounts.set_active(db, accounts.find_user(db, "30000001").id, False)
    browser = Browser()
    status, _, page = browser.get(cas_login(campus, browser, "30000001"))
    assert status == 403 and "停用" in page and browser.cookie(config.SESSION_COOKIE) is None


def test_single_logout_from_the_cas_server_ends_the_session(campus):
    browser = Browser()
    browser.get(cas_login(campus, browser, "30000001"))
    cookie = browser.cookie(config.SESSION_COOKIE)
    assert sessions.resume_from_cookie(campus["db"], cookie) is not None
    browser.get(campus["cas"].url + "logout")  # the CAS server posts a LogoutRequest to our callback
    deadline = time.time() + 10
    while sessions.resume_from_cookie(campus["db"], cookie) is not None:
        assert time.time() < deadline, "single logout did not end the session"
        time.sleep(0.2)
    ended = audit.search(campus["db"], category="session.").entries[0]
    assert ended.detail == "统一身份认证单点退出" and ended.actor.startswith("30000001")


def test_portal_logout_ends_the_session_and_leaves_cas(campus):
    browser = Browser()
    browser.get(cas_login(campus, browser, "30000001"))
    cookie = browser.cookie(config.SESSION_COOKIE)
    status, _, page = browser.get(
        campus["portal"] + "/auth/cas/logout", {}, headers={"Origin": campus["portal"]}
    )
    assert status == 200 and f'content="0;url={campus["cas"].url}logout?service=' in page
    assert sessions.resume_from_cookie(campus["db"], cookie) is None
    browser.get(campus["cas"].url + "logout?service=x")  # the browser follows the page
    status, headers, page = browser.get(campus["portal"] + "/auth/cas/login")
    status, _, page = browser.get(headers["location"])
    assert status == 200 and 'name="password"' in page, "logged out of CAS: the CAS server asks again"
    out = audit.search(campus["db"], category="logout").entries[0]
    assert out.detail == "统一身份认证（CAS）登录" and out.address == "127.0.0.1"


def test_cas_routes_are_absent_when_cas_is_not_configured(portal_routes, monkeypatch):
    monkeypatch.delenv("PORTAL_CAS_SERVER_URL", raising=False)
    assert Browser().get(portal_routes + "/auth/cas/login")[0] == 404


def test_logout_request_is_read_and_junk_is_ignored():
    request = (
        '<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
        'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="x" Version="2.0" IssueInstant="2026-11-24T10:00:00Z">'
        "<saml:NameID>@NOT_USED@</saml:NameID><samlp:SessionIndex>ST-42</samlp:SessionIndex></samlp:LogoutRequest>"
    )
    assert sso.logout_ticket(request) == "ST-42"
    assert sso.logout_ticket("<not-xml") is None
    assert sso.logout_ticket('<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>') is None


def test_person_kind_from_campus_values(monkeypatch):
    assert [sso.person_kind([v]) for v in ("本科生", "研究生", "教师", "在职职工", "退休", "Student")] == [
        "学生",
        "学生",
        "教职工",
        "教职工",
        "离退休",
        "学生",
    ]
    # several values: the unknown ones are passed over, then 离退休 > 教职工 > 学生 > 其他
    assert sso.person_kind(["共青团员", "本科生"]) == "学生"
    assert sso.person_kind(["研究生", "教职工"]) == "教职工"
    assert sso.person_kind(["教职工", "离退休"]) == "离退休"
    for unknown in ([], [""], ["访客"], ["继续教育学员"], ["员"]):
        with pytest.raises(sso.UnknownPersonKind):
            sso.person_kind(unknown)
    # the table is configuration: entries added or changed, in the environment or secrets.toml
    monkeypatch.setenv("PORTAL_PERSON_KINDS", "继续教育学员=学生, 访客=其他;博士后=学生")
    assert sso.person_kind(["继续教育学员"]) == "学生"
    assert sso.person_kind(["访客"]) == "其他"
    assert sso.person_kind(["博士后"]) == "学生"
    monkeypatch.setenv("PORTAL_PERSON_KINDS", "访客=游客")
    with pytest.raises(SettingsError, match="游客"):
        sso.person_kind(["访客"])


def test_cas_2_service_validate_works_too(campus, monkeypatch):
    monkeypatch.setenv("PORTAL_CAS_VERSION", "2")
    browser = Browser()
    status, _, _ = browser.get(cas_login(campus, browser, "30000001"))
    assert status == 303
    assert (
        sessions.resume_from_cookie(campus["db"], browser.cookie(config.SESSION_COOKIE))[1].username
        == "30000001"
    )


def test_settings_come_from_secrets_toml_when_the_environment_is_silent(tmp_path, monkeypatch):
    for name in ("PORTAL_CAS_SERVER_URL", "PORTAL_PASSWORD_LOGIN", "PORTAL_PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    assert sso.cas_settings() is None and sso.password_login_enabled()
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "secrets.toml").write_text(
        '[cas]\nserver_url = "https://cas.example.edu.cn/cas/"\nversion = 2\nstaff_no_attribute = "uid"\n'
        'public_url = "https://portal.example.edu.cn/"\n\n[portal]\npassword_login = false\n',
        encoding="utf-8",
    )
    settings = sso.cas_settings()
    assert settings.version == 2 and settings.staff_no_attribute == "uid" and settings.name_attribute == "cn"
    assert settings.public_url == "https://portal.example.edu.cn"
    assert settings.client().validate_url == "https://cas.example.edu.cn/cas/serviceValidate"
    assert not sso.password_login_enabled()
    monkeypatch.setenv("PORTAL_PASSWORD_LOGIN", "1")  # the environment wins
    assert sso.password_login_enabled()


def test_an_identity_without_a_usable_staff_number_is_refused(db):
    provisioning.set_enabled(db, True, None)
    for staff_no in ("", "<script>", "a" * 200):
        with pytest.raises(AuthError):
            provisioning.account_for(db, sso.Identity(source="cas", staff_no=staff_no, name="x"))
    assert db.execute("SELECT count(*) FROM users").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM people").fetchone()[0] == 0


def test_a_deep_link_survives_the_cas_round_trip(campus):
    browser = Browser()
    status, headers, _ = browser.get(cas_login(campus, browser, "30000001", "/my_cases?no=2026-0007"))
    assert status == 303 and headers["location"] == "/my_cases?no=2026-0007"
    for hostile in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"):
        browser = Browser()
        status, headers, _ = browser.get(cas_login(campus, browser, "30000001", hostile))
        assert status == 303 and headers["location"] == "/", hostile


def test_our_routes_leave_streamlits_own_login_routes_alone():
    """st.logout sends the browser to /auth/logout: a route of ours there would swallow it and the
    OIDC login would never end (found when the portal's logout became a GET)."""
    paths = {route.path for route in server.routes()}
    assert not paths & set(server.STREAMLIT_AUTH_PATHS)


# --- the trust boundary (issue 19 §1) -----------------------------------------------------------


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in urllib.parse.parse_qs(urllib.parse.urlsplit(url).query).items()}


def ticket_at_cas(campus, browser: Browser, service: str, username: str) -> str:
    """``username`` logs in at the CAS server for ``service`` (any site the CAS server accepts);
    the ticket it issues, taken from the redirect and never used."""
    login_url = campus["cas"].url + "login?" + urllib.parse.urlencode({"service": service})
    status, headers, page = browser.get(login_url)
    if status != 302:
        fields = {k: html.unescape(v) for k, v in re.findall(r'name="([^"]+)"[^>]*value="([^"]*)"', page)}
        fields.update(username=username, password=PASSWORD)
        status, headers, _ = browser.get(login_url, fields)
    assert status == 302 and headers["location"].startswith(service.split("?")[0])
    return _query(headers["location"])["ticket"]


def test_a_ticket_for_another_site_never_opens_a_session_without_the_public_url(campus, monkeypatch):
    """§1.1: with PORTAL_PUBLIC_URL unset, the service URL came from X-Forwarded-Host: a ticket the victim
    obtained for another site, replayed with that site as X-Forwarded-Host, logged the attacker in as
    the victim. Now CAS does not work at all without the public address."""
    monkeypatch.delenv("PORTAL_PUBLIC_URL")
    evil = f"127.0.0.1:{free_port()}"  # another site the CAS server issues tickets for
    ticket = ticket_at_cas(campus, Browser(), f"http://{evil}{sso.CALLBACK_PATH}", "10000001")
    attacker = Browser()
    status, _, page = attacker.get(
        f"{campus['portal']}{sso.CALLBACK_PATH}?ticket={ticket}", headers={"X-Forwarded-Host": evil}
    )
    assert attacker.cookie(config.SESSION_COOKIE) is None
    assert status == 503 and "PORTAL_PUBLIC_URL" in page
    assert attacker.get(campus["portal"] + "/auth/cas/login")[0] == 503


def test_a_ticket_for_another_site_is_refused_whatever_the_forwarded_host(campus):
    """§1.1 with the public address set, and an attacker holding a login state of his own: the service
    URL is the public address's, never a header's."""
    attacker = Browser()
    status, headers, _ = attacker.get(campus["portal"] + "/auth/cas/login")
    service = _query(headers["location"])["service"]
    ours = urllib.parse.urlsplit(campus["portal"]).netloc
    evil = f"127.0.0.1:{free_port()}"
    ticket = ticket_at_cas(campus, Browser(), service.replace(ours, evil), "10000001")
    joined = service + ("&" if "?" in service else "?") + f"ticket={ticket}"
    status, _, page = attacker.get(joined, headers={"X-Forwarded-Host": evil})
    assert status == 403 and attacker.cookie(config.SESSION_COOKIE) is None


def test_serve_refuses_to_start_with_cas_and_no_public_url(tmp_path):
    env = {**os.environ, "PORTAL_DB": str(tmp_path / "portal.sqlite3")}
    env["PORTAL_CAS_SERVER_URL"] = "https://cas.example.edu.cn/cas/"
    env.pop("PORTAL_PUBLIC_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "portal", "serve", "--port", str(free_port())],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        out, _ = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail("portal serve started with CAS on and no PORTAL_PUBLIC_URL")
    text = out.decode()
    assert proc.returncode != 0
    assert "PORTAL_PUBLIC_URL" in text and "统一身份认证" in text and "public address" in text


def test_a_callback_opened_in_another_browser_is_refused(campus):
    """§1.3 login CSRF: the callback belongs to the browser that started the login (a signed state
    cookie carries the nonce the service URL holds). A link carrying a fresh ticket of the attacker's
    own account puts nobody else in it."""
    attacker = Browser()
    callback = cas_login(campus, attacker, "30000001")  # the attacker's own login, not followed
    victim = Browser()
    status, _, page = victim.get(callback)
    assert status == 403 and victim.cookie(config.SESSION_COOKIE) is None
    assert "重新登录" in page
    status, _, _ = attacker.get(callback)  # the browser that started it still can
    assert status == 303 and attacker.cookie(config.SESSION_COOKIE)


def test_a_stale_callback_in_a_logged_in_browser_opens_nothing_new(campus):
    """The back button after a CAS login: the CAS server sends a new ticket without a state this
    browser holds; the browser is logged in already, so it simply lands on the page again."""
    browser = Browser()
    assert browser.get(cas_login(campus, browser, "30000001", "/account"))[0] == 303
    count = campus["db"].execute("SELECT count(*) FROM sessions").fetchone()[0]
    status, headers, _ = browser.get(cas_login(campus, Browser(), "30000001", "/account"))
    assert status == 303 and headers["location"] == "/account"
    assert campus["db"].execute("SELECT count(*) FROM sessions").fetchone()[0] == count


def test_the_state_is_single_use_and_signed(campus):
    browser = Browser()
    callback = cas_login(campus, browser, "30000001")
    forged = re.sub(r"state=[^&]+", "state=forged", callback)
    assert browser.get(forged)[0] == 403
    assert browser.get(callback)[0] == 303
    again = Browser()
    callback = cas_login(campus, again, "30000001")
    cookie = next(c for c in again.jar if c.name == "portal_cas_state")
    cookie.value = cookie.value[:-2] + ("AA" if not cookie.value.endswith("AA") else "BB")  # tampered
    assert again.get(callback)[0] == 403
    assert again.cookie(config.SESSION_COOKIE) is None


def test_two_logins_started_in_two_tabs_both_finish(campus):
    """Two tabs of one browser at the CAS login page (a bookmark and a link from a message, opened
    logged out): the second tab's login replaced the first one's state, and logging in in the first
    tab ended on 登录请求已过期，或不是从本浏览器发起的."""
    browser = Browser()
    first = browser.get(campus["portal"] + "/auth/cas/login?" + urllib.parse.urlencode({"next": "/my_cases"}))
    second = browser.get(campus["portal"] + "/auth/cas/login?" + urllib.parse.urlencode({"next": "/account"}))
    assert first[0] == second[0] == 302
    _, _, page = browser.get(first[1]["location"])  # the first tab's CAS login form
    fields = {k: html.unescape(v) for k, v in re.findall(r'name="([^"]+)"[^>]*value="([^"]*)"', page)}
    fields.update(username="30000001", password=PASSWORD)
    status, headers, _ = browser.get(first[1]["location"], fields)
    assert status == 302
    status, headers, page = browser.get(headers["location"])
    assert status == 303 and headers["location"] == "/my_cases", page
    assert sessions.resume_from_cookie(campus["db"], browser.cookie(config.SESSION_COOKIE)) is not None
    # the second tab goes on: CAS knows the person now and sends a ticket straight back
    status, headers, _ = browser.get(second[1]["location"])
    assert status == 302
    status, headers, _ = browser.get(headers["location"])
    assert status == 303 and headers["location"] == "/account"
    # each state serves once: a new ticket for the first tab's finished login opens nothing new
    count = campus["db"].execute("SELECT count(*) FROM sessions").fetchone()[0]
    status, headers, _ = browser.get(first[1]["location"])
    assert status == 302 and "ticket=ST-" in headers["location"]
    assert browser.get(headers["location"])[0] == 303  # logged in already: lands, nothing opened
    assert campus["db"].execute("SELECT count(*) FROM sessions").fetchone()[0] == count
    assert browser.cookie("portal_cas_state") is None  # no login pending any more


def test_next_never_names_the_portals_own_routes():
    """§1.3, second path: ``next=/auth/claim?t=…`` sent the victim, once logged in, to trade the
    attacker's claim token for the attacker's session cookie."""
    for path in (
        "/auth/claim?t=abc",
        "/auth/end",
        "/auth/cas/logout",
        "/oauth2callback?code=x",
        "/auth/login",
        "/api/v1/roster",
        "/feeds/1/roster.ics",
        "/media/x.docx",
        "/_stcore/health",
        "/static/x.js",
        "/AUTH/claim",
        "/%61uth/claim?t=1",
        "/nowhere",
    ):
        assert navigation.return_path(path) == "/", path
    assert navigation.return_path("/my_cases?no=2026-0007") == "/my_cases?no=2026-0007"
    assert navigation.return_path("/account") == "/account"


def test_a_deep_link_to_the_claim_route_lands_on_the_home_page(campus):
    browser = Browser()
    status, headers, _ = browser.get(cas_login(campus, browser, "30000001", "/auth/claim?t=attackers-token"))
    assert status == 303 and headers["location"] == "/"


def test_the_callback_redirects_to_a_clean_address(campus):
    """§1.5: the ticket leaves the address bar and the history (a redirect, not a page at the
    callback's address)."""
    browser = Browser()
    status, headers, _ = browser.get(cas_login(campus, browser, "30000001", "/my_cases?no=2026-0007"))
    assert status == 303 and headers["location"] == "/my_cases?no=2026-0007"
    assert headers["cache-control"] == "no-store"


def test_logout_needs_a_same_origin_post(campus):
    """§1.4 logout CSRF: a cross-site link or form ends neither the CAS session nor the portal's;
    the portal's own 退出登录 (a same-origin POST) ends both, the portal session on the server."""
    browser = Browser()
    assert browser.get(cas_login(campus, browser, "30000001"))[0] == 303
    cookie = browser.cookie(config.SESSION_COOKIE)
    logout = campus["portal"] + "/auth/cas/logout"
    status, headers, _ = browser.get(logout, headers={"Sec-Fetch-Site": "cross-site"})
    assert status in (403, 405) and "location" not in headers
    for origin in ("http://evil.example", "null"):
        status, headers, _ = browser.get(
            logout, {}, headers={"Origin": origin, "Sec-Fetch-Site": "cross-site"}
        )
        assert status == 403 and "location" not in headers
    status, _, _ = browser.get(logout, {})  # a POST without Origin or Sec-Fetch-Site: refused too
    assert status == 403
    assert sessions.resume_from_cookie(campus["db"], cookie) is not None
    status, headers, page = browser.get(
        logout, {}, headers={"Origin": campus["portal"], "Sec-Fetch-Site": "same-origin"}
    )
    assert status == 200 and campus["cas"].url + "logout?service=" in page.replace("&amp;", "&")
    assert sessions.resume_from_cookie(campus["db"], cookie) is None
    out = audit.search(campus["db"], category="logout").entries
    assert len(out) == 1 and out[0].detail == "统一身份认证（CAS）登录"


def _logout_request(ticket: str) -> str:
    return (
        '<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
        'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="x" Version="2.0" IssueInstant="2026-11-24T10:00:00Z">'
        f"<saml:NameID>@NOT_USED@</saml:NameID><samlp:SessionIndex>{ticket}</samlp:SessionIndex></samlp:LogoutRequest>"
    )


def test_single_logout_is_accepted_only_from_the_cas_servers_addresses(campus, monkeypatch):
    """§1.5: anyone who knew a ticket could end its session with a plain POST. Now only the CAS
    server's addresses (by default those its host name resolves to) may; the client address comes
    through the trusted proxy (X-Forwarded-For from 127.0.0.1, as behind nginx)."""
    browser = Browser()
    callback = cas_login(campus, browser, "30000001")
    ticket = _query(callback)["ticket"]
    browser.get(callback)
    cookie = browser.cookie(config.SESSION_COOKIE)
    stranger = Browser()
    status, _, _ = stranger.get(
        campus["portal"] + sso.CALLBACK_PATH,
        {"logoutRequest": _logout_request(ticket)},
        headers={"X-Forwarded-For": "192.0.2.7"},
    )
    assert status == 403 and sessions.resume_from_cookie(campus["db"], cookie) is not None
    monkeypatch.setenv("PORTAL_CAS_LOGOUT_FROM", "192.0.2.0/28, 198.51.100.1")
    status, _, _ = stranger.get(
        campus["portal"] + sso.CALLBACK_PATH,
        {"logoutRequest": _logout_request(ticket)},
        headers={"X-Forwarded-For": "192.0.2.7"},
    )
    assert status == 200 and sessions.resume_from_cookie(campus["db"], cookie) is None


def _post_head(base: str, length: int, sent: bytes, headers: str = "") -> bytes:
    """A POST to the callback announcing ``length`` bytes of form and sending only ``sent``: what the
    server answers within five seconds (b"" when it waits for the rest)."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as conn:
        conn.sendall(
            f"POST {sso.CALLBACK_PATH} HTTP/1.1\r\nHost: {host}\r\n{headers}"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {length}\r\n\r\n".encode()
            + sent
        )
        try:
            return conn.recv(200)
        except TimeoutError:
            return b""


def test_single_logout_from_elsewhere_is_refused_before_its_body_is_read(campus):
    """Anyone may post to the callback: the source was checked only after the whole form had been read
    into memory, so a stranger announcing 100 MB held the request (and then the memory) as long as
    he liked. Now a stranger is refused at once, and even the CAS server's form is read up to 64 KB."""
    answer = _post_head(campus["portal"], 100_000_000, b"logoutRequest=", "X-Forwarded-For: 192.0.2.7\r\n")
    assert answer.startswith(b"HTTP/1.1 403"), answer
    answer = _post_head(campus["portal"], 100_000_000, b"logoutRequest=" + b"x" * 70_000)  # from CAS's host
    assert answer.startswith(b"HTTP/1.1 413"), answer


class _Answer(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        self.send_response(502)
        self.end_headers()
        self.wfile.write(b"<html>502 Bad Gateway</html>")

    def log_message(self, *args):
        pass


def test_a_cas_server_that_fails_is_unavailable_not_a_bad_ticket(campus, monkeypatch):
    """§1.6: a CAS server answering 502 (or not answering) is 统一身份认证服务暂不可用, never 票据无效."""
    failing = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    threading.Thread(target=failing.serve_forever, daemon=True).start()
    try:
        for url in (f"http://127.0.0.1:{failing.server_port}/cas/", f"http://127.0.0.1:{free_port()}/cas/"):
            monkeypatch.setenv("PORTAL_CAS_SERVER_URL", url)
            browser = Browser()
            status, headers, _ = browser.get(campus["portal"] + "/auth/cas/login")
            service = _query(headers["location"])["service"]
            joined = service + ("&" if "?" in service else "?") + "ticket=ST-1-abcdefghijklmnop"
            status, _, page = browser.get(joined)
            assert status == 503 and "统一身份认证服务暂不可用" in page and "票据无效" not in page, url
            assert browser.cookie(config.SESSION_COOKIE) is None
    finally:
        failing.shutdown()


def test_multi_valued_person_kinds_are_mapped_by_the_table(campus):
    """§1.6: [本科生, 共青团员] is a student (the last value won and any 员 meant staff); 继续教育学员 is
    not in the table: refused with a message, no account made; [博士研究生, 教职工]: staff first."""
    db = campus["db"]
    provisioning.set_enabled(db, True, None)
    browser = Browser()
    assert browser.get(cas_login(campus, browser, "2029000043"))[0] == 303
    assert org.person_by_staff_no(db, "2029000043").kind == "学生"
    browser = Browser()
    assert browser.get(cas_login(campus, browser, "2029000045"))[0] == 303
    assert org.person_by_staff_no(db, "2029000045").kind == "教职工"
    browser = Browser()
    status, _, page = browser.get(cas_login(campus, browser, "2029000044"))
    assert status == 403 and "继续教育学员" in page and "人员类别" in page
    assert accounts.find_user(db, "2029000044") is None and org.person_by_staff_no(db, "2029000044") is None


def test_local_administrator_and_department_accounts_are_never_matched_by_name(campus):
    """§1.2: a campus identity named admin or jiaowu (any case) does not log into those local accounts."""
    db = campus["db"]
    for username in ("admin", "JiaoWu"):
        browser = Browser()
        status, _, page = browser.get(cas_login(campus, browser, username))
        assert status == 403 and browser.cookie(config.SESSION_COOKIE) is None, username
    assert not db.execute("SELECT count(*) FROM sessions WHERE sso_key IS NOT NULL").fetchone()[0]
    # an administrator links the identity JiaoWu to the account jiaowu: now it opens that account
    provisioning.link(db, "jiaowu", "JiaoWu", accounts.find_user(db, "admin").id)
    browser = Browser()
    assert browser.get(cas_login(campus, browser, "JiaoWu"))[0] == 303
    live = sessions.resume_from_cookie(db, browser.cookie(config.SESSION_COOKIE))
    assert live[1].username == "jiaowu"
