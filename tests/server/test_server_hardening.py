"""The running server against a hostile client: every response carries a Content-Security-Policy
(500s included), metrics are not public, and a password change ends the user's other sessions.
Plain HTTP against a real `portal serve`; downloads behind the session cookie are checked in a real
browser (tests/browser/test_session_gate_browser.py)."""

from __future__ import annotations

import asyncio
import threading

import pytest

from portal import accounts, demo, sessions
from portal.accounts import Role
from tests.conftest import goto, login
from tests.live import http, serve


@pytest.fixture(scope="module")
def live(tmp_path_factory, _demo_template):
    import shutil

    folder = tmp_path_factory.mktemp("live")
    shutil.copy(_demo_template, folder / "portal.sqlite3")
    with serve(folder / "portal.sqlite3", PORTAL_TODAY="2026-11-24") as base:
        yield base


def test_every_response_has_a_content_security_policy(live):
    for method, path in [
        ("GET", "/"),
        ("GET", "/_stcore/health"),
        ("GET", "/no/such/page"),
        ("POST", "/auth/claim"),
        ("GET", "/media/0123456789abcdef.docx"),
        ("GET", "/_stcore/metrics"),
    ]:
        status, headers, _ = http(method, live + path)
        csp = headers.get("content-security-policy", "")
        assert "frame-ancestors 'self'" in csp and "object-src 'none'" in csp, (path, status, csp)
        assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0], csp
        assert headers.get("x-content-type-options") == "nosniff", path


def test_metrics_are_refused_to_anonymous_users(live):
    status, _, body = http("GET", live + "/_stcore/metrics")
    assert status == 403 and b"session" not in body
    status, _, body = http("GET", live + "/_stcore/metrics", {"Cookie": "portal_session=forged.value.sig"})
    assert status == 403  # an administrator's session gets them: tests/browser/test_session_gate_browser.py


def test_a_500_keeps_the_security_headers():
    """An unexpected exception in a route: the 500 Starlette makes still carries the CSP."""
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.routing import Route

    from portal.server import SecurityHeaders

    def boom(request):
        raise RuntimeError("boom")

    app = Starlette(routes=[Route("/boom", boom)], middleware=[Middleware(SecurityHeaders)])
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/boom",
        "raw_path": b"/boom",
        "query_string": b"",
        "headers": [],
        "scheme": "http",
        "server": ("t", 80),
        "client": ("c", 1),
        "root_path": "",
        "http_version": "1.1",
        "asgi": {"version": "3.0"},
    }
    raised: list[BaseException] = []

    def serve_one() -> None:  # its own thread and loop (a browser test may hold this thread's loop)
        try:
            asyncio.run(app(scope, receive, send))
        except RuntimeError as exc:
            raised.append(exc)

    worker = threading.Thread(target=serve_one)
    worker.start()
    worker.join()
    assert [str(e) for e in raised] == ["boom"]  # still raised, so the server logs it
    start = next(m for m in sent if m["type"] == "http.response.start")
    headers = {k.decode(): v.decode() for k, v in start["headers"]}
    assert start["status"] == 500
    assert "frame-ancestors 'self'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    assert b"boom" not in body


# --- changing one's password ends one's other sessions ----------------------------------------


def test_changing_ones_password_ends_ones_other_sessions(db):
    user = accounts.create_user(db, "t001", "测试用户", "Secret123", [Role(role="visitor")])
    other_user = accounts.create_user(db, "t002", "别人", "Secret123", [Role(role="visitor")])
    here, _ = sessions.start(db, user.id)
    phone, _ = sessions.start(db, user.id)
    someone_else, _ = sessions.start(db, other_user.id)
    accounts.change_password(db, user.id, "Secret123", "Newpass123", keep_session=here)
    assert sessions.resume(db, here) is not None  # the tab where it was changed stays logged in
    assert sessions.resume(db, phone) is None
    assert sessions.resume(db, someone_else) is not None


def test_changing_the_password_on_the_page_logs_out_the_other_tab(demo_db):
    first = login("30000001")
    second = login("30000001")
    goto(first, "pages/account.py").run()
    old, new, again = first.text_input[0], first.text_input[1], first.text_input[2]
    old.input(demo.DEMO_PASSWORD)
    new.input("Newpass123")
    again.input("Newpass123")
    next(b for b in first.button if b.label == "修改密码").click().run()
    assert any("密码已修改" in s.value for s in first.success), [e.value for e in first.error]
    first.run()
    assert "退出登录" in [b.label for b in first.button]  # still logged in here
    second.run()
    assert "退出登录" not in [b.label for b in second.button]  # the other tab is back at the login


def test_serve_caps_malloc_arenas_unless_the_administrator_set_them(monkeypatch):
    import platform

    from portal import server

    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert server.limit_malloc_arenas() is False  # the administrator's setting wins
    monkeypatch.delenv("MALLOC_ARENA_MAX")
    if platform.libc_ver()[0] == "glibc":
        assert server.limit_malloc_arenas() is True


def test_serve_loads_what_the_pages_need_before_the_first_visitor():
    """A first visit to 年度考核 after a restart imported openpyxl and docxtpl on the visitor's
    time, and the first alert Streamlit's emoji table; serve imports them first (in a fresh
    interpreter: the tests loaded them all)."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from portal import server\n"
        "before = {'openpyxl', 'docxtpl', 'streamlit.emojis'} & set(sys.modules)\n"
        "loaded = server.preload()\n"
        "print(sorted(before), 'openpyxl' in sys.modules and 'docxtpl' in sys.modules,"
        " 'portal.assessment' in loaded and 'portal.ledger' in loaded,"
        " 'streamlit.emojis' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["[]", "True", "True", "True"], out.stderr


def test_a_single_sign_on_session_gets_its_cookie_too(db):
    """OIDC sessions open without a claim; downloads need the cookie, so one is issued for them,
    timed from its own issue (the session itself may be hours old)."""
    user = accounts.create_user(db, "t001", "测试用户", "Secret123", [Role(role="visitor")])
    session_id, _ = sessions.start(db, user.id)
    db.execute(
        "UPDATE sessions SET created_at = ?, last_seen = ? WHERE id = ?",
        ["2026-11-24T06:00:00+08:00", "2026-11-24T06:00:00+08:00", session_id],
    )
    db.conn.commit()
    token = sessions.new_claim(db, session_id)
    value = sessions.claim(db, token)
    assert value is not None
    assert sessions.claim(db, token) is None  # once only
    forged = "9999999999~" + token.split("~", 1)[1]  # the time is part of the stored digest
    assert sessions.claim(db, forged) is None
