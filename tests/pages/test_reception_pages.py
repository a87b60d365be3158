"""The reception pages through AppTest: booking, cancelling, the roster, and recording a reception."""

from __future__ import annotations

import datetime as dt

import pytest

from pages.common import answer_key
from portal import accounts, dates, reception
from portal.reception import confirmation, roster
from tests.conftest import errors_under, goto, login, texts

NEXT = "2026-12-02"
COMING = dt.date(2026, 11, 25)


def submit(at, label: str) -> None:
    next(b for b in at.button if b.label == label).click().run()


def _bookings_of(db, username: str) -> list:
    return reception.my_bookings(db, accounts.find_user(db, username))


def open_booking(username: str, day: str = NEXT):
    at = login(username)
    goto(at, "pages/reception_book.py").run()
    assert not at.exception, at.exception
    at.radio(key="day").set_value(day).run()
    assert not at.exception, at.exception
    return at


def fill(at, subject: str = "选课系统高峰期无法登录", category: str | None = "教学") -> None:
    if category is not None:
        at.selectbox(key="category").select(category)
    at.text_input(key="subject").input(subject)
    at.text_area(key="description").input("<b>不要</b>渲染成 HTML")
    at.text_input(key=f"phone_{NEXT}").input("13912345678")


def slot_button(at, slot: str):
    return at.button(key=f"slot_{slot}")


def on_day(db, username: str, day: str = NEXT) -> list:
    return [b for b in _bookings_of(db, username) if b.date.isoformat() == day and b.status != "cancelled"]


def test_a_student_books_from_the_slot_grid_and_sees_the_whole_confirmation(demo_db):
    at = open_booking("2023000002")
    grid = {b.key: b for b in at.button if (b.key or "").startswith("slot_")}
    taken = {s.slot for s in reception.slots(demo_db, dt.date.fromisoformat(NEXT)) if not s.free}
    assert taken and all(grid[f"slot_{t}"].disabled and "已满" in grid[f"slot_{t}"].label for t in taken)
    free = next(s.slot for s in reception.slots(demo_db, dt.date.fromisoformat(NEXT)) if s.free)
    # no silent default: a form sent without a category books nothing
    slot_button(at, free).click().run()
    assert slot_button(at, free).proto.type == "primary"  # the chosen slot stands out
    fill(at, category=None)
    submit(at, "提交预约")
    assert any("请选择反映事项类别" in e.value for e in at.error)
    assert at.selectbox(key="category").value is None and not on_day(demo_db, "2023000002")
    token = at.session_state[f"_form_token_booking_{NEXT}"]
    fill(at)
    submit(at, "提交预约")
    at.run()  # st.rerun
    assert not at.exception, at.exception
    made = on_day(demo_db, "2023000002")
    assert len(made) == 1 and made[0].slot == free and made[0].subject == "选课系统高峰期无法登录"
    shown = texts(at)
    # the confirmation is complete on screen (WeChat's browser often cannot download the .ics)
    assert f"预约编号 {made[0].code}" in shown and "2026年12月2日（星期三）" in shown
    for key, value in confirmation.confirmation(made[0]):
        assert f"{key}：{value}" in shown
    assert "139****5678" in shown and "13912345678" not in shown
    # the form and the grid give their place to the booking (its card says which slot is the user's)
    assert not any(f.key == "subject" for f in at.text_input)
    assert not any((b.key or "").startswith("slot_") for b in at.button)
    assert any(b.key == f"cancel_{made[0].id}" for b in at.button)
    # a resubmit of the same rendering books nothing more and gets the same booking back
    again = reception.book(
        demo_db,
        accounts.find_user(demo_db, "2023000002"),
        reception.BookingInput(
            date=made[0].date, slot=free, category="教学", subject="再约", phone="13912345678"
        ),
        token=token,
    )
    assert again.id == made[0].id and len(on_day(demo_db, "2023000002")) == 1


