"""The home page's 待办: what is waiting for each kind of user, checked against the data itself."""

import datetime as dt

from portal import accounts, cases, overview, quota
from tests.conftest import login, texts

TODAY = dt.date(2026, 11, 24)


def texts_of(found):
    return [r.text for r in found]


def test_a_visitor_sees_the_next_booking_and_new_answers(demo_db):
    username, code = demo_db.execute(
        "SELECT u.username, b.code FROM bookings b JOIN users u ON u.id = b.user_id "
        "WHERE b.status = 'booked' AND b.date >= ? ORDER BY b.date, b.slot LIMIT 1",
        [TODAY.isoformat()],
    ).fetchone()
    user = accounts.find_user(demo_db, username)
    found = overview.reminders(demo_db, user, TODAY)
    assert any(code in t and "您已预约" in t for t in texts_of(found))
    unread = len(cases.unread_answers(demo_db, user))
    assert any(f"有 {unread} 件意见建议收到了新的答复" in t for t in texts_of(found)) == (unread > 0)


def test_a_cadre_behind_pace_is_told_which_systems(demo_db):
    behind = {
        r.staff_no
        for r in quota.compute(demo_db, since=TODAY, on=TODAY)
        if r.behind and r.status == "in_progress"
    }
    staff_no = sorted(behind)[0]
    user = accounts.find_user(demo_db, staff_no)
    found = [r for r in overview.reminders(demo_db, user, TODAY) if "进度滞后" in r.text]
    assert len(found) == 1 and found[0].page == "pages/dashboard.py"


def test_departments_see_overdue_cases_and_admins_the_missing_year(demo_db):
    dangban = accounts.find_user(demo_db, "dangban")
    overdue = demo_db.execute(
        "SELECT count(*) FROM cases WHERE responsible_dept = '党办' AND state IN ('registered', 'referred', "
        "'in_progress') AND due_date < ?",
        [TODAY.isoformat()],
    ).fetchone()[0]
    found = texts_of(overview.reminders(demo_db, dangban, TODAY))
    assert (f"逾期未答复的意见建议 {overdue} 件" in found) == (overdue > 0)
    assert any("接待日：值班校领导" in t for t in found)  # 党办 runs tomorrow's reception day
    admin = texts_of(overview.reminders(demo_db, accounts.find_user(demo_db, "admin"), TODAY))
    assert any("2027 年的法定节假日和调休安排尚未导入" in t for t in admin)
    student = accounts.find_user(demo_db, "2023000009")
    assert not any("逾期" in t or "2027" in t for t in texts_of(overview.reminders(demo_db, student, TODAY)))


def test_the_home_page_shows_them(demo_db):
    at = login("admin")
    assert "待办" in texts(at) and "2027 年的法定节假日" in texts(at)
