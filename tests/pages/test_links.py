"""A link for everything (issue 12 §3): each booking, case, activity and duty day opens by URL for whoever
may see it, the 待办 items link to their object, a logged-out visitor lands on the link after logging in,
and a link to something the user may not see says so in Chinese."""

from __future__ import annotations

import datetime as dt

import pytest

from portal import accounts, case_actions, case_opening, links, overview
from portal.demo import DEMO_PASSWORD
from tests.conftest import app, goto, login, texts

TODAY = dt.date(2026, 11, 24)


@pytest.fixture
def answered_case(demo_db):
    """A 党办 case raised by a visitor, already answered (so it is not in the page's default open filter)."""
    visitor = accounts.find_user(demo_db, "30000001")
    dangban = accounts.find_user(demo_db, "dangban")
    case = case_opening.open_case(
        demo_db,
        source="reception",
        content="图书馆自习室晚上十点关门太早",
        responsible_dept="党办",
        contact_date=TODAY,
        system="接待日",
        raised_by=visitor.id,
        raiser_name=visitor.display_name,
    )
    case_actions.answer(demo_db, case.id, "已协调延长至十一点。", dangban)
    return case


def test_urls_name_each_object_and_use_the_base_url(monkeypatch):
    monkeypatch.setenv("PORTAL_PUBLIC_URL", "https://portal.example.edu.cn/")
    assert links.case("2026-0221").url == "https://portal.example.edu.cn/cases?no=2026-0221"
    assert links.case("2026-0221", raiser=True).url == "https://portal.example.edu.cn/my_cases?no=2026-0221"
    assert links.booking("AB23CD").url == "https://portal.example.edu.cn/my_bookings?code=AB23CD"
    assert links.activity(17).url == "https://portal.example.edu.cn/activities?id=17"
    assert (
        links.duty_day(dt.date(2026, 11, 25)).url
        == "https://portal.example.edu.cn/reception_roster?date=2026-11-25"
    )
    assert links.reception_day(dt.date(2026, 11, 25)).page == "pages/reception_day.py"
    monkeypatch.delenv("PORTAL_PUBLIC_URL")
    assert links.case("2026-0221").url == "http://localhost:8501/cases?no=2026-0221"


def test_a_case_link_opens_the_case_even_outside_the_default_filter(demo_db, answered_case):
    at = login("dangban")
    at.query_params["no"] = answered_case.number
    goto(at, "pages/cases.py").run()
    assert not at.exception, at.exception
    assert any(answered_case.number in s.value for s in at.subheader), texts(at)
    assert "已协调延长至十一点。" in texts(at)


def test_a_case_link_for_another_department_says_so(demo_db, answered_case):
    at = login("jiaowu")
    at.query_params["no"] = answered_case.number
    goto(at, "pages/cases.py").run()
    assert not at.exception, at.exception
    assert any(
        "无法打开链接" in e.value and answered_case.number in e.value.replace("\\", "") for e in at.error
    )
    assert not any(answered_case.number in s.value for s in at.subheader)


def test_the_raiser_opens_the_case_under_my_cases(demo_db, answered_case):
    at = login("30000001")
    at.query_params["no"] = answered_case.number
    goto(at, "pages/my_cases.py").run()
    assert not at.exception, at.exception
    assert any(answered_case.number in s.value for s in at.subheader)


def test_a_booking_link_opens_the_booking_and_not_someone_elses(demo_db):
    rows = demo_db.execute(
        "SELECT u.username, b.code FROM bookings b JOIN users u ON u.id = b.user_id "
        "WHERE b.status = 'booked' AND b.date >= ? ORDER BY b.date, b.slot LIMIT 2",
        [TODAY.isoformat()],
    ).fetchall()
    (holder, code), (_, other) = rows
    at = login(holder)
    at.query_params["code"] = code
    goto(at, "pages/my_bookings.py").run()
    assert not at.exception, at.exception
    assert any(code in s.value for s in at.subheader)
    at.query_params["code"] = other
    at.run()
    assert any("无法打开链接" in e.value for e in at.error)