def test_a_slot_taken_between_render_and_submit_is_never_swapped(demo_db):
    """Two students want 08:30: the second is told, sees the grid refreshed, and nothing is booked elsewhere."""
    day = dt.date.fromisoformat(NEXT)
    free = [s.slot for s in reception.slots(demo_db, day) if s.free]
    wanted, other = free[0], free[1]
    at = open_booking("2023000002")
    slot_button(at, wanted).click().run()
    fill(at)
    rival = accounts.find_user(demo_db, "2023000003")
    reception.book(
        demo_db,
        rival,
        reception.BookingInput(
            date=day, slot=wanted, category="其他", subject="先到先得", phone="13800001111"
        ),
        now=dt.datetime(2026, 11, 24, 9, tzinfo=dates.TZ),
    )
    submit(at, "提交预约")
    assert not at.exception, at.exception
    assert on_day(demo_db, "2023000002") == []  # no booking at all, in particular not in another slot
    said = [e.value for e in at.error]
    assert len(said) == 1 and "已被他人约满，没有为您预约" in said[0] and "重新选择" in said[0]
    assert slot_button(at, wanted).disabled and "已满" in slot_button(at, wanted).label
    # what was typed is kept: pick another slot and send again
    assert at.text_input(key="subject").value == "选课系统高峰期无法登录"
    slot_button(at, other).click().run()
    submit(at, "提交预约")
    at.run()
    assert [b.slot for b in on_day(demo_db, "2023000002")] == [other]


def test_a_day_already_booked_shows_the_booking_and_cancels_after_confirmation(demo_db):
    username = "30000001"
    visitor = accounts.find_user(demo_db, username)
    day = dt.date.fromisoformat(NEXT)
    free = next(s.slot for s in reception.slots(demo_db, day) if s.free)
    held = reception.book(
        demo_db,
        visitor,
        reception.BookingInput(date=day, slot=free, category="其他", subject="校园班车", phone="13800001111"),
        now=dt.datetime(2026, 11, 24, 9, tzinfo=dates.TZ),
    )
    at = open_booking(username)
    shown = texts(at)
    assert held.code in shown and held.slot_label in shown  # code and slot instead of an empty form
    assert not any(f.key == "subject" for f in at.text_input)
    at.button(key=f"cancel_{held.id}").click().run()
    assert reception.get_booking(demo_db, visitor, held.id).status == "booked"  # asked first
    at.button(key=f"cancel_back_{held.id}").click().run()
    assert reception.get_booking(demo_db, visitor, held.id).status == "booked"
    at.button(key=f"cancel_{held.id}").click().run()
    at.text_input(key=f"cancel_reason_{held.id}").input("临时出差")
    at.button(key=f"cancel_confirm_{held.id}").click().run()
    said = [s.value for s in at.success]
    at.run()  # st.rerun, when AppTest has not followed it
    said += [s.value for s in at.success]
    assert not at.exception, at.exception
    gone = reception.get_booking(demo_db, visitor, held.id)
    assert gone.status == "cancelled" and gone.cancel_reason == "临时出差"
    assert "本人取消，原因：临时出差" in gone.cancel_note
    assert any(f"预约 {held.code} 已取消" in s for s in said)
    assert any(f.key == "subject" for f in at.text_input)  # the day is open again: the form is back


def test_my_bookings_are_cards_state_first_and_cancel_after_confirmation(demo_db):
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
    assert not at.dataframe  # no table to clip at phone width
    shown = texts(at)
    assert target.code in shown and target.status_label in shown
    at.button(key=f"cancel_{target.id}").click().run()
    assert reception.get_booking(demo_db, visitor, target.id).status == "booked"  # a dialog asks first
    at.text_input(key=f"cancel_reason_{target.id}").input("课程调整")
    at.button(key=f"cancel_confirm_{target.id}").click().run()
    at.run()  # st.rerun
    assert not at.exception
    gone = reception.get_booking(demo_db, visitor, target.id)
    assert gone.status == "cancelled" and gone.cancel_reason == "课程调整"
    shown = texts(at)
    assert "原因：课程调整" in shown and gone.status_label in shown


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
    full = demo_db.execute("SELECT phone FROM bookings WHERE id = ?", [waiting[0].id]).fetchone()[0]
    assert full not in list(listed["联系电话"])  # masked in the list
    assert waiting[0].phone_masked in list(listed["联系电话"])
    # what is typed for one visitor stays with that visitor: another one's form starts empty
    at.selectbox(key="visitor").select(waiting[1].id).run()
    at.text_area(key=f"answer_{waiting[1].id}").input("这是给另一位来访人的答复")
    at.selectbox(key="visitor").select(waiting[0].id).run()
    assert at.text_area(key=f"answer_{waiting[0].id}").value == ""
    at.radio(key=f"outcome_{waiting[0].id}").set_value("answered")
    at.text_area(key=f"answer_{waiting[0].id}").input("已当面说明，下周起增开窗口")
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
    shown = texts(at)
    mine = {b.code for b in _bookings_of(demo_db, "2023000001")}
    assert mine and all(f"预约编号：{code}" in shown for code in mine)
    others = {
        r[0]
        for r in demo_db.execute(
            "SELECT code FROM bookings WHERE user_id != ?", [accounts.find_user(demo_db, "2023000001").id]
        )
    }
    assert not any(f"预约编号：{code}" in shown for code in others)


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

    # restoring acts on the day chosen, never on a default: 恢复 with no choice restores nothing
    assert at.selectbox(key="restore_day").value is None
    next(b for b in at.button if b.label == "恢复").click().run()
    assert "请选择要恢复的接待日" in texts(at)
    assert roster.get_day(demo_db, dt.date.fromisoformat(NEXT)).cancelled
    at.selectbox(key="restore_day").select(NEXT)
    next(b for b in at.button if b.label == "恢复").click().run()
    assert not at.exception, at.exception
    assert not roster.get_day(demo_db, dt.date.fromisoformat(NEXT)).cancelled


