"""Chinese everywhere, nothing from the internet: every page of three kinds of user at phone size,
checked for Streamlit's English defaults and for requests to any host but the portal's.
`python -m tests.browser.tour` runs the whole set (every role, desktop and phone) with screenshots."""

from __future__ import annotations

from tests.browser.conftest import login, settle
from tests.browser.tour import tour


def test_no_english_and_no_foreign_host_on_any_page(server, browser):
    findings = tour(browser, server, roles=["student", "dept_jiaowu", "admin"], viewports=["phone"])
    assert findings == [], "\n".join(map(str, findings))


def test_a_link_to_a_forbidden_page_says_so_in_chinese(server, page):
    login(page, server["url"], "2023000001")
    page.goto(server["url"] + "/admin_users", wait_until="networkidle")
    settle(page)
    page.get_by_text("您没有访问此页面的权限").wait_for()
    assert page.get_by_text("新建账号").count() == 0
    assert page.get_by_text("Page not found").count() == 0


def test_a_mistyped_link_says_so_in_chinese(server, page):
    login(page, server["url"], "2023000001")
    page.goto(server["url"] + "/no_such_page", wait_until="networkidle")
    settle(page)
    page.get_by_text("页面不存在").first.wait_for()
    assert page.get_by_text("Page not found").count() == 0
    assert page.get_by_text("Running the app").count() == 0
