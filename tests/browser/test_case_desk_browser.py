"""意见建议办理 in a real browser at 1366×900 (issue 20 items 1–3): a click on a row opens its case, the
list shows each case's words and every state chip, and a clerk goes from the list to a sent answer
with the keyboard alone."""

from __future__ import annotations

import sqlite3

from tests.browser.conftest import handed_over, login, settle

ROW_HEIGHT = 72  # pages/case_desk.py
HEADER = 38


def _desk(page, server, username: str = "dangban") -> None:
    page.set_viewport_size({"width": 1366, "height": 900})
    login(page, server["url"], username)
    page.get_by_role("link", name="意见建议办理").first.click()
    page.get_by_role("heading", name="意见建议办理").wait_for()
    page.get_by_test_id("data-grid-canvas").first.wait_for()
    settle(page)


def _row_of(page, number: str) -> int:
    """The row of the list (0 first) that holds case ``number``, from the grid's accessible table, once
    the grid drawn for the list now on the page holds it (a new list is a new grid: its table comes a
    moment after it)."""
    for _ in range(100):
        numbers = page.get_by_test_id("data-grid-canvas").first.evaluate(
            "c => [...c.querySelectorAll('tbody tr')].map(r => r.querySelector('td') ? r.querySelector('td').textContent : '')"
        )
        if any(number in text for text in numbers):
            return next(i for i, text in enumerate(numbers) if number in text)
        page.wait_for_timeout(100)
    raise AssertionError(f"no row of the list holds {number}: {numbers}")


def _offered(page, number: str) -> None:
    """Wait until the list of 查看和办理 shows the case typed, as the user does before pressing Enter:
    Enter pressed before the list has narrowed to it (a loaded machine) picks the case on screen again."""
    page.get_by_role("option").filter(has_text=number).first.wait_for(timeout=30_000)


def _answered(db_path, number: str) -> tuple[str, str]:
    with sqlite3.connect(db_path) as conn:
        return conn.execute("SELECT state, answer FROM cases WHERE number = ?", [number]).fetchone()


def test_a_click_on_a_row_opens_its_case(server, page):
    made = handed_over(server["db"], "2023000005", "实验楼电梯经常停运，上下课很不方便。")
    _desk(page, server)
    page.get_by_test_id("stButtonGroup").get_by_role("button", name="已转办").click()  # fewer rows
    settle(page)
    page.get_by_test_id("stButtonGroup").get_by_role("button", name="办理中").click()
    settle(page)
    row = _row_of(page, made.number)
    assert row < 7, row  # on screen without scrolling the list
    grid = page.get_by_test_id("data-grid-canvas").first.bounding_box()
    page.mouse.click(grid["x"] + 300, grid["y"] + HEADER + row * ROW_HEIGHT + ROW_HEIGHT / 2)
    page.get_by_role("heading").filter(has_text=made.number).wait_for(timeout=30_000)


def test_the_list_shows_each_case_and_every_state_at_1366(server, page):
    handed_over(
        server["db"], "2023000006", "希望图书馆在考试周延长开放时间到晚上十一点，并增加自习座位和插座。"
    )
    _desk(page, server)
    # the table fits: nothing cut off at its right edge (its scroller needs no sideways scrolling)
    scroller = page.get_by_test_id("stDataFrame").first.locator(".dvn-scroller")
    width, visible = scroller.evaluate("s => [s.scrollWidth, s.clientWidth]")
    assert width <= visible + 3, (width, visible)  # (the grid's own 2 px border)
    # every state chip in sight, none hidden behind another control
    main = page.get_by_test_id("stMain").bounding_box()
    chips = page.get_by_test_id("stButtonGroup").first.get_by_role("button")
    assert chips.count() == 6
    for i in range(chips.count()):
        box = chips.nth(i).bounding_box()
        assert box and box["width"] > 20 and box["x"] + box["width"] <= main["x"] + main["width"], i
    # the words wrap over three lines: a row is as tall as ROW_HEIGHT
    canvas = page.get_by_test_id("data-grid-canvas").first
    rows = int(canvas.evaluate("c => c.querySelector('table').getAttribute('aria-rowcount')")) - 1
    height = canvas.bounding_box()["height"]
    assert height >= HEADER + min(rows, 7) * ROW_HEIGHT - 4, (height, rows)