def test_everyone_sees_the_roster_but_only_dangban_manages_it(demo_db):
    at = login("2023000001")
    goto(at, "pages/reception_roster.py").run()
    assert not at.exception
    assert "2026年11月25日（星期三）" in set(at.dataframe[0].value["日期"])
    assert list(at.dataframe[0].value.columns)[:3] == ["日期", "值班校领导", "状态"]  # a phone shows these
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
    assert not at.exception
    shown = texts(at)
    seen = reception.get_booking(demo_db, accounts.find_user(demo_db, username), booking_id)
    assert f"办理编号 {number}：{seen.cases[0].state_label}" in shown
    assert f"答复：{seen.cases[0].answer}" in shown


def finish_the_day(at) -> str:
    """完成本日接待 → the dialog says what will happen → 确认完成; returns what the dialog said."""
    at.button(key="finish").click().run()
    assert not at.exception, at.exception
    said = texts(at)
    at.button(key="finish_confirm").click().run()
    at.run()  # st.rerun
    assert not at.exception, at.exception
    return said


def test_the_leader_on_duty_runs_his_day_and_closes_it(demo_db, monkeypatch):
    monkeypatch.setenv("PORTAL_TODAY", "2026-11-25T18:00")
    duty = roster.get_day(demo_db, COMING)
    at = login(duty.leader_staff_no)
    goto(at, "pages/reception_day.py").run()
    assert not at.exception, at.exception
    days = at.selectbox(key="day").options
    assert days and all(duty.leader_name in d for d in days)  # only his own duty days
    finish_the_day(at)
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


def test_finishing_at_1145_asks_first_and_leaves_the_afternoon_waiting(demo_db, monkeypatch):
    monkeypatch.setenv("PORTAL_TODAY", "2026-11-25T11:45")
    dangban = accounts.find_user(demo_db, "dangban")
    waiting = [b for b in reception.day_list(demo_db, dangban, COMING) if b.status == "booked"]
    afternoon = [b for b in waiting if b.slot > "12:00"]
    at = login("dangban")
    goto(at, "pages/reception_day.py").run()
    at.button(key="finish").click().run()
    # nothing happened yet: the dialog says what will
    assert all(
        b.status == "booked"
        for b in reception.day_list(demo_db, dangban, COMING)
        if b.id in {w.id for w in waiting}
    )
    said = texts(at)
    assert f"时段尚未结束的 {len(afternoon)} 个预约保持不变" in said and "标记为“未到”" in said
    at.button(key="finish_back").click().run()
    assert all(
        b.status == "booked"
        for b in reception.day_list(demo_db, dangban, COMING)
        if b.id in {w.id for w in waiting}
    )
    finish_the_day(at)
    after = {b.id: b for b in reception.day_list(demo_db, dangban, COMING)}
    assert all(after[b.id].status_label == "待接待" for b in afternoon)
    assert all(after[b.id].status == "no_show" for b in waiting if b.slot < "12:00")
    assert roster.get_day(demo_db, COMING).activity_id is not None


