"""完成本日接待 in a real browser at 11:45 on the day: the dialog says what will happen, 确认完成 does it,
and the afternoon's visitors stay 待接待."""

import sqlite3

import pytest

from tests.browser.conftest import choose, tap_twice
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


@pytest.fixture(scope="module")
def mid_morning(tmp_path_factory):
    with running_server(
        tmp_path_factory.mktemp("checkin"), extra_env={"PORTAL_TODAY": f"{DAY}T10:00"}
    ) as srv:
        yield srv


def test_a_double_tap_on_checkin_checks_in_the_visitor_chosen_and_no_other(mid_morning, page):
    """签到 changes the chosen visitor's line in the 来访人 list (待接待 → 已签到). The second tap of a
    double tap came back with the old line, the list fell back to its first visitor, and the tap
    checked that visitor in: someone who had not come."""
    with sqlite3.connect(mid_morning["db"]) as conn:
        waiting = conn.execute(
            "SELECT b.id, p.name FROM bookings b JOIN users u ON u.id = b.user_id JOIN people p ON p.id = u.person_id "
            "WHERE b.date = ? AND b.status = 'booked' ORDER BY b.slot, b.id",
            [DAY],
        ).fetchall()
    assert len(waiting) >= 3
    login(page, mid_morning["url"], "dangban")
    page.goto(mid_morning["url"] + f"/reception_day?date={DAY}", wait_until="networkidle")
    page.get_by_role("heading", name="接待当日").wait_for()
    settle(page)
    for gap_ms, (_, name) in zip((40, 90), waiting[1:3], strict=True):
        choose(page, "来访人", name)
        settle(page)
        # the chosen visitor's 签到 (not the form's 签到 by booking code above the list)
        checkin = page.get_by_test_id("stBaseButton-secondary").filter(has_text="签到")
        tap_twice(checkin, gap_ms, page)
    with sqlite3.connect(mid_morning["db"]) as conn:
        checked = {
            i
            for (i,) in conn.execute(
                "SELECT id FROM bookings WHERE date = ? AND checked_in_at IS NOT NULL", [DAY]
            )
        }
    names = dict(waiting)
    assert sorted(names[i] for i in checked) == sorted(name for _, name in waiting[1:3])
