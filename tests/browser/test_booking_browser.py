"""A student books a reception-day slot and cancels it on a phone (390×844, as in WeChat's browser):
every state is on screen and nothing needs sideways scrolling."""

import sqlite3

import pytest

from portal.reception.bookings import CASE_STATE_LABELS
from tests.browser.conftest import FREE_SLOT, choose, fits, open_page, phone_login, settle, tap_twice

SUBJECT = "宿舍热水供应不稳定 <i>请协调</i>"


def test_a_student_books_and_cancels_on_a_phone(server, phone):
    page, base, student = phone, server["url"], "2023000005"
    phone_login(page, base, student)
    open_page(page, base, "reception_book", "预约接待")
    page.get_by_text("2026年12月2日（星期三）").first.click()
    settle(page)
    fits(page, "days and slots")
    page.get_by_role("button", name=FREE_SLOT).first.click()
    settle(page)
    choose(page, "反映事项类别", "教学")
    page.get_by_label("反映事项（简要）").fill(SUBJECT)
    page.get_by_label("具体情况（选填）").fill("第一行\n第二行 & 更多")
    page.get_by_label("联系电话（手机号或校内分机）").fill("13800138000")
    settle(page)
    fits(page, "the form")
    page.get_by_role("button", name="提交预约").dblclick()  # people double-tap: one booking, no error
    page.get_by_text("预约成功").wait_for()
    settle(page)
    assert page.get_by_text("每人每天限预约一次").count() == 0
    code = page.get_by_text("预约成功").inner_text().split("预约编号")[1].split("。")[0].strip()
    # the confirmation is complete on screen: code, place, leader, subject shown as typed, masked phone
    for shown in (f"预约编号：{code}", "地点：", "值班校领导：", SUBJECT, "138****8000", "待接待"):
        page.get_by_text(shown, exact=False).first.wait_for(timeout=5_000)
    fits(page, "the confirmation")

    with sqlite3.connect(server["db"]) as conn:
        row = conn.execute(
            "SELECT b.status, b.subject FROM bookings b JOIN users u ON u.id = b.user_id "
            "WHERE b.code = ? AND u.username = ?",
            [code, student],
        ).fetchone()
    assert row == ("booked", SUBJECT)
    with sqlite3.connect(server["db"]) as conn:
        assert conn.execute(
            "SELECT count(*) FROM bookings b JOIN users u ON u.id = b.user_id WHERE u.username = ? AND b.date = ?",
            [student, "2026-12-02"],
        ).fetchone() == (1,)

    open_page(page, base, "my_bookings", "我的预约")
    page.get_by_text(f"预约编号：{code}", exact=False).first.wait_for()
    page.get_by_text("待接待").first.wait_for(timeout=5_000)
    fits(page, "我的预约")
    page.get_by_role("button", name="取消预约").first.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("确定取消这个预约吗？", exact=False).wait_for()
    fits(page, "the cancel dialog")
    dialog.get_by_label("取消原因（选填）").fill("临时有课")
    settle(page)
    dialog.get_by_role("button", name="确认取消").click()
    page.get_by_text(f"预约 {code} 已取消").wait_for()
    page.get_by_text("原因：临时有课", exact=False).first.wait_for()
    page.get_by_text("已取消").first.wait_for(timeout=5_000)
    fits(page, "a cancelled booking")

    with sqlite3.connect(server["db"]) as conn:
        assert conn.execute(
            "SELECT status, cancel_reason FROM bookings WHERE code = ?", [code]
        ).fetchone() == (
            "cancelled",
            "临时有课",
        )


@pytest.mark.parametrize(
    ("gap_ms", "student"), [(0, "2023000006"), (40, "2023000007"), (90, "2023000008"), (250, "2023000009")]
)
def test_a_second_tap_at_any_moment_keeps_the_day_and_the_confirmation(server, phone, gap_ms, student):
    """The second tap of a double tap reaches the server before, while or after the first one's run.
    It once came back with the day list's old label ("余 8 个时段", while the first tap had made it
    "已预约 …"): the page fell back to the first day and the confirmation was gone."""
    page, base = phone, server["url"]
    phone_login(page, base, student)
    open_page(page, base, "reception_book", "预约接待")
    page.get_by_text("2026年12月2日（星期三）").first.click()
    settle(page)
    page.get_by_role("button", name=FREE_SLOT).first.click()
    settle(page)
    choose(page, "反映事项类别", "后勤保障")
    page.get_by_label("反映事项（简要）").fill("食堂晚餐供应时间")
    page.get_by_label("联系电话（手机号或校内分机）").fill("13800138000")
    settle(page)
    tap_twice(page.get_by_role("button", name="提交预约"), gap_ms, page)
    said = page.get_by_text("预约成功")
    said.wait_for(timeout=10_000)
    code = said.inner_text().split("预约编号")[1].split("。")[0].strip()
    page.get_by_text("2026年12月2日（星期三）", exact=False).nth(1).wait_for(timeout=5_000)  # the card's date
    with sqlite3.connect(server["db"]) as conn:
        made = conn.execute(
            "SELECT b.code, b.date FROM bookings b JOIN users u ON u.id = b.user_id "
            "WHERE u.username = ? AND b.status = 'booked' AND b.subject = '食堂晚餐供应时间'",
            [student],
        ).fetchall()
    assert made == [(code, "2026-12-02")]


def test_my_cases_are_cards_on_a_phone(server, phone):
    """我的诉求 at 390 px: the state of each case is the first thing on its card, nothing clipped."""
    with sqlite3.connect(server["db"]) as conn:
        username, number = conn.execute(
            "SELECT u.username, c.number FROM cases c JOIN users u ON u.id = c.raised_by "
            "WHERE c.answer != '' ORDER BY c.id LIMIT 1"
        ).fetchone()
    phone_login(phone, server["url"], username)
    open_page(phone, server["url"], "my_cases", "我的诉求")
    card = phone.locator("[class*='st-key-case_']").filter(has_text=number).first
    card.wait_for()
    first_line = card.inner_text().strip().splitlines()[0]
    assert first_line in set(CASE_STATE_LABELS.values()), first_line
    fits(phone, "我的诉求")