def test_the_holiday_calendar_warning_goes_to_admins_only(demo_db):
    """接待日安排 over a year whose holidays are not loaded (2027): the admin is told to load it,
    党办/校办 what it means for the roster, students and staff nothing."""

    def roster_page(username: str) -> str:
        at = login(username)
        goto(at, "pages/reception_roster.py").run()
        at.date_input(key="to").set_value(dt.date(2027, 3, 31)).run()
        assert not at.exception, at.exception
        return "\n".join(w.value for w in at.warning)

    for visitor in ("2023000001", "30000001"):
        shown = roster_page(visitor)
        assert "请管理员" not in shown and "calendar load" not in shown and "2027" not in shown
    manager = roster_page("dangban")
    assert "2027 年的法定节假日安排尚未导入" in manager and "请管理员" not in manager
    admin = roster_page("admin")
    assert "请管理员" in admin and "portal calendar load" in admin


def test_no_show_waits_for_the_end_of_the_slot(demo_db, monkeypatch):
    monkeypatch.setenv("PORTAL_TODAY", "2026-11-25T11:45")
    dangban = accounts.find_user(demo_db, "dangban")
    waiting = [b for b in reception.day_list(demo_db, dangban, COMING) if b.status == "booked"]
    morning, afternoon = waiting[0], next(b for b in waiting if b.slot > "12:00")
    at = login("dangban")
    goto(at, "pages/reception_day.py").run()
    at.selectbox(key="visitor").select(afternoon.id).run()
    assert at.button(key=f"noshow_{afternoon.id}").disabled  # the slot is still to come
    at.selectbox(key="visitor").select(morning.id).run()
    at.button(key=f"noshow_{morning.id}").click().run()
    at.run()
    assert not at.exception, at.exception
    assert reception.get_booking(demo_db, dangban, morning.id).status == "no_show"


def test_dangban_cancels_a_visit_on_the_day_with_a_reason_everyone_sees(demo_db, monkeypatch):
    monkeypatch.setenv("PORTAL_TODAY", "2026-11-25T11:45")
    dangban = accounts.find_user(demo_db, "dangban")
    later = next(
        b for b in reception.day_list(demo_db, dangban, COMING) if b.status == "booked" and b.slot > "12:00"
    )
    at = login("dangban")
    goto(at, "pages/reception_day.py").run()
    at.selectbox(key="visitor").select(later.id).run()
    at.button(key=f"cancel_{later.id}").click().run()
    assert reception.get_booking(demo_db, dangban, later.id).status == "booked"  # asked first
    at.text_input(key=f"cancel_reason_{later.id}").input("来访人来电改期")
    at.button(key=f"cancel_confirm_{later.id}").click().run()
    at.run()
    assert not at.exception, at.exception
    gone = reception.get_booking(demo_db, dangban, later.id)
    assert gone.status == "cancelled" and "接待日管理人员取消，原因：来访人来电改期" in gone.cancel_note
    assert gone.cancel_note in list(at.dataframe[0].value["备注"])
    visitor = accounts.get_user(demo_db, later.user_id)
    at = login(visitor.username)
    goto(at, "pages/my_bookings.py").run()
    assert "原因：来访人来电改期" in texts(at)


def test_the_confirmation_stays_until_the_user_moves_on(demo_db):
    """预约成功 is said on every run of the booked day, not once: a second tap on 提交预约 runs the
    page again, and a confirmation said once was gone before it was read (the browser test
    test_a_second_tap_at_any_moment_keeps_the_day_and_the_confirmation taps at four moments).
    Choosing another day, or coming back to the page later, ends it."""
    at = open_booking("2023000002")
    free = next(s.slot for s in reception.slots(demo_db, dt.date.fromisoformat(NEXT)) if s.free)
    slot_button(at, free).click().run()
    fill(at)
    submit(at, "提交预约")
    assert not at.exception, at.exception
    code = on_day(demo_db, "2023000002")[0].code
    said = f"预约成功，预约编号 {code}"
    assert said in texts(at)
    at.run()  # what a second tap that finds no form left does
    assert said in texts(at) and at.radio(key="day").value == NEXT
    assert "已预约" in at.radio(key="day").proto.captions[at.radio(key="day").index]
    at.radio(key="day").set_value(COMING.isoformat()).run()
    at.radio(key="day").set_value(NEXT).run()
    assert "预约成功" not in texts(at) and "您在该接待日的预约" in texts(at)
    goto(at, "pages/my_bookings.py").run()
    goto(at, "pages/reception_book.py").run()
    at.radio(key="day").set_value(NEXT).run()
    assert "预约成功" not in texts(at)


