"""The pages of campus integration: the login page with single sign-on (password login kept
for administrators when switched off), auto-provisioning and API tokens on 账号管理, the
calendar feed addresses on 我的账号."""

from __future__ import annotations

from portal import accounts, api_tokens, provisioning, sessions, sso
from tests.conftest import app, goto, login, texts


def test_login_page_offers_cas_when_configured(demo_db, monkeypatch):
    at = app().run()
    assert not [b for b in at.button if b.key == "cas_login"]
    monkeypatch.setenv("PORTAL_CAS_SERVER_URL", "https://cas.example.edu.cn/cas/")
    at = app().run()
    assert [b.label for b in at.button if b.key == "cas_login"] == ["统一身份认证登录"]
    at.button(key="cas_login").click().run()
    assert not at.exception


def test_password_login_off_keeps_it_for_administrators_only(demo_db, monkeypatch):
    monkeypatch.setenv("PORTAL_CAS_SERVER_URL", "https://cas.example.edu.cn/cas/")
    monkeypatch.setenv("PORTAL_PASSWORD_LOGIN", "0")
    at = app().run()
    assert [e.label for e in at.expander] == ["管理员账号密码登录"]
    for username, allowed in (("2023000001", False), ("admin", True)):
        at = app().run()
        at.text_input[0].input(username)
        at.text_input[1].input("demo1234")
        next(b for b in at.button if b.label == "登录").click().run()
        assert ("session_id" in at.session_state) is allowed
        if not allowed:
            assert "统一身份认证" in texts(at)


def test_admin_turns_auto_provisioning_on(demo_db):
    at = goto(login("admin"), "pages/admin_users.py").run()
    at.toggle(key="auto_provision").set_value(True).run()
    assert provisioning.enabled(demo_db)
    assert "已开启自动开通" in texts(at)


def test_admin_issues_a_token_shown_once_and_revokes_it(demo_db):
    at = goto(login("admin"), "pages/admin_users.py").run()
    form_inputs = [t for t in at.text_input if t.label == "用途（调用方）"]
    form_inputs[0].input("接待前台")
    scope = next(m for m in at.multiselect if m.label == "权限范围")
    scope.set_value(["bookings"])
    next(b for b in at.button if b.label == "签发令牌").click().run()
    assert not at.exception
    shown = [c.value for c in at.code if c.value.startswith("cpt_")]
    assert len(shown) == 1 and "已签发" in texts(at)
    record = api_tokens.list_tokens(demo_db)[0]
    assert record.name == "接待前台" and record.scopes == ["bookings"]
    at.run()
    assert not [c for c in at.code if c.value.startswith("cpt_")], "shown once"
    next(s for s in at.selectbox if s.label == "撤销令牌").set_value(record.id).run()
    next(b for b in at.button if b.label == "撤销").click().run()
    assert api_tokens.get(demo_db, record.id).revoked_at is not None


def test_my_account_shows_feed_addresses(demo_db):
    at = goto(login("2023000001"), "pages/account.py").run()
    urls = [c.value for c in at.code if c.value.startswith("webcal://")]
    assert len(urls) == 2 and any(u.endswith("/roster.ics") for u in urls)
    leader = demo_db.execute("SELECT leader_id FROM duty_days LIMIT 1").fetchone()[0]
    staff_no = demo_db.execute("SELECT staff_no FROM people WHERE id = ?", [leader]).fetchone()[0]
    at = goto(login(staff_no), "pages/account.py").run()
    assert any(c.value.endswith("/duty.ics") for c in at.code)
    before = [c.value for c in at.code]
    next(b for b in at.button if b.label == "重置订阅地址").click().run()
    assert [c.value for c in at.code] != before and "已重置" in texts(at)
    assert accounts.find_user(demo_db, staff_no)


def test_an_account_from_the_campus_identity_has_no_password_form(demo_db):
    provisioning.set_enabled(demo_db, True, None)
    user = provisioning.account_for(
        demo_db, sso.Identity(source="cas", staff_no="2029000099", name="新生", kinds=["本科生"])
    )
    session_id, _ = sessions.start(demo_db, user.id)
    at = app()
    at.session_state["session_id"] = session_id
    at = goto(at.run(), "pages/account.py").run()
    assert "没有本平台的密码" in texts(at)
    assert not [t for t in at.text_input if t.label == "原密码"]
    at = goto(login("2023000001"), "pages/account.py").run()
    assert [t for t in at.text_input if t.label == "原密码"]


def test_admin_links_a_campus_identity_to_a_local_account(demo_db):
    """Issue 19 §1.2: the way to an administrator's or a department's account by single sign-on."""
    at = goto(login("admin"), "pages/admin_users.py").run()
    next(t for t in at.text_input if t.label == "查找账号（账号或姓名）").input("jiaowu").run()
    next(s for s in at.selectbox if s.label == "账号").set_value("jiaowu").run()
    next(t for t in at.text_input if t.label == "统一身份认证账号（工号/学号）").input("jw-li")
    next(b for b in at.button if b.label == "关联").click().run()
    assert not at.exception and "已关联" in texts(at)
    jiaowu = accounts.find_user(demo_db, "jiaowu")
    assert [x.staff_no for x in provisioning.links(demo_db, jiaowu.id)] == ["jw-li"]
    assert provisioning.account_for(demo_db, sso.Identity(source="cas", staff_no="jw-li")).id == jiaowu.id
    at.run()
    next(b for b in at.button if b.label == "解除关联").click().run()
    assert provisioning.links(demo_db, jiaowu.id) == []
    assert (
        demo_db.execute(
            "SELECT count(*) FROM audit_log WHERE action IN ('user.sso_link', 'user.sso_unlink')"
        ).fetchone()[0]
        == 2
    )
