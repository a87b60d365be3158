"""The forced password change (issue 19 §5.20): an initial or reset password opens one page only, 修改密码,
until it is changed; and the login page warns while demo accounts keep the published password (§5.21)."""

from __future__ import annotations

import pytest

from portal import accounts, sessions
from portal.accounts import Role
from tests.conftest import app, goto, login, texts


def _change(at, old: str, new: str, again: str | None = None) -> None:
    fields = {t.label: t for t in at.text_input}
    fields["原密码"].input(old)
    next(t for label, t in fields.items() if label.startswith("新密码")).input(new)
    fields["再次输入新密码"].input(again or new)
    next(b for b in at.button if b.label == "修改密码").click().run()


def test_an_initial_password_opens_only_the_change_page_until_changed(demo_db):
    admin = accounts.find_user(demo_db, "admin")
    accounts.create_user(demo_db, "t.new", "新同事", "Initial-9x", [Role(role="visitor")], actor_id=admin.id)
    at = login("t.new", "Initial-9x")
    assert "请先修改密码" in texts(at)
    assert "至少 8 位" in texts(at)
    for page in ("pages/reception_book.py", "pages/account.py", "pages/home.py"):
        with pytest.raises(ValueError):
            goto(at, page)  # no other page is in the navigation, whatever the address
    assert [b.label for b in at.button if b.label == "退出登录"], "logging out stays possible"
    _change(at, "Initial-9x", "abcdefgh1")
    assert "三类" in texts(at) and "请先修改密码" in texts(at)
    _change(at, "Initial-9x", "Mine-2026a")
    at.run()
    assert "请先修改密码" not in texts(at)
    goto(at, "pages/reception_book.py").run()
    assert not at.exception and "预约接待" in texts(at)
    assert not accounts.find_user(demo_db, "t.new").must_change_password


def test_a_reset_password_is_changed_first_too(demo_db):
    accounts.reset_password(
        demo_db, "2023000001", "Reset-2026a", actor_id=accounts.find_user(demo_db, "admin").id
    )
    at = login("2023000001", "Reset-2026a")
    assert "请先修改密码" in texts(at)


def test_a_single_sign_on_session_is_not_held_by_the_password_flag(demo_db):
    """The flag is about the local password: a session CAS or OIDC opened never used it."""
    accounts.reset_password(demo_db, "30000001", "Reset-2026a")
    user = accounts.find_user(demo_db, "30000001")
    session_id = sessions.for_identity(demo_db, user.id, "oidc:" + "b" * 64)
    at = app()
    at.session_state["session_id"] = session_id
    at.run()
    assert "请先修改密码" not in texts(at)


def test_demo_accounts_get_no_forced_change_but_the_login_page_warns(demo_db):
    at = app().run()
    assert "演示账号" in texts(at) and "演示密码" in texts(at)
    at = login("2023000001")
    assert "请先修改密码" not in texts(at)
    demo_db.execute("UPDATE users SET demo_password = 0")
    demo_db.conn.commit()
    assert "演示账号" not in texts(app().run())