def test_a_cancelled_booking_leaves_upcoming_after_the_cancel_and_after_a_reload(demo_db):
    """即将到来 lists only what will happen: a booking cancelled by its holder goes under its own
    heading at once and on every later visit, never counted as coming."""
    username = "30000002"
    visitor = accounts.find_user(demo_db, username)
    now = dt.datetime(2026, 11, 24, 10, tzinfo=dates.TZ)
    day = dt.date.fromisoformat(NEXT)
    free = [x.slot for x in reception.slots(demo_db, day) if x.free]
    kept = reception.book(
        demo_db,
        visitor,
        reception.BookingInput(
            date=COMING,
            slot=next(x.slot for x in reception.slots(demo_db, COMING) if x.free),
            category="其他",
            subject="图书馆座位",
            phone="13800001111",
        ),
        now=now,
    )
    target = reception.book(
        demo_db,
        visitor,
        reception.BookingInput(
            date=day, slot=free[0], category="其他", subject="校园班车", phone="13800001111"
        ),
        now=now,
    )
    at = login(username)
    goto(at, "pages/my_bookings.py").run()
    at.button(key=f"cancel_{target.id}").click().run()
    at.button(key=f"cancel_confirm_{target.id}").click().run()
    at.run()  # st.rerun
    assert not at.exception, at.exception
    for page in (at, goto(login(username), "pages/my_bookings.py").run()):  # after the cancel, after a reload
        headings = [h.value for h in page.subheader]
        assert "即将到来（1）" in headings, headings
        folds = page.get("expander")  # the cancelled and the past bookings, each under its heading
        labels = [e.label for e in folds]
        assert any(label.startswith("已取消（1）") for label in labels), labels
        cancelled = next(e for e in folds if e.label.startswith("已取消"))
        inside = "\n".join(m.value for m in cancelled.text)
        assert target.code in inside and kept.code not in inside


def test_every_problem_of_the_booking_form_shows_at_once_beside_its_field(demo_db):
    """No slot, no category, no subject and a wrong telephone number: said all at once, each under its
    field, and the booking form keeps what was typed."""
    at = open_booking("2023000002")
    fill(at, subject="", category=None)
    at.text_input(key=f"phone_{NEXT}").input("1391234567")
    submit(at, "提交预约")
    assert not at.exception, at.exception
    assert not on_day(demo_db, "2023000002")
    assert errors_under(at, "category") and "请选择反映事项类别" in errors_under(at, "category")[0]
    assert errors_under(at, "subject") == ["反映事项不能为空"]
    assert errors_under(at, f"phone_{NEXT}") and "联系电话" in errors_under(at, f"phone_{NEXT}")[0]
    assert errors_under(at, "description") == []
    assert "有 4 处需要修改" in texts(at) and "请选择一个时段" in texts(at)
    assert at.text_input(key=f"phone_{NEXT}").value == "1391234567"


def _visitor_box(at) -> str:
    return "\n".join(t.value for t in at.text if "联系电话：" in t.value)


@pytest.mark.parametrize(
    "who, on, sees_full",
    [
        ("dangban", "2026-11-25T09:00", True),
        ("admin", "2026-11-25T09:00", False),
        ("dangban", "2026-12-02T09:00", False),
    ],
)
def test_the_full_number_shows_only_to_the_reception_staff_on_the_day(
    demo_db, monkeypatch, who, on, sees_full
):
    """党办 on the day may have to call a visitor: the number shows whole in the visitor's box; an
    administrator, or 党办 looking back at a past day, sees it masked, with a word why."""
    monkeypatch.setenv("PORTAL_TODAY", on)
    waiting = [
        b
        for b in reception.day_list(demo_db, accounts.find_user(demo_db, "dangban"), COMING)
        if b.status == "booked"
    ]
    full = demo_db.execute("SELECT phone FROM bookings WHERE id = ?", [waiting[0].id]).fetchone()[0]
    at = login(who)
    goto(at, "pages/reception_day.py").run()
    if at.selectbox(key="day").value != COMING.isoformat():
        at.selectbox(key="day").select(COMING.isoformat()).run()
    assert not at.exception, at.exception
    at.selectbox(key="visitor").select(waiting[0].id).run()
    box = _visitor_box(at)
    assert waiting[0].code in box
    if sees_full:
        assert f"联系电话：{full}" in box
    else:
        assert full not in texts(at) and f"联系电话：{waiting[0].phone_masked}" in box
        assert "完整的联系电话只在接待日当天" in texts(at)
