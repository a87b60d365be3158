"""The login page says what the portal is for and whose it is, and offers the campus sign-in first
when there is one; the menu names the school (AppTest)."""

from __future__ import annotations

from tests.conftest import app, login, texts


def images(at) -> list:
    return [c for c in at.main.children.values() if getattr(c, "type", "") == "image"]


def test_the_login_page_says_what_the_portal_is_for(demo_db):
    at = app().run()
    shown = texts(at)
    assert at.title[0].value == "联系师生服务平台"
    assert "预约每周三的校领导接待日" in shown and "记录联系师生活动" in shown and "办理意见建议" in shown
    assert not images(at)  # no logo until one is configured: neutral


def test_the_school_is_named_on_the_login_page_and_in_the_menu(demo_db, monkeypatch, tmp_path):
    from tests.core.test_branding import png

    monkeypatch.setenv("PORTAL_SCHOOL_NAME", "河南理工大学")
    monkeypatch.setenv("PORTAL_SCHOOL_LOGO", str(png(tmp_path / "logo.png")))
    at = app().run()
    assert "河南理工大学" in texts(at)
    (logo,) = images(at)
    assert logo.proto.imgs[0].url.startswith("data:image/png")  # inside the page: no session needed
    at = login("2023000001")
    assert any(m.value == "**河南理工大学联系师生服务平台**" for m in at.sidebar.markdown)


def test_the_campus_sign_in_comes_first_when_there_is_one(demo_db, monkeypatch):
    monkeypatch.setenv("PORTAL_CAS_SERVER_URL", "https://cas.example.edu.cn/cas/")
    at = app().run()
    first = at.button[0]
    assert first.label == "统一身份认证登录" and first.proto.type == "primary"
    assert "统一身份认证" in at.caption[0].value  # says who signs in that way
    submit = next(b for b in at.get("form_submit_button") if b.label == "登录")
    assert submit.proto.type == "secondary"  # the password form follows, not first
