"""A link opened logged out (issue 12 §3): the person logs in and lands on the linked object, not on 首页."""

import datetime as dt

from portal import accounts, cases, links
from portal.db import open_db
from tests.browser.conftest import settle


def test_a_deep_link_opened_logged_out_lands_on_its_case_after_login(server, page):
    with open_db(server["db"]) as db:
        visitor = accounts.find_user(db, "30000002")
        case = cases.open_case(
            db,
            source="reception",
            content="实验楼三楼的饮水机坏了，希望尽快维修。",
            responsible_dept="党办",
            contact_date=dt.date(2026, 11, 18),
            system="接待日",
            raised_by=visitor.id,
            raiser_name=visitor.display_name,
        )
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
