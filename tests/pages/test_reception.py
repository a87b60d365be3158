"""Reception day: the roster, slots and the cut-off, booking and cancelling, the day, and no double booking."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from click.testing import CliRunner

from portal import accounts, activity_recording, cases, dates, overview, reception, workdays
from portal.cli import cli
from portal.errors import Conflict, NotFound, PermissionDenied, SeatTaken, ValidationError
from portal.reception import bookings, confirmation, ical, roster
from portal.reception import day as reception_day
from tests.conftest import goto, login

TZ = dates.TZ
NEXT = dt.date(2026, 12, 2)  # the Wednesday after the coming one: open all of 24 Nov
COMING = dt.date(2026, 11, 25)


def at(day: str, hhmm: str = "10:00") -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{hhmm}:00").replace(tzinfo=TZ)


def user(db, username: str) -> accounts.User:
    found = accounts.find_user(db, username)
    assert found is not None, username
    return found


def fresh_visitors(db, day: dt.date, n: int) -> list[accounts.User]:
    """Students with no booking on ``day``."""
    rows = db.execute(
        "SELECT u.username FROM users u JOIN people p ON p.id = u.person_id WHERE p.kind = '学生' "
        "AND u.id NOT IN (SELECT user_id FROM bookings WHERE date = ?) ORDER BY u.username LIMIT ?",
        [day.isoformat(), n],
    ).fetchall()
    assert len(rows) == n
    return [user(db, r[0]) for r in rows]


def free_slot(db, day: dt.date) -> str:
    return next(s.slot for s in reception.slots(db, day) if s.taken == 0)


def form(day=NEXT, slot="08:30", **extra) -> bookings.BookingInput:
    values = dict(date=day, slot=slot, category="后勤保障", subject="宿舍热水供应时间短", phone="13812341234")
    return bookings.BookingInput(**{**values, **extra})


# --- the roster ------------------------------------------------------------------------------


def test_roster_around_national_day(demo_db):
    days = {d.date: d for d in roster.list_roster(demo_db, dt.date(2026, 9, 1), dt.date(2027, 1, 31))}
    assert dt.date(2026, 9, 30) in days  # the Wednesday before the break is a working day
    assert dt.date(2026, 10, 7) not in days  # inside the National Day break: no reception
    assert all(d.weekday() == 2 for d in days)
    # planning the span again keeps what is there and says why 7 October has no reception
    result = roster.plan(demo_db, dt.date(2026, 9, 28), dt.date(2026, 10, 14), None)
    assert result.created == []
    assert (dt.date(2026, 10, 7), "非工作日（国庆节）") in result.skipped
    out = CliRunner().invoke(cli, ["reception", "roster", "--from", "2026-09-28", "--to", "2026-10-14"])
    assert out.exit_code == 0, out.output
    lines = out.output.strip().splitlines()
    assert [line.split("\t")[0] for line in lines] == ["2026-09-30", "2026-10-14"]
    sept30 = days[dt.date(2026, 9, 30)]
    assert lines[0] == f"2026-09-30\t{sept30.leader_staff_no}\t{sept30.leader_name}"
    as_json = CliRunner().invoke(
        cli, ["reception", "roster", "--from", "2026-09-28", "--to", "2026-10-14", "--json"]
    )
    assert [r["date"] for r in json.loads(as_json.output)] == ["2026-09-30", "2026-10-14"]


def test_rotation_is_even_and_follows_the_configured_order(demo_db):
    leaders = roster.school_leaders(demo_db, dt.date(2027, 3, 3))
    order = [x.staff_no for x in reversed(leaders)]
    tpl = reception.load_template(demo_db).model_copy(update={"rotation": order})
    reception.save_template(demo_db, tpl)
    result = roster.plan_semester(demo_db, "2026-2027-2", None)
    assert result.warnings  # 2027's holidays are not loaded yet: said, not hidden
    staff_nos = [d.leader_staff_no for d in result.created]
    assert staff_nos[: len(order)] == order
    counts = [staff_nos.count(s) for s in order]
    assert max(counts) - min(counts) <= 1


def test_swap_substitute_and_history(demo_db):
    dangban = user(demo_db, "dangban")
    a, b = roster.get_day(demo_db, dt.date(2026, 12, 9)), roster.get_day(demo_db, dt.date(2026, 12, 16))
    roster.swap(demo_db, a.date, b.date, dangban, "工作调整")
    assert roster.get_day(demo_db, a.date).leader_id == b.leader_id
    assert roster.get_day(demo_db, b.date).leader_id == a.leader_id
    other = next(
        x for x in roster.school_leaders(demo_db, a.date) if x.person_id not in (a.leader_id, b.leader_id)
    )
    roster.substitute(demo_db, a.date, other.person_id, dangban, "出差")
    history = roster.changes(demo_db, day=a.date)
    assert [c.action for c in history] == ["plan", "swap", "substitute"]
    assert history[-1].new_leader == other.name and history[-1].note == "出差"
    with pytest.raises(ValidationError):  # a day gone by stays as it was
        roster.substitute(demo_db, dt.date(2026, 11, 18), other.person_id, dangban)
    with pytest.raises(PermissionDenied):
        roster.swap(demo_db, a.date, b.date, user(demo_db, "2023000001"))


def test_leader_ics(demo_db):
    leader = roster.get_day(demo_db, NEXT)
    data = roster.leader_ics(demo_db, leader.leader_id).decode("utf-8")
    assert data.startswith("BEGIN:VCALENDAR\r\n") and data.endswith("END:VCALENDAR\r\n")
    assert "DTSTART:20261202T003000Z" in data  # 08:30 in Beijing
    assert all(len(line.encode()) <= 75 for line in data.split("\r\n"))
    assert ical.escape("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"


# --- slots, the window and the cut-off -------------------------------------------------------


def test_template_slots_and_validation(demo_db):
    tpl = reception.load_template(demo_db)
    assert tpl.slots[:2] == ["08:30", "09:00"] and tpl.slots[-1] == "17:00" and len(tpl.slots) == 12
    assert "11:30" not in tpl.slots
    with pytest.raises(ValidationError):
        reception.save_template(demo_db, {**tpl.model_dump(), "sessions": [("11:30", "08:30")]})
    with pytest.raises(ValidationError, match="不是校领导"):
        reception.save_template(demo_db, {**tpl.model_dump(), "rotation": ["2023000001"]})
    assert reception.load_template(demo_db) == tpl


def test_cut_off_is_the_tuesday_before_at_five(demo_db):
    a, b = fresh_visitors(demo_db, NEXT, 2)
    assert bookings.window(demo_db, NEXT).closes == at("2026-12-01", "17:00")
    made = reception.book(demo_db, a, form(slot=free_slot(demo_db, NEXT)), now=at("2026-12-01", "16:59"))
    assert made.status == "booked"
    with pytest.raises(ValidationError, match="截止"):
        reception.book(demo_db, b, form(slot=free_slot(demo_db, NEXT)), now=at("2026-12-01", "17:00"))
    with pytest.raises(ValidationError, match="取消截止"):
        reception.cancel(demo_db, a, made.id, now=at("2026-12-01", "17:30"))
    with pytest.raises(ValidationError, match="尚未开放"):
        reception.book(demo_db, b, form(day=dt.date(2026, 12, 16)), now=at("2026-11-24"))


def test_a_holiday_wednesday_has_no_slots(demo_db):
    assert reception.slots(demo_db, dt.date(2026, 10, 7)) == []
    workdays.set_override(demo_db, NEXT, False, "校运动会")
    assert reception.slots(demo_db, NEXT) == []
    with pytest.raises(ValidationError, match="不是工作日"):
        reception.book(demo_db, fresh_visitors(demo_db, NEXT, 1)[0], form(), now=at("2026-11-24"))


# --- booking and cancelling ------------------------------------------------------------------


def test_book_confirm_and_cancel_frees_the_seat(demo_db):
    a, b = fresh_visitors(demo_db, NEXT, 2)
    slot = free_slot(demo_db, NEXT)
    made = reception.book(demo_db, a, form(slot=slot, group_size=3), now=at("2026-11-24"))
    assert len(made.code) == 6 and made.place and made.leader_name
    fields = dict(confirmation.confirmation(made))
    assert (
        fields["日期"] == "2026年12月2日（星期三）"
        and fields["时间"] == f"{slot}–{bookings.load_template(demo_db).slot_end(slot)}"
    )
    assert fields["联系电话"] == "138****1234"
    assert "BEGIN:VEVENT" in reception.booking_ics(demo_db, a, made.id).decode()
    with pytest.raises(SeatTaken, match="约满"):  # a type the page tells apart (asks for another slot)
        reception.book(demo_db, b, form(slot=slot), now=at("2026-11-24"))
    with pytest.raises(Conflict, match="每人每天限预约一次") as other:
        reception.book(demo_db, a, form(slot=free_slot(demo_db, NEXT)), now=at("2026-11-24"))
    assert not isinstance(other.value, SeatTaken)
    cancelled = reception.cancel(demo_db, a, made.id, now=at("2026-11-30"), reason="临时出差\n下周再约")
    assert cancelled.status_label == "已取消"
    # the optional reason is recorded with who cancelled, and shown
    assert cancelled.cancel_reason == "临时出差 下周再约" and cancelled.cancelled_by == a.id
    assert cancelled.cancel_note.endswith("本人取消，原因：临时出差 下周再约")
    assert reception.book(demo_db, b, form(slot=slot), now=at("2026-11-30")).status == "booked"
    assert (
        reception.book(demo_db, a, form(slot=free_slot(demo_db, NEXT)), now=at("2026-11-30")).status
        == "booked"
    )


def test_the_same_form_rendering_books_once_and_never_another_slot(demo_db):
    a = fresh_visitors(demo_db, NEXT, 1)[0]
    slot = free_slot(demo_db, NEXT)
    first = reception.book(demo_db, a, form(slot=slot), now=at("2026-11-24"), token="render-1")
    again = reception.book(demo_db, a, form(slot=slot), now=at("2026-11-24"), token="render-1")
    assert again.id == first.id
    assert len([b for b in reception.my_bookings(demo_db, a) if b.date == NEXT]) == 1
    # a slot taken is refused, never swapped for a free one
    b = fresh_visitors(demo_db, NEXT, 1)[0]
    with pytest.raises(Conflict, match="约满"):
        reception.book(demo_db, b, form(slot=slot), now=at("2026-11-24"), token="render-2")
    assert [x for x in reception.my_bookings(demo_db, b) if x.date == NEXT] == []
    assert [s.state for s in reception.slots(demo_db, NEXT, a) if s.slot == slot] == ["mine"]
    assert [s.state for s in reception.slots(demo_db, NEXT, b) if s.slot == slot] == ["full"]


def test_bad_input_is_refused_and_nothing_written(demo_db):
    a = fresh_visitors(demo_db, NEXT, 1)[0]
    before = demo_db.execute("SELECT count(*) FROM bookings").fetchone()[0]
    for bad in (
        form(category="闲聊"),
        form(subject="  "),
        form(phone="12"),
        form(group_size=4),
        form(slot="12:00"),
        form(day=dt.date(2026, 12, 3)),
    ):
        with pytest.raises((ValidationError, NotFound)):
            reception.book(demo_db, a, bad, now=at("2026-11-24"))
    assert demo_db.execute("SELECT count(*) FROM bookings").fetchone()[0] == before


def test_a_day_cancelled_after_booking(demo_db):
    a = fresh_visitors(demo_db, NEXT, 1)[0]
    made = reception.book(demo_db, a, form(slot=free_slot(demo_db, NEXT)), now=at("2026-11-23", "09:00"))
    n = roster.cancel_day(demo_db, NEXT, user(demo_db, "xiaoban"), "校领导集体外出调研")
    assert n >= 1
    seen = next(b for b in reception.my_bookings(demo_db, a) if b.id == made.id)
    assert seen.status_label == "已取消" and seen.day_status == "cancelled"
    assert any("接待日已取消" in x and "校领导集体外出调研" in x for x in seen.notices)
    assert "接待日管理人员取消" in seen.cancel_note and "校领导集体外出调研" in seen.cancel_note
    assert reception.slots(demo_db, NEXT) == []
    with pytest.raises(ValidationError, match="已取消"):
        reception.book(demo_db, a, form(), now=at("2026-11-24"))


def test_a_leader_change_shows_on_the_booking(demo_db):
    a = fresh_visitors(demo_db, COMING, 1)[0]
    booked = [b for b in reception.my_bookings(demo_db, user(demo_db, "2023000001")) if b.date == COMING]
    assert booked and booked[0].notices == []
    old = roster.get_day(demo_db, COMING)
    other = next(x for x in roster.school_leaders(demo_db, COMING) if x.person_id != old.leader_id)
    roster.substitute(demo_db, COMING, other.person_id, user(demo_db, "dangban"), "出差")
    seen = reception.get_booking(demo_db, user(demo_db, "2023000001"), booked[0].id)
    assert seen.leader_name == other.name
    assert seen.notices == [
        f"2026年11月25日（星期三）值班校领导由 {old.leader_name} 改为 {other.name}（出差）"
    ]
    assert a  # a student with no booking that day sees nothing of it
    assert all(b.date != COMING for b in reception.my_bookings(demo_db, a))


# --- who sees what ---------------------------------------------------------------------------


def test_permission_boundaries(demo_db):
    student, staff = user(demo_db, "2023000001"), user(demo_db, "30000001")
    theirs = reception.my_bookings(demo_db, staff)
    assert theirs and all(b.user_id == staff.id for b in theirs)
    assert all(b.user_id == student.id for b in reception.my_bookings(demo_db, student))
    # a student cannot see another's booking, cancel it, nor see the day's list
    with pytest.raises(NotFound):
        reception.get_booking(demo_db, student, theirs[0].id)
    with pytest.raises(NotFound):
        reception.cancel(demo_db, student, theirs[0].id, now=at("2026-11-20"))
    with pytest.raises(PermissionDenied):
        reception.day_list(demo_db, student, COMING)
    with pytest.raises(PermissionDenied):
        reception.day_list(demo_db, user(demo_db, "jiaowu"), COMING)
    # the leader on duty sees his day, another school leader does not; 党办 sees every day
    leader_id = roster.get_day(demo_db, COMING).leader_id
    leader = user(
        demo_db, next(x.staff_no for x in roster.school_leaders(demo_db, COMING) if x.person_id == leader_id)
    )
    another = user(
        demo_db, next(x.staff_no for x in roster.school_leaders(demo_db, COMING) if x.person_id != leader_id)
    )
    listed = reception.day_list(demo_db, leader, COMING)
    assert listed and listed == reception.day_list(demo_db, user(demo_db, "dangban"), COMING)
    with pytest.raises(PermissionDenied):
        reception.day_list(demo_db, another, COMING)
    full = dict(demo_db.execute("SELECT id, phone FROM bookings").fetchall())
    assert all(b.phone.count("*") == 4 and b.phone == b.phone_masked != full[b.id] for b in listed)
    with pytest.raises(ValidationError, match="值班校领导"):
        reception.book(demo_db, leader, form(day=COMING), now=at("2026-11-23"))


# --- the day itself ---------------------------------------------------------------------------


def test_recording_the_day_makes_the_leaders_activity(demo_db, monkeypatch):
    monkeypatch.setenv("PORTAL_TODAY", "2026-11-25T18:00")  # every slot is over
    dangban = user(demo_db, "dangban")
    items = [b for b in reception.day_list(demo_db, dangban, COMING) if b.status == "booked"]
    first, second = items[0], items[1]
    reception.check_in(demo_db, dangban, first.id)
    done = reception.record_reception(
        demo_db, dangban, first.id, reception.ReceptionRecord(outcome="answered", answer="已当面说明报销流程")
    )
    assert done.status_label == "已接待" and done.outcome_label == "当场答复"
    with pytest.raises(ValidationError):
        reception.record_reception(demo_db, dangban, second.id, reception.ReceptionRecord(outcome="answered"))
    reception.mark_no_show(demo_db, dangban, second.id)
    activity_id = reception.finish_day(demo_db, dangban, COMING)
    row = demo_db.execute(
        "SELECT cadre_id, system, subtype, date, counterpart_text, content, source FROM activities WHERE id = ?",
        [activity_id],
    ).fetchone()
    assert row[:4] == (roster.get_day(demo_db, COMING).leader_id, "接待日", "接待", "2026-11-25")
    assert first.visitor_name in row[4] and "已当面说明报销流程" in row[5] and row[6] == "reception"
    statuses = {b.status for b in reception.day_list(demo_db, dangban, COMING)}
    assert "booked" not in statuses  # everyone not checked in became 未到
    seen = reception.get_booking(demo_db, accounts.get_user(demo_db, first.user_id), first.id)
    assert seen.answer == "已当面说明报销流程"


def test_finishing_the_day_at_1145_leaves_the_afternoon_receivable(demo_db, monkeypatch):
    monkeypatch.setenv("PORTAL_TODAY", "2026-11-25T11:45")
    dangban = user(demo_db, "dangban")
    waiting = [b for b in reception.day_list(demo_db, dangban, COMING) if b.status == "booked"]
    morning = [b for b in waiting if b.slot < "12:00"]
    afternoon = [b for b in waiting if b.slot > "12:00"]
    assert morning and afternoon
    plan = reception_day.finish_plan(demo_db, dangban, COMING)
    assert {b.id for b in plan.absent} == {b.id for b in morning}
    assert {b.id for b in plan.later} == {b.id for b in afternoon}
    told = "\n".join(plan.describe())
    assert f"{len(morning)} 个预约标记为“未到”" in told and f"{len(afternoon)} 个预约保持不变" in told
    with pytest.raises(ValidationError, match="尚未结束"):
        reception.mark_no_show(demo_db, dangban, afternoon[0].id)
    reception.finish_day(demo_db, dangban, COMING)
    after = {b.id: b for b in reception.day_list(demo_db, dangban, COMING)}
    assert all(after[b.id].status == "no_show" for b in morning)
    assert all(after[b.id].status_label == "待接待" for b in afternoon)
    # the afternoon is still received as usual, and finishing again at the end of the day closes it
    reception.check_in(demo_db, dangban, afternoon[0].id)
    reception.record_reception(
        demo_db, dangban, afternoon[0].id, reception.ReceptionRecord(outcome="answered", answer="已答复")
    )
    reception.finish_day(demo_db, dangban, COMING, now=dt.datetime(2026, 11, 25, 17, 30, tzinfo=dates.TZ))
    statuses = {b.id: b.status for b in reception.day_list(demo_db, dangban, COMING)}
    assert statuses[afternoon[0].id] == "received"
    assert all(statuses[b.id] == "no_show" for b in afternoon[1:])


def test_nothing_is_recorded_before_the_day(demo_db):
    dangban = user(demo_db, "dangban")
    b = reception.day_list(demo_db, dangban, COMING)[0]
    with pytest.raises(ValidationError, match="还没到"):
        reception.check_in(demo_db, dangban, b.id)


def test_a_hand_over_opens_a_case_due_in_five_working_days(demo_db, monkeypatch):
    pytest.importorskip("portal.cases")
    monkeypatch.setenv("PORTAL_TODAY", "2026-11-25")
    dangban = user(demo_db, "dangban")
    first, b = [x for x in reception.day_list(demo_db, dangban, COMING) if x.status == "booked"][:2]
    # answered first: the day's activity exists without opinions, then a hand-over adds one
    reception.record_reception(
        demo_db, dangban, first.id, reception.ReceptionRecord(outcome="answered", answer="当面答复")
    )
    reception.record_reception(
        demo_db,
        dangban,
        b.id,
        reception.ReceptionRecord(outcome="handed", answer="已说明情况", department="校办"),
    )
    cases = demo_db.execute(
        "SELECT source, responsible_dept, due_date, raised_by, system FROM cases WHERE booking_id = ?", [b.id]
    ).fetchall()
    assert cases == [("reception", "校办", "2026-12-02", b.user_id, "接待日")]
    seen = reception.get_booking(demo_db, accounts.get_user(demo_db, b.user_id), b.id)
    assert [c.state_label for c in seen.cases] and seen.cases[0].due_date == NEXT
    day = roster.get_day(demo_db, COMING)
    opinions = demo_db.execute("SELECT opinions FROM activities WHERE id = ?", [day.activity_id]).fetchone()[
        0
    ]
    assert b.subject in opinions
    # exactly one case for the day: the visitor's, linked to the activity (never a second one without him)
    linked = demo_db.execute(
        "SELECT count(*), count(booking_id) FROM cases WHERE activity_id = ?", [day.activity_id]
    ).fetchone()
    assert linked == (1, 1)


def test_a_day_recorded_again_after_its_activity_was_voided_opens_no_case_twice(demo_db, monkeypatch):
    monkeypatch.setenv("PORTAL_TODAY", "2026-11-25")
    dangban = user(demo_db, "dangban")
    first, second = [x for x in reception.day_list(demo_db, dangban, COMING) if x.status == "booked"][:2]
    handed = reception.ReceptionRecord(outcome="handed", answer="已说明情况")
    reception.record_reception(demo_db, dangban, first.id, handed)
    voided = roster.get_day(demo_db, COMING).activity_id
    activity_recording.void_activity(demo_db, voided, "重新整理记录", accounts.find_user(demo_db, "admin"))
    reception.record_reception(demo_db, dangban, second.id, handed)
    fresh = roster.get_day(demo_db, COMING).activity_id
    assert fresh != voided
    per_booking = demo_db.execute(
        "SELECT booking_id, count(*) FROM cases WHERE booking_id IN (?, ?) GROUP BY booking_id",
        [first.id, second.id],
    ).fetchall()
    assert sorted(per_booking) == sorted([(first.id, 1), (second.id, 1)])
    opinions = demo_db.execute("SELECT opinions FROM activities WHERE id = ?", [fresh]).fetchone()[0]
    assert first.subject in opinions and second.subject in opinions


def test_a_visitors_case_follows_the_reception_recorded_again_after_a_void(demo_db, monkeypatch):
    monkeypatch.setenv("PORTAL_TODAY", "2026-11-25T18:00")
    dangban, admin = user(demo_db, "dangban"), user(demo_db, "admin")
    first, second = [x for x in reception.day_list(demo_db, dangban, COMING) if x.status == "booked"][:2]
    reception.record_reception(demo_db, dangban, first.id, reception.ReceptionRecord(outcome="handed"))
    voided = roster.get_day(demo_db, COMING).activity_id
    (case,) = cases.of_activity(demo_db, voided)
    activity_recording.void_activity(demo_db, voided, "重新整理记录", admin)
    assert "联系活动已作废" in cases.get_case(demo_db, case.id, dangban).alert

    reception.record_reception(
        demo_db, dangban, second.id, reception.ReceptionRecord(outcome="answered", answer="已答复")
    )
    fresh = roster.get_day(demo_db, COMING).activity_id
    assert fresh != voided
    moved = cases.get_case(demo_db, case.id, dangban)
    assert (moved.activity_id, moved.alert, moved.state) == (fresh, "", "registered")
    assert [c.id for c in cases.of_activity(demo_db, fresh)] == [case.id]
    assert cases.of_activity(demo_db, voided) == []
    last = cases.events(demo_db, case.id, dangban)[-1]
    assert last.action_label == "关联新的联系活动记录"
    assert f"#{voided}" in last.note and f"#{fresh}" in last.note and "提醒已解除" in last.note
    assert not any("需核实" in r.text for r in overview.reminders(demo_db, dangban))

    # the new record voided in turn: the department is told again, and the case follows a third one
    activity_recording.void_activity(demo_db, fresh, "日期填错", admin)
    assert "日期填错" in cases.get_case(demo_db, case.id, dangban).alert
    third = reception.finish_day(demo_db, dangban, COMING)
    assert cases.get_case(demo_db, case.id, dangban).activity_id == third
    assert demo_db.execute("SELECT count(*) FROM cases WHERE booking_id = ?", [first.id]).fetchone()[0] == 1

    # 党办 sees the case with no pending flag, its history telling the story
    at_ = login("dangban")
    goto(at_, "pages/cases.py").run()
    at_.selectbox(key="c_case").set_value(case.id).run()
    assert not at_.exception, at_.exception
    (history,) = [d.value for d in at_.dataframe if "操作" in d.value.columns]
    assert list(history["操作"])[-1] == "关联新的联系活动记录"
    assert not any(b.key == f"ack_{case.id}" for b in at_.button)


# --- no double booking, ever -------------------------------------------------------------------


def test_the_unique_indexes_hold_even_without_the_check(demo_db):
    """The second line: a raw insert into a taken seat fails, and book() turns that into a Conflict."""
    import sqlite3

    b = reception.day_list(demo_db, user(demo_db, "dangban"), COMING)[0]
    with pytest.raises(sqlite3.IntegrityError):
        demo_db.execute(
            "INSERT INTO bookings (code, date, slot, seat, user_id, category, subject, phone, created_at) "
            "VALUES ('ZZZZZZ', ?, ?, ?, ?, '其他', 'x', '1', 'now')",
            [b.date.isoformat(), b.slot, b.seat, user(demo_db, "30000002").id],
        )
    assert isinstance(
        bookings._translate(
            sqlite3.IntegrityError("UNIQUE constraint failed: bookings.date, bookings.slot, bookings.seat")
        ),
        Conflict,
    )
    assert (
        bookings._translate(
            sqlite3.IntegrityError("UNIQUE constraint failed: bookings.user_id, bookings.date")
        ).message
        == bookings.ONE_PER_DAY
    )


def test_cli_plans_a_semester_and_warns_of_unloaded_years(demo_db):
    out = CliRunner().invoke(cli, ["reception", "plan", "--semester", "2026-2027-2"])
    assert out.exit_code == 0, out.output
    assert "2027 年" in out.stderr and "尚未导入" in out.stderr
    lines = out.stdout.strip().splitlines()
    assert lines[-1].startswith("新排 ") and lines[0].split("\t")[0] == "2027-03-03"
    again = CliRunner().invoke(cli, ["reception", "plan", "--semester", "2026-2027-2"])
    assert again.stdout.strip().splitlines()[-1].startswith("新排 0 天")
    leader = lines[0].split("\t")[1]
    ics = CliRunner().invoke(cli, ["reception", "ics", leader])
    assert "DTSTART:20270303T003000Z" in ics.stdout


def test_a_change_of_place_shows_on_the_booking(demo_db):
    a = fresh_visitors(demo_db, NEXT, 1)[0]
    made = reception.book(demo_db, a, form(slot=free_slot(demo_db, NEXT)), now=at("2026-11-23"))
    roster.change_place(demo_db, NEXT, "图书馆三楼报告厅", user(demo_db, "dangban"))
    seen = reception.get_booking(demo_db, a, made.id)
    assert seen.place == "图书馆三楼报告厅"
    place_notice = "2026年12月2日（星期三）接待地点已更改（行政办公楼一楼校领导接待室 → 图书馆三楼报告厅）"
    assert seen.notices[-1] == place_notice


def test_a_booking_is_refused_with_every_problem_named_by_its_field(demo_db):
    visitor = accounts.find_user(demo_db, "30000001")
    data = reception.BookingInput(
        date=dt.date(2026, 12, 2), slot="", category="", subject=" ", phone="12ab", group_size=9
    )
    with pytest.raises(ValidationError) as refused:
        reception.book(demo_db, visitor, data, now=dt.datetime(2026, 11, 24, 10, tzinfo=dates.TZ))
    assert [p.field for p in refused.value.problems] == ["slot", "category", "subject", "phone", "group_size"]
    assert "请选择一个时段" in refused.value.message and "联系电话" in refused.value.message
    assert not reception.my_bookings(demo_db, visitor, include_cancelled=False) or all(
        b.date != dt.date(2026, 12, 2) for b in reception.my_bookings(demo_db, visitor)
    )
