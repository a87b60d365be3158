"""A link opened logged out (issue 12 §3): the person logs in and lands on the linked object, not on 首页."""

from portal import links
from tests.browser.conftest import handed_over, settle


def test_a_deep_link_opened_logged_out_lands_on_its_case_after_login(server, page):
    case = handed_over(server["db"], "30000002", "实验楼三楼的饮水机坏了，希望尽快维修。")
    page.goto(server["url"] + links.case(case.number).path, wait_until="networkidle")
    page.get_by_label("账号（工号或学号）").fill("dangban")
    page.get_by_label("密码", exact=True).fill("demo1234")
    page.get_by_role("button", name="登录").click()
    page.get_by_role("button", name="退出登录").wait_for()
    settle(page)
    page.get_by_role("heading").filter(has_text=case.number).wait_for()
    # the case's panel shows its content as plain text (the list above has it too, in a grid)
    page.locator("[data-testid=stText]").filter(has_text="实验楼三楼的饮水机坏了").first.wait_for()
    assert f"no={case.number}" in page.url
