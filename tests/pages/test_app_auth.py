"""The app shell through AppTest: login, wrong password, lockout, navigation by role, logout."""

import pytest

from portal import config
from tests.conftest import app, goto, login, texts


def test_login_page_first(demo_db):
    at = app().run()
    assert not at.exception
    assert "联系师生服务平台" in texts(at)
    with pytest.raises(ValueError):
        goto(at, "pages/admin_users.py")


def test_wrong_password_and_unknown_user_get_the_same_message(demo_db):
    at = app().run()
    at.text_input[0].input("admin")
    at.text_input[1].input("wrong-pass1")
    at.button[0].click().run()
    first = [e.value for e in at.error]
    at.text_input[0].input("no-such-user")
    at.text_input[1].input("wrong-pass1")
    at.button[0].click().run()
    assert first == [e.value for e in at.error] == ["账号或密码错误"]
    assert "session_id" not in at.session_state


def test_lockout_through_the_form(demo_db):
    at = app().run()
    for _ in range(config.settings().lockout_threshold):
        at.text_input[0].input("jiaowu")
        at.text_input[1].input("wrong-pass1")
        at.button[0].click().run()
    at.text_input[0].input("jiaowu")
    at.text_input[1].input("demo1234")
    at.button[0].click().run()
    assert "分钟后再试" in at.error[0].value
    assert "session_id" not in at.session_state


def test_student_cannot_reach_admin_pages(demo_db):
    student = demo_db.execute(
        "SELECT u.username FROM users u JOIN people p ON p.id = u.person_id WHERE p.kind = '学生' LIMIT 1"
    ).fetchone()[0]
    at = login(student)
    assert "首页" in [p for p in texts(at).splitlines()] or not at.exception
    for page in ("pages/admin_users.py", "pages/admin_import.py", "pages/org_people.py"):
        with pytest.raises(ValueError):
            goto(at, page)
    goto(at, "pages/account.py").run()
    assert "我的账号" in texts(at)


def test_admin_sees_admin_pages_and_the_home_page_lists_them(demo_db):
    at = login("admin")
    assert "新建账号、分配角色" in texts(at)  # the home page describes what the admin can do
    goto(at, "pages/admin_users.py").run()
    assert not at.exception and "账号管理" in texts(at)


def test_logout_ends_the_session(demo_db):
    at = login("admin")
    session_id = at.session_state["session_id"]
    at.sidebar.button(key="logout").click().run()
    assert "session_id" not in at.session_state
    assert demo_db.execute("SELECT ended_at FROM sessions WHERE id = ?", [session_id]).fetchone()[0]
    with pytest.raises(ValueError):
        goto(at, "pages/admin_users.py")


def test_idle_session_returns_to_login(demo_db, monkeypatch):
    at = login("admin")
    monkeypatch.setenv("PORTAL_SESSION_IDLE", "60")
    monkeypatch.setenv("PORTAL_TODAY", "2026-11-24T10:05:00")  # five idle minutes after NOW
    at.run()
    assert "会话已超时" in texts(at)
