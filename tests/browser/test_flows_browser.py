"""In a real browser: a double click on 保存 creates one activity and one case; voiding it asks in a
dialog that says what becomes of the case, and 确认作废 withdraws the case (已撤销)."""

from __future__ import annotations

from portal.db import open_db
from tests.browser.conftest import follow_link, login, new_activity, settle

CONTENT = "浏览器双击测试：与学生代表座谈学风建设"
OPINION = "浏览器双击测试：考研自习室座位不足"


def _rows(db_path) -> tuple[list[tuple], list[tuple]]:
    with open_db(db_path) as db:
        acts = db.execute("SELECT id, voided_at FROM activities WHERE content = ?", [CONTENT]).fetchall()
        found = db.execute("SELECT number, state FROM cases WHERE content = ?", [OPINION]).fetchall()
    return [tuple(r) for r in acts], [tuple(r) for r in found]


def test_double_click_saves_once_and_voiding_confirms_and_withdraws(server, page):
    new_activity(page, server["url"], "10010001", "座谈")
    page.get_by_label("地点").fill("图书馆报告厅")
    page.get_by_label("联系工作开展情况").fill(CONTENT)
    page.get_by_label("联系对象反映的意见和建议（每行一条，每条转交责任部门办理）").fill(OPINION)
    page.get_by_role("button", name="保存").dblclick()
    page.get_by_text("已保存").first.wait_for()
    settle(page)
    acts, found = _rows(server["db"])
    assert len(acts) == 1 and len(found) == 1, (acts, found)
    number = found[0][0]
    page.get_by_text(number).first.wait_for()  # the result names the case it opened
    assert page.get_by_role("button", name="记录下一条").is_visible()

    follow_link(page, "联系活动记录")
    page.get_by_text("作废", exact=True).click()
    page.get_by_label("作废原因").fill("重复录入")
    page.get_by_role("button", name="作废此记录").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("意见建议 1 件将撤销").wait_for()
    assert _rows(server["db"])[0][0][1] is None  # not yet
    dialog.get_by_role("button", name="确认作废").click()
    page.get_by_text("已作废。记录仍保留").wait_for()
    acts, found = _rows(server["db"])  # long after both clicks: a second save would show by now
    assert len(acts) == 1 and acts[0][1] is not None and found == [(number, "withdrawn")]


def test_cancel_in_the_dialog_does_nothing(server, page):
    login(page, server["url"], "10010001")
    follow_link(page, "联系活动记录")
    title = page.locator("h2, h3").filter(has_text="编号").first.inner_text()
    activity_id = int(title.rsplit("编号", 1)[1].strip(" ）)"))
    page.get_by_text("作废", exact=True).click()
    page.get_by_label("作废原因").fill("误操作")
    page.get_by_role("button", name="作废此记录").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="取消").click()
    dialog.wait_for(state="detached")
    settle(page)
    page.get_by_label("作废原因").fill("误操作2")  # another rerun: the dialog stays closed
    page.keyboard.press("Tab")
    settle(page)
    assert page.get_by_role("dialog").count() == 0
    with open_db(server["db"]) as db:
        assert (
            db.execute("SELECT voided_at FROM activities WHERE id = ?", [activity_id]).fetchone()[0] is None
        )