def test_an_activity_link_opens_the_record(demo_db):
    staff_no, activity_id = (
        demo_db.execute(
            "SELECT p.staff_no, a.id FROM activities a JOIN people p ON p.id = a.cadre_id "
            "WHERE a.voided_at IS NULL AND a.date < ? ORDER BY a.date LIMIT 1",
            [(TODAY - dt.timedelta(days=400)).isoformat()],
        ).fetchone()
        or demo_db.execute(
            "SELECT p.staff_no, a.id FROM activities a JOIN people p ON p.id = a.cadre_id "
            "WHERE a.voided_at IS NULL ORDER BY a.date LIMIT 1"
        ).fetchone()
    )
    at = login(staff_no)
    at.query_params["id"] = str(activity_id)
    goto(at, "pages/activities.py").run()
    assert not at.exception, at.exception
    assert any(f"编号 {activity_id}" in s.value for s in at.subheader), texts(at)
    at.query_params["id"] = "999999"
    at.run()
    assert any("无法打开链接" in e.value for e in at.error)


def test_a_duty_day_link_opens_the_day(demo_db):
    day = demo_db.execute(
        "SELECT date FROM duty_days WHERE date > ? AND status = 'scheduled' ORDER BY date LIMIT 1 OFFSET 3",
        [TODAY.isoformat()],
    ).fetchone()[0]
    at = login("dangban")
    at.query_params["date"] = day
    goto(at, "pages/reception_day.py").run()
    assert not at.exception, at.exception
    assert at.selectbox(key="day").value == day


def test_todo_items_link_to_their_object(demo_db):
    username, code = demo_db.execute(
        "SELECT u.username, b.code FROM bookings b JOIN users u ON u.id = b.user_id "
        "WHERE b.status = 'booked' AND b.date >= ? ORDER BY b.date, b.slot LIMIT 1",
        [TODAY.isoformat()],
    ).fetchone()
    found = overview.reminders(demo_db, accounts.find_user(demo_db, username), TODAY)
    booked = next(r for r in found if code in r.text)
    assert booked.page == "pages/my_bookings.py" and booked.params == {"code": code}
    at = login(username)
    assert any(p.proto.query_string == f"code={code}" for p in at.get("page_link")), (
        "待办 links to the booking"
    )


def test_a_logged_out_link_lands_on_its_object_after_login(demo_db, answered_case):
    at = app()
    at.query_params["no"] = answered_case.number
    goto(at, "pages/cases.py").run()
    assert not at.exception, at.exception
    assert "登录" in [b.label for b in at.button]
    at.text_input[0].input("dangban")
    at.text_input[1].input(DEMO_PASSWORD)
    at.button[0].click().run()
    at.run()
    assert not at.exception, at.exception
    assert any(answered_case.number in s.value for s in at.subheader), texts(at)


def test_a_case_links_to_the_activity_it_came_from_for_whoever_may_open_it(demo_db):
    number, activity_id, staff_no = demo_db.execute(
        "SELECT c.number, c.activity_id, p.staff_no FROM cases c JOIN people p ON p.id = c.cadre_id "
        "WHERE c.activity_id IS NOT NULL ORDER BY c.id LIMIT 1"
    ).fetchone()
    at = login(staff_no)
    at.query_params["no"] = number
    goto(at, "pages/cases.py").run()
    assert not at.exception, at.exception
    assert any(p.proto.query_string == f"id={activity_id}" for p in at.get("page_link")), texts(at)


def test_the_base_url_falls_back_to_the_sign_ins_public_url(monkeypatch):
    monkeypatch.delenv("PORTAL_PUBLIC_URL", raising=False)
    monkeypatch.setenv("PORTAL_PUBLIC_URL", "https://portal.hpu.edu.cn/")
    assert links.booking("AB23CD").url == "https://portal.hpu.edu.cn/my_bookings?code=AB23CD"


@pytest.mark.parametrize("value", ["99999999999999999999999", "²", "１２", "-3", "0"])
def test_a_link_to_an_activity_that_cannot_exist_says_so(demo_db, value):
    at = login("admin")
    at.query_params["id"] = value
    goto(at, "pages/activities.py").run()
    assert not at.exception, at.exception
    assert any("无法打开链接" in e.value for e in at.error)
