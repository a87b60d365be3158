"""The raiser rates an answer on a phone, from the link of the answer's message (issue 21 item 1): 不满意
with a reason sends the case back to 党办 and the card says so; the next answer is rated again, 满意 closes it."""

import sqlite3

from portal import accounts, case_actions, links
from portal.db import open_db
from tests.browser.conftest import fits, handed_over, phone_login, settle


def _answer(db_path, case_id: int, text: str) -> None:
    with open_db(db_path) as db:
        case_actions.answer(db, case_id, text, accounts.find_user(db, "dangban"))


def _rate(page, card, rating: str, comment: str = "") -> None:
    card.get_by_text(rating, exact=True).click()  # the radio option's label
    settle(page)
    if comment:
        box = card.get_by_label("意见（不满意时必填）")
        box.fill(comment)
        box.press("Control+Enter")  # Streamlit takes a text area's value on Ctrl+Enter or blur
        settle(page)
    card.get_by_role("button", name="提交评价").click()
    settle(page)


def test_the_raiser_rates_each_answer_from_the_messages_link(server, phone):
    page = phone
    username = "2023000005"
    case = handed_over(server["db"], username, "教学楼五楼女卫生间门锁坏了，希望尽快修好。")
    _answer(server["db"], case.id, "已报后勤处维修。<b>请留意</b>")
    phone_login(page, server["url"], username)
    page.goto(server["url"] + links.case(case.number, raiser=True).path, wait_until="networkidle")
    page.get_by_role("heading", name=f"诉求 {case.number}").wait_for()
    settle(page)
    card = page.locator(f".st-key-case_{case.id}")
    card.get_by_text("已报后勤处维修。<b>请留意</b>").wait_for()  # the answer as text, markup inert
    rating = page.locator(f".st-key-rate_{case.id}")
    rating.get_by_text("请评价这次答复").wait_for()
    fits(page, "rating-form")

    rating.get_by_role("button", name="提交评价").click()  # nothing chosen yet
    page.get_by_text("请选择满意、基本满意或不满意").wait_for()
    _rate(page, rating, "不满意", "修好后第二天又坏了")
    page.get_by_text("已退回党办重新办理").first.wait_for()
    card.get_by_text("意见：修好后第二天又坏了").wait_for()
    assert page.locator(f".st-key-rate_{case.id}").count() == 0  # rated once: the form is gone
    fits(page, "rating-done")

    _answer(server["db"], case.id, "已更换整套门锁。")
    page.reload(wait_until="networkidle")
    page.get_by_role("heading", name=f"诉求 {case.number}").wait_for()
    settle(page)
    card.get_by_text("第 2 次答复").first.wait_for()  # both answers, in order
    card.get_by_text("已报后勤处维修。<b>请留意</b>").wait_for()
    _rate(page, page.locator(f".st-key-rate_{case.id}"), "满意")
    page.get_by_text("此件已办结，感谢您的评价").first.wait_for()

    with sqlite3.connect(server["db"]) as conn:
        state = conn.execute("SELECT state FROM cases WHERE id = ?", [case.id]).fetchone()[0]
        found = conn.execute(
            "SELECT rating, comment, outcome FROM case_ratings WHERE case_id = ? ORDER BY id", [case.id]
        ).fetchall()
    assert state == "closed"
    assert found == [("unsatisfied", "修好后第二天又坏了", "reopened"), ("satisfied", "", "closed")]
