"""Sessions end after an idle time and an absolute lifetime (both settings), and whenever they end
the login page says why (issue 19 §5.19): 会话已超时, 已超过最长登录时间, 已在其他地方退出, 密码已更改,
管理员已重置密码, 账号已停用, 已在统一身份认证退出. Each self-ended session is audited once."""

from __future__ import annotations

import datetime as dt

import pytest

from portal import accounts, audit, dates, provisioning, sessions
from portal.demo import DEMO_PASSWORD
from tests.conftest import NOW, ROOT, login, texts


def _later(monkeypatch, **delta) -> None:
    """The clock moves on (the whole app reads it through PORTAL_TODAY)."""
    moved = dt.datetime.fromisoformat(NOW) + dt.timedelta(**delta)
    monkeypatch.setenv("PORTAL_TODAY", moved.isoformat(timespec="seconds"))


def _on_the_login_page(at) -> bool:
    return any(t.label.startswith("账号") for t in at.text_input) and not any(
        b.label == "退出登录" for b in at.button
    )


def test_an_idle_session_ends_and_the_login_page_says_why(demo_db, monkeypatch):
    at = login("2023000001")
    _later(monkeypatch, minutes=29)
    at.run()
    assert not _on_the_login_page(at)  # 29 minutes: still in
    _later(monkeypatch, minutes=29 + 31)
    at.run()
    assert _on_the_login_page(at)
    assert "会话已超时（30 分钟无操作）" in texts(at)
    at.run()
    ended = [e for e in audit.search(demo_db, category="session.").entries if "超时" in e.detail]
    assert len(ended) == 1, "audited once, however often the page is loaded afterwards"


def test_the_idle_time_is_a_setting(demo_db, monkeypatch):
    monkeypatch.setenv("PORTAL_SESSION_IDLE", "600")
    at = login("2023000001")
    _later(monkeypatch, minutes=11)
    at.run()
    assert _on_the_login_page(at) and "会话已超时（10 分钟无操作）" in texts(at)


def test_a_session_ends_after_its_absolute_lifetime_however_busy(demo_db, monkeypatch):
    monkeypatch.setenv("PORTAL_SESSION_MAX_AGE", "3600")
    at = login("2023000001")
    for minutes in (20, 40, 59):  # busy: never idle
        _later(monkeypatch, minutes=minutes)
        at.run()
        assert not _on_the_login_page(at), minutes
    _later(monkeypatch, minutes=61)
    at.run()
    assert _on_the_login_page(at) and "已超过最长登录时间（60 分钟）" in texts(at)


@pytest.mark.parametrize(
    ("elsewhere", "said"),
    [
        ("logout", "已在其他地方退出登录"),
        ("password", "密码已更改"),
        ("reset", "管理员已重置您的密码"),
        ("disable", "账号已停用"),
        ("single_logout", "已在统一身份认证退出"),
    ],
)
def test_a_session_ended_elsewhere_says_how(demo_db, elsewhere, said):
    at = login("2023000001")
    session_id = at.session_state["session_id"]
    user = accounts.find_user(demo_db, "2023000001")
    if elsewhere == "logout":
        sessions.end(demo_db, session_id=session_id)
    elif elsewhere == "password":
        other, _ = sessions.start(demo_db, user.id)
        accounts.change_password(demo_db, user.id, "demo1234", "Neu-Passw0rt", keep_session=other)
    elif elsewhere == "reset":
        accounts.reset_password(demo_db, "2023000001", actor_id=accounts.find_user(demo_db, "admin").id)
    elif elsewhere == "disable":
        accounts.set_active(demo_db, user.id, False)
    else:
        demo_db.execute("UPDATE sessions SET sso_key = 'cas:x' WHERE id = ?", [session_id])
        demo_db.conn.commit()
        sessions.end_identity(demo_db, "cas:x")
    at.run()
    assert _on_the_login_page(at)
    assert said in texts(at), texts(at)


def test_a_reload_with_the_cookie_of_an_ended_session_says_why_too(demo_db, monkeypatch):
    user = accounts.find_user(demo_db, "2023000001")
    session_id, claim = sessions.start(demo_db, user.id)
    cookie = sessions.claim(demo_db, claim)
    _later(monkeypatch, minutes=45)
    assert sessions.resume_from_cookie(demo_db, cookie) is None
    assert sessions.ended_notice(demo_db, cookie=cookie) == "会话已超时（30 分钟无操作），请重新登录。"
    assert sessions.ended_notice(demo_db, cookie="forged.cookie") is None
    provisioning.set_enabled(demo_db, False, None)
    assert dates.now() > dt.datetime.fromisoformat(NOW).replace(tzinfo=dates.now().tzinfo)


def test_what_a_session_kept_is_not_handed_to_the_next_person_who_signs_in(demo_db, monkeypatch):
    """A shared computer (a library, the reception room): the first person's session ends by itself
    on 我的账号 with a copy of 我的数据 made; the next person signs in in the same tab. The copy, the
    page's notices and choices belong to the first: the second must not be offered them."""
    at = login("2023000016")
    at.switch_page(str(ROOT / "pages/account.py")).run()
    next(b for b in at.button if b.label == "生成我的数据副本").click().run()
    assert [b.proto.label for b in at.get("download_button")] == ["下载我的数据（.zip）"]
    _later(monkeypatch, minutes=31)
    at.run()
    assert _on_the_login_page(at)
    at.text_input[0].input("2023000001")
    at.text_input[1].input(DEMO_PASSWORD)
    at.button[-1].click().run()
    at.run()
    assert not at.exception, at.exception
    assert any(b.label == "生成我的数据副本" for b in at.button)  # the second person, on 我的账号
    assert not at.get("download_button"), "the first person's copy of 我的数据 offered to the next"
    assert "my_data" not in at.session_state


def test_a_tab_whose_session_becomes_another_users_keeps_nothing_of_the_first(demo_db):
    """However a tab comes to another user's session, what it kept for the first user goes (the
    state's owner is checked on every run, not only when a session is seen to end)."""
    at = login("2023000016")
    at.switch_page(str(ROOT / "pages/account.py")).run()
    next(b for b in at.button if b.label == "生成我的数据副本").click().run()
    assert "my_data" in at.session_state
    other = accounts.find_user(demo_db, "2023000001")
    session_id, _ = sessions.start(demo_db, other.id)
    at.session_state["session_id"] = session_id
    at.run()
    assert not at.exception, at.exception
    assert not at.get("download_button") and "my_data" not in at.session_state
    assert at.session_state["session_id"] == session_id  # the new user's session goes on
