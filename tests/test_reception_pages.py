"""The reception pages through AppTest: booking, cancelling, the roster, and recording a reception."""

from __future__ import annotations

import datetime as dt

import pytest

from pages.common import answer_key
from portal import accounts, dates, reception
from portal.reception import roster
from tests.conftest import goto, login, texts

NEXT = "2026-12-02"
COMING = dt.date(2026, 11, 25)


def submit(at, label: str) -> None:
    next(b for b in at.button if b.label == label).click().run()


def _bookings_of(db, username: str) -> list:
    return reception.my_bookings(db, accounts.find_user(db, username))


def test_a_student_books_and_sees_the_confirmation(demo_db):
    at = login("2023000002")
    goto(at, "pages/reception_book.py").run()
    assert not at.exception
    at.selectbox(key="day").select(NEXT).run()
    at.selectbox(key="category").select("教学")
    at.text_input(key="subject").input("选课系统高峰期无法登录")
    at.text_area(key="description").input("<b>不要</b>渲染成 HTML")
    at.text_input(key="phone").input("13912345678")
    submit(at, "提交预约")
    assert not at.exception, at.exception
    made = [b for b in _bookings_of(demo_db, "2023000002") if b.date.isoformat() == NEXT]
    assert len(made) == 1 and made[0].subject == "选课系统高峰期无法登录"
    shown = texts(at)
    assert f"预约编号 {made[0].code}" in shown and "2026年12月2日（星期三）" in shown
    assert "139****5678" in shown and "13912345678" not in shown
    # the same again: one booking per person per day, said in Chinese
    at.text_input(key="subject").input("再约一次")
    submit(at, "提交预约")
    assert any("每人每天限预约一次" in e.value for e in at.error)


def test_a_visitor_cancels_before_the_cut_off(demo_db):
    username = "30000001"
    visitor = accounts.find_user(demo_db, username)
    free = next(x.slot for x in reception.slots(demo_db, dt.date.fromisoformat(NEXT)) if x.free)
    data = reception.BookingInput(
        date=dt.date.fromisoformat(NEXT), slot=free, category="其他", subject="校园班车", phone="13800001111"
    )
    target = reception.book(demo_db, visitor, data, now=dt.datetime(2026, 11, 24, 10, tzinfo=dates.TZ))
    at = login(username)
    goto(at, "pages/my_bookings.py").run()
    assert not at.exception
    assert target.code in list(at.dataframe[0].value["预约编号"])
    at.selectbox(key="booking").select(target.id).run()
    next(b for b in at.button if b.key == f"cancel_{target.id}").click().run()
    at.run()  # st.rerun
    assert not at.exception
    assert reception.get_booking(demo_db, visitor, target.id).status == "cancelled"
    assert "已取消" in texts(at)


def test_dangban_records_a_reception_on_the_day(demo_db, monkeypatch):
    monkeypatch.setenv("PORTAL_TODAY", "2026-11-25")
    dangban = accounts.find_user(demo_db, "dangban")
    waiting = [b for b in reception.day_list(demo_db, dangban, COMING) if b.status == "booked"]
    at = login("dangban")
    goto(at, "pages/reception_day.py").run()
    assert not at.exception, at.exception
    assert at.selectbox(key="day").value == COMING.isoformat()
    listed = at.dataframe[0].value
    assert waiting[0].visitor_name in list(listed["来访人"])
    assert waiting[0].phone not in list(listed["联系电话"])  # masked in the list
    assert waiting[0].phone_masked in list(listed["联系电话"])
    at.selectbox(key="visitor").select(waiting[0].id).run()
    at.radio(key="outcome").set_value("answered")
    at.text_area(key="answer").input("已当面说明，下周起增开窗口")
    submit(at, "保存接待记录")
    said = texts(at)
    at.run()  # st.rerun, when AppTest has not followed it
    said += texts(at)
    assert not at.exception, at.exception
    done = reception.get_booking(demo_db, dangban, waiting[0].id)
    assert done.status == "received" and done.answer == "已当面说明，下周起增开窗口"
    activity_id = roster.get_day(demo_db, COMING).activity_id
    assert activity_id is not None
    content = demo_db.execute("SELECT content FROM activities WHERE id = ?", [activity_id]).fetchone()[0]
    assert "已当面说明，下周起增开窗口" in content
    assert "已记录：当面答复。" in said