def test_from_the_list_to_a_sent_answer_with_the_keyboard_alone(server, page):
    """Tab from the list to 查看和办理, the case's number and Enter; a few Tabs to 答复内容, type; Tab to
    提交答复, Enter. No mouse after the page opened."""
    made = handed_over(server["db"], "2023000007", "宿舍楼下自行车棚灯坏了。")
    _desk(page, server)
    page.get_by_test_id("data-grid-canvas").first.focus()  # the list, as a Tab from the filters leaves it
    for _ in range(20):  # Tab on to 查看和办理
        page.keyboard.press("Tab")
        if page.evaluate(
            "document.activeElement.closest('[data-testid=stSelectbox]')?.innerText || ''"
        ).startswith("查看和办理"):
            break
    else:
        raise AssertionError("Tab never reached 查看和办理")
    # a Tab through the list selects its cells, and each selection opens that row's case: the page runs
    # again, and keys typed meanwhile can be lost; the user types once it has settled
    settle(page)
    page.keyboard.type(made.number)
    _offered(page, made.number)
    page.keyboard.press("Enter")
    page.get_by_role("heading").filter(has_text=made.number).wait_for(timeout=30_000)
    settle(page)
    for tabs in range(1, 41):  # noqa: B007 (counts the presses): Tab on to the answer
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.getAttribute('aria-label') || ''").startswith("答复内容"):
            break
    else:
        raise AssertionError("Tab never reached 答复内容")
    assert tabs <= 4, tabs  # the answer first among the case's actions (it took 9 Tabs, past 转办 and 进展)
    page.keyboard.type("已请后勤处今天更换灯管。")
    page.keyboard.press("Tab")  # leaving the box applies it; the next stop is 提交答复
    settle(page)
    assert page.evaluate("document.activeElement.innerText").strip().endswith("提交答复")
    page.keyboard.press("Enter")
    page.get_by_text(f"{made.number} 已答复").first.wait_for(timeout=30_000)
    assert _answered(server["db"], made.number) == ("answered", "已请后勤处今天更换灯管。")


def _click_row(page, row: int) -> None:
    grid = page.get_by_test_id("data-grid-canvas").first.bounding_box()
    page.mouse.click(grid["x"] + 300, grid["y"] + HEADER + row * ROW_HEIGHT + ROW_HEIGHT / 2)


def _open_by_number(page, number: str) -> None:
    box = page.get_by_test_id("stSelectbox").filter(has_text="查看和办理").locator("input")
    box.click()
    page.keyboard.type(number)
    _offered(page, number)
    page.keyboard.press("Enter")
    page.get_by_role("heading").filter(has_text=number).wait_for(timeout=30_000)
    settle(page)


def test_a_click_on_a_row_opens_its_case_whatever_was_opened_in_between(server, page):
    """A row clicked, then another case opened by its number (or a link, or 打开 after a merge): a click
    on the first row again opens its case. The table kept the first click's row selected, so the second
    click on it only unselected it and nothing opened."""
    first = handed_over(server["db"], "2023000008", "教学楼三楼饮水机没有热水。")
    second = handed_over(server["db"], "2023000009", "操场跑道有积水，雨后无法上体育课。")
    _desk(page, server)
    page.get_by_test_id("stButtonGroup").get_by_role("button", name="已转办").click()
    settle(page)
    page.get_by_test_id("stButtonGroup").get_by_role("button", name="办理中").click()
    settle(page)
    _click_row(page, _row_of(page, first.number))
    page.get_by_role("heading").filter(has_text=first.number).wait_for(timeout=30_000)
    settle(page)
    _open_by_number(page, second.number)
    _click_row(page, _row_of(page, first.number))
    page.get_by_role("heading").filter(has_text=first.number).wait_for(timeout=30_000)


def test_the_administrators_list_fits_at_1366_with_its_departments_and_whole_reminders(server, page):
    """An administrator's list has one more column (责任部门): it fits at 1366 px too (with 意见建议 at
    360 px it was 18 px wider than its place, and 责任部门 was cut off)."""
    _desk(page, server, "admin")
    scroller = page.get_by_test_id("stDataFrame").first.locator(".dvn-scroller")
    width, visible = scroller.evaluate("s => [s.scrollWidth, s.clientWidth]")
    assert width <= visible + 3, (width, visible)
    # the grid's accessible table (what a screen reader reads) comes a moment after the canvas
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=data-grid-canvas] thead th')]"
        ".map(h => h.textContent).includes('责任部门')"
    )
    reminders = page.get_by_test_id("data-grid-canvas").first.evaluate(
        "c => [...c.querySelectorAll('tbody tr')].map(r => r.textContent).filter(t => t.includes('逾期'))"
    )
    assert reminders, "no overdue case in the demo's list"
