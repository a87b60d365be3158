"""完成本日接待 in a real browser at 11:45 on the day: the dialog says what will happen, 确认完成 does it,
and the afternoon's visitors stay 待接待."""

import sqlite3

import pytest

from tests.browser.serving import login, running_server, settle

DAY = "2026-11-25"


@pytest.fixture(scope="module")
def late_morning(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("day"), extra_env={"PORTAL_TODAY": f"{DAY}T11:45"}) as srv:
        yield srv


def statuses(db_path) -> dict[str, str]:
    with sqlite3.connect(db_path) as conn:
        return dict(
            conn.execute("SELECT slot, status FROM bookings WHERE date = ? AND status != 'cancelled'", [DAY])
        )


def test_finishing_the_day_at_1145_asks_and_keeps_the_afternoon(late_morning, page):
    before = statuses(late_morning["db"])
    assert set(before.values()) == {"booked"} and any(s > "12:00" for s in before)
    login(page, late_morning["url"], "dangban")
    page.goto(late_morning["url"] + "/reception_day", wait_until="networkidle")
    page.get_by_role("heading", name="接待当日").wait_for()
    settle(page)
    page.get_by_role("button", name="完成本日接待…").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("时段尚未结束的", exact=False).wait_for()
    assert statuses(late_morning["db"]) == before  # nothing happens before 确认完成
    dialog.get_by_role("button", name="确认完成").click()
    page.get_by_text("本日接待已完成", exact=False).wait_for()
    after = statuses(late_morning["db"])
    assert all(after[s] == "no_show" for s in before if s < "12:00")
    assert all(after[s] == "booked" for s in before if s > "12:00")
