"""A department answers a case in a real browser, and the student who raised it reads the answer."""

import sqlite3

from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from tests.browser.conftest import handed_over, login, settle, tap_twice

ANSWER = "经党办协调，后勤处已于本周更换热水器。<script>alert(1)</script> 如仍有问题请再反映。"


def pick(page, label: str, text: str) -> None:
    """Type into a selectbox and take the option. The page's run is let end first, and the pick is
    made again if the list was drawn anew under the click anyway (its options detach: a fresh-clone
    run on a quiet machine lost a click so, once in four runs)."""
    box = page.locator("[data-testid=stSelectbox]").filter(has_text=label)
    for _ in range(5):
        settle(page)
        box.click()
        page.keyboard.type(text)
        try:
            page.get_by_role("option").filter(has_text=text).first.click(timeout=5_000)
            break
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
    else:
        raise AssertionError(f"{label}: the option {text} never held still")
    settle(page)


def test_department_answers_and_the_student_reads_it(server, browser, page):
    username = "2023000003"
    case = handed_over(server["db"], username, "宿舍热水器坏了一周，希望尽快维修。")
    number = case.number

    login(page, server["url"], "dangban")
    page.get_by_role("link", name="意见建议办理").first.click()
    page.get_by_role("heading", name="意见建议办理").wait_for()
    pick(page, "查看和办理", number)
    page.get_by_role("heading").filter(has_text=number).wait_for()
    settle(page)
    reply = page.get_by_label("答复内容（将同时送达干部和提出人）")
    expect(reply).to_have_count(1)  # the previous case's widgets linger until the rerun ends
    reply.fill(ANSWER)
    reply.press("Control+Enter")  # Streamlit takes a text area's value on Ctrl+Enter or blur
    settle(page)
    expect(reply).to_have_value(ANSWER)
    page.get_by_role("button", name="提交答复").click()
    page.get_by_text("已答复").first.wait_for()

    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000})
    student = context.new_page()
    try:
        login(student, server["url"], username)
        student.get_by_role("link", name="我的诉求").first.click()
        student.get_by_role("heading", name="我的诉求").wait_for()
        settle(student)
        card = student.locator(f".st-key-case_{case.id}")  # the case's card (its container key)
        card.get_by_text(number).wait_for()
        card.get_by_text("已答复").first.wait_for()  # the state first on its card
        card.get_by_text(ANSWER).wait_for()  # shown as text, the markup inert
        assert student.locator("script", has_text="alert(1)").count() == 0
    finally:
        context.close()

    conn = sqlite3.connect(server["db"])
    try:
        state, answer = conn.execute("SELECT state, answer FROM cases WHERE number = ?", [number]).fetchone()
    finally:
        conn.close()
    assert state == "answered" and answer == ANSWER


def test_a_double_tap_on_answer_stays_on_the_case_answered(server, page):
    """提交答复 changes the case's state. The 查看和办理 list once named each case with its state,
    so the second tap of a double tap came back with a name no longer in the list and the page
    jumped to another case."""
    made = [handed_over(server["db"], "2023000004", f"教学楼{floor}楼饮水机无热水。") for floor in (3, 4)]
    login(page, server["url"], "dangban")
    page.get_by_role("link", name="意见建议办理").first.click()
    page.get_by_role("heading", name="意见建议办理").wait_for()
    settle(page)  # the page's first run over: a list opened during it is drawn again and its options detach
    for gap_ms, case in zip((40, 120), made, strict=True):
        pick(page, "查看和办理", case.number)
        page.get_by_role("heading").filter(has_text=case.number).wait_for()
        settle(page)
        reply = page.get_by_label("答复内容（将同时送达干部和提出人）")
        reply.fill("已报后勤处维修。")
        reply.press("Control+Enter")
        settle(page)
        tap_twice(page.get_by_role("button", name="提交答复"), gap_ms, page)
        page.get_by_role("heading").filter(has_text=f"{case.number}　已答复").wait_for(timeout=10_000)
    with sqlite3.connect(server["db"]) as conn:
        states = [conn.execute("SELECT state FROM cases WHERE id = ?", [c.id]).fetchone()[0] for c in made]
    assert states == ["answered", "answered"]
