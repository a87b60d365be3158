"""Login in a real browser: the session cookie is HttpOnly, survives a reload, and ends on logout."""

from tests.browser.conftest import login, session_cookie, settle, wait_for_session


def test_login_survives_a_reload_and_ends_on_logout(server, page):
    base = server["url"]
    login(page, base, "admin")  # returns once the claim frame has set the cookie
    cookie = session_cookie(page)
    assert cookie is not None, "no session cookie was set"
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert page.evaluate("document.cookie").find("portal_session") == -1  # invisible to scripts

    page.reload(wait_until="networkidle")
    page.get_by_role("button", name="退出登录").wait_for()
    page.get_by_text("系统管理员").first.wait_for()

    page.get_by_role("button", name="退出登录").click()
    page.get_by_role("button", name="登录").wait_for()
    wait_for_session(page, present=False)
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
    page.get_by_role("button", name="退出登录").wait_for()  # the app has run for this student
    settle(page)
    assert page.get_by_text("新建账号").count() == 0
    assert page.get_by_role("heading", name="账号管理").count() == 0
