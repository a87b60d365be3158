"""The pages people use on a phone, measured in Chromium at 390×844 with touch: every button, link,
day choice and dropdown a thumb taps on 预约接待, 我的预约, 我的诉求 and 接待当日 is at least 44 px
tall (the home page's cards and the menu were 28 px, the slots 40 px); the title and the page's
headings leave the screen to the page; the booking page, with its form open, is under three
screens (it was 4.7)."""

from __future__ import annotations

import datetime as dt
import re

from portal import accounts
from portal.db import open_db
from portal.reception import roster
from tests.browser.conftest import FREE_SLOT, PHONE, handed_over, open_page, phone_login, settle

THUMB = 44  # px: the height a thumb hits without a second try (Apple's and Android's guidance)
DAY = dt.date(2026, 11, 25)  # the coming reception day

# what a thumb taps; a dropdown's whole box (its group), a day's whole line (its label)
TARGETS_JS = """() => {
  const found = [];
  const selector = ['[data-testid=stMain] button', '[data-testid=stMain] a[href]', '[data-testid=stMain] [role=radio]',
    '[data-testid=stMain] [role=combobox]', '[data-testid=stMain] summary', '[data-testid=stExpandSidebarButton]',
    '[data-testid=stSidebar] a[href]', '[data-testid=stSidebar] button', '[role=dialog] button'].join(',');
  for (const e of document.querySelectorAll(selector)) {
    if (!e.checkVisibility({visibilityProperty: true}) || e.closest('[data-testid=stElementToolbar]')) continue;
    const box = (e.getAttribute('role') === 'radio' && e.closest('label'))
      || ((e.getAttribute('role') === 'combobox' || e.closest('[data-testid=stSelectbox], [data-testid=stMultiSelect]'))
          && e.closest('[role=group]')) || e;
    const r = box.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    found.push({height: r.height, what: (e.innerText || e.getAttribute('aria-label') || e.tagName).trim().slice(0, 30)});
  }
  return found;
}"""

HEADINGS_JS = """() => [...document.querySelectorAll('[data-testid=stMain] h1, [data-testid=stMain] h2, [data-testid=stMain] h3')]
  .filter((h) => h.checkVisibility()).map((h) => {
    const r = (h.closest('[data-testid=stElementContainer]') || h).getBoundingClientRect();
    return {tag: h.tagName, top: r.top, bottom: r.bottom, text: h.innerText};
  })"""


def small_targets(page, where: str) -> list[str]:
    settle(page)
    found = page.evaluate(TARGETS_JS)
    assert found, where
    return [f"{where}: {t['what']!r} {t['height']:.0f} px" for t in found if t["height"] < THUMB - 0.5]


def the_menu(page) -> list[str]:
    """The menu a phone opens from its top-left button."""
    page.get_by_test_id("stExpandSidebarButton").click()
    page.get_by_test_id("stSidebarNav").wait_for()
    page.wait_for_timeout(400)
    small = small_targets(page, "menu")
    page.get_by_test_id("stSidebarCollapseButton").get_by_role("button").click()
    page.get_by_test_id("stExpandSidebarButton").wait_for()
    return small


def headings_leave_the_screen_to_the_page(page, where: str) -> None:
    screen = PHONE["height"]
    headings = page.evaluate(HEADINGS_JS)
    title = next(h for h in headings if h["tag"] == "H1")
    # the title ends in the top sixth (it ended at a fifth under a 96 px gap); no heading is taller
    # than a line of large text
    assert title["bottom"] <= screen / 6, (where, title)
    assert all(h["bottom"] - h["top"] <= 56 for h in headings), (where, headings)


def test_what_a_thumb_taps_is_44_px_tall_and_headings_are_small(server, phone):
    base = server["url"]
    small: list[str] = []
    handed_over(server["db"], "30000001", "图书馆自习室晚上十点关门太早，希望延长到十一点")
    with open_db(server["db"]) as db:
        duty = roster.get_day(db, DAY)
        (leader_id,) = db.execute("SELECT id FROM users WHERE person_id = ?", [duty.leader_id]).fetchone()
        leader = accounts.get_user(db, leader_id).username

    phone_login(phone, base, "30000001")  # a member of staff with a booking on 25 November
    small += small_targets(phone, "首页")
    small += the_menu(phone)

    open_page(phone, base, "reception_book", "预约接待")
    phone.locator("[data-testid=stRadio] label").last.click()  # a day not booked yet: its slots
    settle(phone)
    small += small_targets(phone, "预约接待")
    phone.get_by_role("button", name=FREE_SLOT, disabled=False).first.click()  # and the form
    phone.get_by_role("button", name="提交预约").wait_for()
    small += small_targets(phone, "预约接待 form")
    headings_leave_the_screen_to_the_page(phone, "预约接待")
    screens = phone.evaluate("document.querySelector('[data-testid=stMain]').scrollHeight") / PHONE["height"]
    assert screens < 3, f"预约接待 is {screens:.1f} screens long"

    open_page(phone, base, "my_bookings", "我的预约")
    small += small_targets(phone, "我的预约")
    headings_leave_the_screen_to_the_page(phone, "我的预约")

    open_page(phone, base, "my_cases", "我的诉求")
    small += small_targets(phone, "我的诉求")
    headings_leave_the_screen_to_the_page(phone, "我的诉求")

    phone.context.clear_cookies()
    phone_login(phone, base, leader)
    open_page(phone, base, f"reception_day?date={DAY.isoformat()}", "接待当日")
    small += small_targets(phone, "接待当日")
    headings_leave_the_screen_to_the_page(phone, "接待当日")

    assert not small, "\n".join(small)


def test_the_check_sees_a_small_target(server, phone):
    phone_login(phone, server["url"], "30000001")
    phone.get_by_test_id("stPageLink-NavLink").first.wait_for()
    phone.evaluate(
        "() => { const b = document.querySelector('[data-testid=stMain] [data-testid=stPageLink-NavLink]'); b.style.setProperty('min-height', '20px', 'important'); b.style.setProperty('height', '20px', 'important'); }"
    )
    assert any(re.search(r"20 px$", s) for s in small_targets(phone, "首页"))
