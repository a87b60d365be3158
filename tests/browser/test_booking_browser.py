"""A student books a reception-day slot in a real browser, sees it under 我的预约, and cancels it."""

import sqlite3

from tests.browser.conftest import login, settle

SUBJECT = "宿舍热水供应不稳定 <i>请协调</i>"


def test_student_books_and_cancels(server, page):
    base = server["url"]
    student = "2023000002"
    login(page, base, student)
    page.get_by_role("link", name="预约接待").first.click()
    page.get_by_role("heading", name="预约接待").wait_for()
    settle(page)
    page.get_by_label("反映事项（简要）").fill(SUBJECT)
    page.get_by_label("具体情况（选填）").fill("第一行\n第二行 & 更多")
    page.get_by_label("联系电话").fill("13800138000")
    page.get_by_role("button", name="提交预约").click()
    page.get_by_text("预约成功").wait_for()
    code = page.get_by_text("预约成功").inner_text().split("预约编号")[1].split("。")[0].strip()

    conn = sqlite3.connect(server["db"])
    try:
        row = conn.execute(
            "SELECT b.status, b.subject FROM bookings b JOIN users u ON u.id = b.user_id "
            "WHERE b.code = ? AND u.username = ?",
            [code, student],
        ).fetchone()
        assert row == ("booked", SUBJECT)
    finally:
        conn.close()

    page.get_by_role("link", name="我的预约").first.click()
    page.get_by_role("heading", name="我的预约").wait_for()
    settle(page)
    page.get_by_text(SUBJECT).first.wait_for()  # shown as text, markup and all
    page.get_by_role("button", name="取消预约").first.click()
    page.get_by_text("已取消").first.wait_for()

    conn = sqlite3.connect(server["db"])
    try:
        assert conn.execute("SELECT status FROM bookings WHERE code = ?", [code]).fetchone()[0] == "cancelled"
    finally:
        conn.close()