def test_a_student_cannot_open_the_day_and_sees_only_his_bookings(demo_db):
    at = login("2023000001")
    with pytest.raises(ValueError):
        goto(at, "pages/reception_day.py")
    goto(at, "pages/my_bookings.py").run()
    codes = set(at.dataframe[0].value["预约编号"])
    mine = {b.code for b in _bookings_of(demo_db, "2023000001")}
    assert codes == mine and mine
    others = {
        r[0]
        for r in demo_db.execute(
            "SELECT code FROM bookings WHERE user_id != ?", [accounts.find_user(demo_db, "2023000001").id]
        )
    }
    assert not codes & others


def test_dangban_cancels_a_day_and_the_roster_says_so(demo_db):
    day = roster.get_day(demo_db, dt.date.fromisoformat(NEXT))
    assert day.booked > 0
    at = login("xiaoban")
    goto(at, "pages/reception_roster.py").run()
    assert not at.exception, at.exception
    at.selectbox(key="cancel_day").select(NEXT)
    at.text_input(key="cancel_reason").input("学校召开教代会")
    next(b for b in at.button if b.label == "取消该接待日").click().run()
    assert not roster.get_day(demo_db, dt.date.fromisoformat(NEXT)).cancelled  # it asks first
    at.session_state[answer_key("cancel_day")] = True  # the dialog's 确认取消
    at.run()
    assert not at.exception, at.exception
    assert roster.get_day(demo_db, dt.date.fromisoformat(NEXT)).cancelled
    assert "已取消（学校召开教代会）" in set(at.dataframe[0].value["状态"])
    assert (
        demo_db.execute(
            "SELECT count(*) FROM bookings WHERE date = ? AND status = 'booked'", [NEXT]
        ).fetchone()[0]
        == 0
    )


def test_everyone_sees_the_roster_but_only_dangban_manages_it(demo_db):
    at = login("2023000001")
    goto(at, "pages/reception_roster.py").run()
    assert not at.exception
    assert "2026年11月25日（星期三）" in set(at.dataframe[0].value["日期"])
    assert "管理接待日" not in texts(at)


def test_my_bookings_shows_what_came_of_a_handed_issue(demo_db):
    row = demo_db.execute(
        "SELECT b.id, u.username, c.number FROM bookings b JOIN cases c ON c.booking_id = b.id "
        "JOIN users u ON u.id = b.user_id WHERE c.answer != '' ORDER BY b.id LIMIT 1"
    ).fetchone()
    if row is None:
        pytest.skip("the demo has no answered reception case")
    booking_id, username, number = row
    at = login(username)
    goto(at, "pages/my_bookings.py").run()
    at.selectbox(key="booking").select(booking_id).run()
    assert not at.exception
    shown = texts(at)
    seen = reception.get_booking(demo_db, accounts.find_user(demo_db, username), booking_id)
    assert f"办理编号 {number}：{seen.cases[0].state_label}" in shown
    assert f"答复：{seen.cases[0].answer}" in shown


def test_the_leader_on_duty_runs_his_day_and_closes_it(demo_db, monkeypatch):
    monkeypatch.setenv("PORTAL_TODAY", "2026-11-25")
    duty = roster.get_day(demo_db, COMING)
    at = login(duty.leader_staff_no)
    goto(at, "pages/reception_day.py").run()
    assert not at.exception, at.exception
    days = at.selectbox(key="day").options
    assert days and all(duty.leader_name in d for d in days)  # only his own duty days
    submit(at, "完成本日接待（未签到的预约标记为未到，生成接待日记录）")
    at.run()
    assert not at.exception, at.exception
    activity_id = roster.get_day(demo_db, COMING).activity_id
    row = demo_db.execute(
        "SELECT cadre_id, system, content FROM activities WHERE id = ?", [activity_id]
    ).fetchone()
    assert row[:2] == (duty.leader_id, "接待日") and "无师生来访" in row[2]
    statuses = {
        r[0] for r in demo_db.execute("SELECT status FROM bookings WHERE date = ?", [COMING.isoformat()])
    }
    assert statuses <= {"no_show", "cancelled"}
    assert any(b.label == "下载《领导干部联系师生工作记录表》" for b in at.get("download_button"))
