"""Chinese everywhere, accessible, nothing from the internet: the login page and every page of three
kinds of user at phone size, checked for English (in text, labels a screen reader speaks,
tooltips, opened menus, the first Tab), for axe-core's serious and critical WCAG 2.2 AA violations
and for requests to any host but the portal's (tests/browser/tour.py, tests/browser/a11y.py).
`python -m tests.browser.tour` runs the whole set (every role, desktop and phone) with screenshots."""

from __future__ import annotations

import pytest

from tests.browser.conftest import login, settle
from tests.browser.tour import tour


@pytest.mark.timeout(900)  # an administrator's 20 pages, each hovered, opened and checked by axe
@pytest.mark.parametrize("role", ["visitor", "student", "dept_jiaowu", "admin"])
def test_no_english_no_violation_and_no_foreign_host_on_any_page(server, browser, role):
    findings = tour(browser, server, roles=[role], viewports=["phone"])
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
