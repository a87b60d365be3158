"""检索 in a real browser (issue 20 item 4): each result says what it is, shows the words around the match
with the match marked, and opens its object."""

from __future__ import annotations

from tests.browser.conftest import login, settle


def _search(page, server, query: str) -> None:
    login(page, server["url"], "dangban")
    page.get_by_role("link", name="检索").first.click()
    page.get_by_role("heading", name="检索").wait_for()
    settle(page)
    box = page.get_by_label("检索词")
    box.fill(query)
    box.press("Enter")
    page.get_by_text("共 ").first.wait_for()
    settle(page)


def test_a_case_found_opens_with_its_words_marked(server, page):
    _search(page, server, "食堂")
    card = page.locator("[class*='st-key-hit_case_']").first
    card.get_by_text("意见建议", exact=True).first.wait_for()  # what it is
    marked = card.locator("strong", has_text="食堂").first  # the match, marked
    marked.wait_for()
    assert (
        marked.evaluate("e => getComputedStyle(e.closest('span') || e).backgroundColor") != "rgba(0, 0, 0, 0)"
    )
    link = card.get_by_role("link").first
    number = link.inner_text().strip()
    link.click()
    page.get_by_role("heading").filter(has_text=number).wait_for(timeout=15_000)


def test_an_activity_found_opens_its_record(server, page):
    _search(page, server, "食堂")
    page.get_by_role("tab", name="联系活动").click()
    settle(page)
    card = page.locator("[class*='st-key-hit_activity_']").first
    card.get_by_text("联系活动", exact=True).first.wait_for()
    card.get_by_role("link").first.click()
    page.get_by_role("heading", name="联系活动记录").wait_for(timeout=15_000)
    page.get_by_role("heading").filter(has_text="编号").wait_for()
