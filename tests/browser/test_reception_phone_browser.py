"""接待当日 and 接待日安排 on a phone (390×844): every visitor's time, name and state, and every duty
day's date, leader and state, are on screen within the phone's width — nothing cut off at the
right edge as the columns of a table were."""

import datetime as dt

from portal import accounts, dates, reception
from portal.db import open_db
from portal.reception import roster
from tests.browser.conftest import PHONE, fits, open_page, phone_login

DAY = dt.date(2026, 11, 25)  # the coming reception day (today is 2026-11-24): all 待接待


def within_the_phone(card) -> str:
    """The card's text, after checking that the card and every line in it end inside the screen."""
    card.scroll_into_view_if_needed()
    box = card.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 1, box
    overflowing = card.evaluate(
        """(el) => [...el.querySelectorAll('*')].filter((e) => {
            const r = e.getBoundingClientRect();
            return r.width > 0 && (r.right > innerWidth + 1 || e.scrollWidth > e.clientWidth + 1
                && getComputedStyle(e).overflowX !== 'visible');
        }).map((e) => (e.innerText || '').slice(0, 30))"""
    )
    assert not overflowing, overflowing
    return card.inner_text()


def test_the_leader_on_duty_reads_the_days_visitors_on_a_phone(server, phone):
    with open_db(server["db"]) as db:
        duty = roster.get_day(db, DAY)
        (user_id,) = db.execute("SELECT id FROM users WHERE person_id = ?", [duty.leader_id]).fetchone()
        leader = accounts.get_user(db, user_id)
        visitors = reception.day_list(db, leader, DAY)
    assert len(visitors) >= 3
    phone_login(phone, server["url"], leader.username)
    open_page(phone, server["url"], f"reception_day?date={DAY.isoformat()}", "接待当日")
    for b in visitors:
        card = phone.locator(f".st-key-day_booking_{b.id}")
        card.wait_for()
        shown = within_the_phone(card)
        first_line = shown.strip().splitlines()[0]
        assert b.slot_label in first_line and b.visitor_name in first_line, first_line
        assert b.status_label in shown and b.subject in shown, shown
    fits(phone, "接待当日")


def test_anyone_reads_the_roster_on_a_phone(server, phone):
    with open_db(server["db"]) as db:
        shown_days = roster.list_roster(db, DAY - dt.timedelta(days=28), DAY + dt.timedelta(days=28))
    assert len(shown_days) >= 4
    phone_login(phone, server["url"], "2023000001")
    open_page(phone, server["url"], "reception_roster", "接待日安排")
    for d in shown_days:
        card = phone.locator(f".st-key-roster_day_{d.date.isoformat()}")
        card.wait_for()
        shown = within_the_phone(card)
        first_line = shown.strip().splitlines()[0]
        assert dates.format_date(d.date, weekday=False) in first_line and d.leader_name in first_line, (
            first_line
        )
        assert d.status_label in shown and d.place in shown, shown
    fits(phone, "接待日安排")


def test_dangban_reads_the_rosters_changes_on_a_phone(server, phone):
    with open_db(server["db"]) as db:
        history = roster.changes(db)
    assert len(history) >= 5
    phone_login(phone, server["url"], "dangban")
    open_page(phone, server["url"], "reception_roster", "接待日安排")
    phone.get_by_role("tab", name="变更记录").click()
    for i, c in enumerate(history[:30]):
        card = phone.locator(f".st-key-roster_change_{i}")
        card.wait_for()
        shown = within_the_phone(card)
        first_line = shown.strip().splitlines()[0]
        assert dates.format_date(c.date, weekday=False) in first_line and c.action_label in shown, shown
        assert c.describe() in shown, shown
    # (not ``fits``: the managers' seven tabs scroll sideways in their own bar, as Streamlit's tab bar
    # does on a phone; the page itself does not)
    assert phone.evaluate("document.scrollingElement.scrollWidth <= innerWidth")
