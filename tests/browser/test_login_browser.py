"""Login in a real browser: the session cookie is HttpOnly, survives a reload, and ends on logout."""

from tests.browser.conftest import login


def session_cookie(page):
    return next((c for c in page.context.cookies() if c["name"] == "portal_session"), None)


def test_login_survives_a_reload_and_ends_on_logout(server, page):
    base = server["url"]
    login(page, base, "admin")
    page.wait_for_function("() => true")
    page.wait_for_timeout(500)  # the claim request runs in the background
    cookie = session_cookie(page)
    assert cookie is not None, "no session cookie was set"
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert page.evaluate("document.cookie").find("portal_session") == -1  # invisible to scripts

    page.reload(wait_until="networkidle")
    page.get_by_role("button", name="退出登录").wait_for()
    page.get_by_text("系统管理员").first.wait_for()

    page.get_by_role("button", name="退出登录").click()
    page.get_by_role("button", name="登录").wait_for()
    page.wait_for_timeout(500)
    page.reload(wait_until="networkidle")
    page.get_by_role("button", name="登录").wait_for()


def test_wrong_password_shows_one_message(server, page):
    page.goto(server["url"] + "/", wait_until="networkidle")
    page.get_by_label("账号（工号或学号）").fill("admin")
    page.get_by_label("密码", exact=True).fill("wrong-pass1")
    page.get_by_role("button", name="登录").click()
    page.get_by_text("账号或密码错误").wait_for()
    assert session_cookie(page) is None


def test_a_student_typing_an_admin_url_gets_no_admin_page(server, page):
    login(page, server["url"], "2023000001")
    page.goto(server["url"] + "/admin_users", wait_until="networkidle")
    page.wait_for_timeout(1000)
    assert page.get_by_text("新建账号").count() == 0
    assert page.get_by_role("heading", name="账号管理").count() == 0
