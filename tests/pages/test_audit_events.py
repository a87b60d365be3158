"""What the audit log records (等保2.0 安全审计): every password login with its outcome and why,
logouts, sessions that end by themselves, passwords changed or reset with the sessions they
ended, the change of a reception day's place; and 操作日志 filters by address and outcome."""

from __future__ import annotations

import pytest

from portal import accounts, audit, dates
from portal.accounts import Role
from portal.reception import roster
from tests.conftest import app, goto, login, texts


def _log(db, category: str = "") -> list[tuple[str, str, str, str]]:
    return [
        (e.action, e.outcome, e.actor, e.detail)
        for e in reversed(audit.search(db, category=category).entries)
    ]


def _try(username: str, password: str):
    at = app().run()
    at.text_input[0].input(username)
    at.text_input[1].input(password)
    at.button[0].click().run()
    return at


def test_password_logins_are_audited_with_outcome_and_reason(demo_db):
    _try("ghost-user", "whatever1")
    _try("30000001", "wrong-pass1")
    accounts.set_active(demo_db, accounts.find_user(demo_db, "30000002").id, False)
    _try("30000002", "demo1234")
    login("30000001")
    entries = _log(demo_db, "login.")
    assert entries == [
        ("login.password", "failed", entries[0][2], "账号不存在"),
        ("login.password", "failed", entries[1][2], "密码错误"),
        ("login.password", "failed", entries[2][2], "账号已停用"),
        ("login.password", "ok", entries[3][2], ""),
    ]
    assert (
        entries[0][2].startswith("g…（未知账号 #") and "ghost-user" not in entries[0][2]
    )  # maybe a password
    assert entries[1][2].startswith("30000001（") and entries[2][2].startswith("30000002（")


def test_a_login_refused_because_only_single_sign_on_is_allowed_is_audited(demo_db, monkeypatch):
    monkeypatch.setenv("PORTAL_PASSWORD_LOGIN", "0")
    at = _try("30000001", "demo1234")
    assert "统一身份认证" in texts(at) and "session_id" not in at.session_state
    assert _log(demo_db, "login.")[-1][:2] == ("login.password", "refused")
    login("admin")  # administrators keep password login
    assert _log(demo_db, "login.")[-1][:2] == ("login.password", "ok")


def test_lockout_is_in_the_reason(demo_db):
    for _ in range(5):
        _try("30000001", "wrong-pass1")
    assert _log(demo_db, "login.")[-1][3] == "密码错误；账号已锁定"


def test_logout_and_a_timed_out_session_are_audited(demo_db, monkeypatch):
    at = login("30000001")
    at.sidebar.button(key="logout").click().run()
    assert _log(demo_db, "logout")[-1][:2] == ("logout", "ok")
    at = login("30000001")
    monkeypatch.setenv("PORTAL_SESSION_IDLE", "60")
    monkeypatch.setenv("PORTAL_TODAY", "2026-11-24T10:05:00")
    at.run()
    assert "会话已超时" in texts(at)
    ended = _log(demo_db, "session.")
    assert (
        len(ended) == 1 and ended[0][3] == "闲置超时（1 分钟无操作）" and ended[0][2].startswith("30000001")
    )
    at.run()  # the next rerun shows the login form: the end is recorded once
    assert len(_log(demo_db, "session.")) == 1


def test_a_password_change_and_reset_record_the_sessions_they_ended(db):
    user = accounts.create_user(db, "t001", "测试用户", "Passw0rd1", [Role(role="visitor")])
    from portal import sessions

    sessions.start(db, user.id)
    kept, _ = sessions.start(db, user.id)
    accounts.change_password(db, user.id, "Passw0rd1", "Passw0rd2", keep_session=kept)
    assert _log(db, "user.")[-1][3] == "结束登录 1 个"
    accounts.reset_password(db, "t001", "Passw0rd3")
    assert _log(db, "user.")[-1][3] == "t001；结束登录 1 个"


def test_a_change_of_place_is_audited(demo_db):
    dangban = accounts.find_user(demo_db, "dangban")
    day = roster.next_duty_day(demo_db, dates.today()).date
    before = roster.get_day(demo_db, day).place
    roster.change_place(demo_db, day, "图书馆三楼报告厅", dangban)
    entry = audit.search(demo_db, category="reception.").entries[0]
    assert entry.label == "修改接待地点" and entry.actor.startswith("dangban")
    assert entry.detail == f"{day}: {before} → 图书馆三楼报告厅"


@pytest.fixture
def addressed(db):
    boss = accounts.create_user(db, "boss", "管理员甲", "Passw0rd!", [Role(role="admin")])
    with audit.at_address("10.1.2.3"):
        audit.record(db, boss.id, "rules.load", "#1")
    with audit.at_address("10.1.9.9"):
        audit.record(db, None, "login.password", "密码错误", outcome="failed", actor="zhangsan")
    with audit.at_address("192.168.0.5"):
        audit.record(db, boss.id, "rules.load", "#2")
    return db


def test_the_log_filters_by_address_and_outcome(addressed):
    assert audit.search(addressed, address="10.1.").total == 2
    assert audit.search(addressed, address="10.1.2.3").total == 1
    assert audit.search(addressed, address="%").total == 0
    failed = audit.search(addressed, outcome="failed").entries
    assert [(e.actor, e.address, e.outcome_label) for e in failed] == [("zhangsan", "10.1.9.9", "失败")]
    assert audit.search(addressed, actor="zhangsan").total == 1


def test_the_admin_page_filters_by_address(addressed):
    at = login("boss", "Passw0rd!")
    goto(at, "pages/admin_audit.py").run()
    assert not at.exception, at.exception
    at.text_input(key="audit_address").input("10.1.").run()
    frame = at.dataframe[0].value
    assert sorted(frame["来源地址"]) == ["10.1.2.3", "10.1.9.9"]
    assert set(frame["结果"]) == {"成功", "失败"}
