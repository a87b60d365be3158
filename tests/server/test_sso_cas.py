"""CAS sign-in against a real CAS 3.0 server: the ticket opens the same portal session as
password login, attributes become a provisioned 师生 account when allowed, a replayed or
forged ticket is refused, single logout ends the session."""

from __future__ import annotations

import http.cookiejar
import re
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

from portal import accounts, audit, config, org, provisioning, server, sessions, sso
from portal.errors import AuthError
from portal.request_log import RequestLog
from tests.idp import free_port

PASSWORD = "campus-pw-1"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """A cookie jar that follows no redirect: each hop is looked at."""

    def __init__(self) -> None:
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect)

    def get(self, url: str, data: dict | None = None) -> tuple[int, Message, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(url, data=body, timeout=20) as r:
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
    monkeypatch.setenv("PORTAL_CAS_NAME_ATTRIBUTE", "name")
    monkeypatch.setenv("PORTAL_CAS_KIND_ATTRIBUTE", "kind")
    cas_server.set_users(
        {
            "30000001": {"password": PASSWORD, "attributes": {"name": "任意", "kind": "教职工"}},
            "2029000042": {"password": PASSWORD, "attributes": {"name": "新同学", "kind": "本科生"}},
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
    fields = dict(re.findall(r'name="([^"]+)"[^>]*value="([^"]*)"', page))
    fields.update(username=username, password=PASSWORD)
    status, headers, _ = browser.get(login_url, fields)
    assert status == 302, "the CAS server sends the browser back with a ticket"
    assert headers["location"].startswith(campus["portal"] + sso.CALLBACK_PATH + "?")
    assert "ticket=ST-" in headers["location"]
    return headers["location"]


def test_cas_login_starts_the_portal_session(campus):
    browser = Browser()
    status, _, page = browser.get(cas_login(campus, browser, "30000001"))
    assert status == 200 and "登录成功" in page
    live = sessions.resume_from_cookie(campus["db"], browser.cookie(config.SESSION_COOKIE))
    assert live is not None and live[1].username == "30000001"
    entry = audit.search(campus["db"], category="login.").entries[0]
    assert (entry.action, entry.outcome, entry.address) == ("login.cas", "ok", "127.0.0.1")
    assert entry.actor.startswith("30000001")


def test_replayed_and_forged_tickets_are_refused(campus):
    browser = Browser()
    callback = cas_login(campus, browser, "30000001")
    assert browser.get(callback)[0] == 200
    replay = Browser()
    status, _, page = replay.get(callback)
    assert status == 403 and "无效" in page and replay.cookie(config.SESSION_COOKIE) is None
    forged = campus["portal"] + sso.CALLBACK_PATH + "?ticket=ST-forged-0123456789"
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
    assert status == 200
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
    status, headers, _ = browser.get(campus["portal"] + "/auth/cas/logout")
    assert status == 302 and headers["location"].startswith(campus["cas"].url + "logout")
    assert sessions.resume_from_cookie(campus["db"], cookie) is None
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


def test_person_kind_from_campus_values():
    assert [sso.person_kind(v) for v in ("本科生", "研究生", "教师", "在职职工", "退休", "", "访客")] == [
        "学生",
        "学生",
        "教职工",
        "教职工",
        "离退休",
        "其他",
        "其他",
    ]


def test_cas_2_service_validate_works_too(campus, monkeypatch):
    monkeypatch.setenv("PORTAL_CAS_VERSION", "2")
    browser = Browser()
    status, _, _ = browser.get(cas_login(campus, browser, "30000001"))
    assert status == 200
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
    status, _, page = browser.get(cas_login(campus, browser, "30000001", "/my_cases?no=2026-0007"))
    assert status == 200 and 'url=/my_cases?no=2026-0007"' in page.replace("&amp;", "&")
    for hostile in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"):
        browser = Browser()
        status, _, page = browser.get(cas_login(campus, browser, "30000001", hostile))
        assert status == 200 and 'content="0;url=/"' in page, hostile


def test_our_routes_leave_streamlits_own_login_routes_alone():
    """st.logout sends the browser to /auth/logout: a route of ours there would swallow it and the
    OIDC login would never end (found when the portal's logout became a GET)."""
    paths = {route.path for route in server.routes()}
    assert not paths & set(server.STREAMLIT_AUTH_PATHS)
