"""The no-show rule (未到): applied when a day is completed, shown with why and until when, lifted by
党办/校办 with a reason (audited) or by a corrected 未到; a cancellation never counts."""

from __future__ import annotations

import datetime as dt

import pytest

from portal import accounts, audit, reception
from portal.errors import PermissionDenied, ValidationError
from portal.reception import bans, bookings, waitlist
from portal.reception import day as reception_day
from tests.core.test_waitlist import at, form, user, visitors, wish

PAST = [dt.date(2026, 11, 4), dt.date(2026, 11, 11), dt.date(2026, 11, 18)]


def booked_on(db, person, day: dt.date) -> bookings.Booking:
    slot = next(s.slot for s in reception.slots(db, day) if s.free)
    return reception.book(db, person, form(slot, date=day), now=at((day - dt.timedelta(days=3)).isoformat()))


def finish(db, day: dt.date) -> None:
    reception_day.finish_day(db, user(db, "dangban"), day, now=at(day.isoformat(), "18:00"))


def test_the_third_no_show_of_a_semester_restricts_booking_for_four_weeks(demo_db):
    person = visitors(demo_db, 1)[0]
    for day in PAST[:2]:
        booked_on(demo_db, person, day)
        finish(demo_db, day)
    assert bans.active_ban(demo_db, person.id) is None  # two: not yet
    booked_on(demo_db, person, PAST[2])
    plan = reception_day.finish_plan(demo_db, user(demo_db, "dangban"), PAST[2], at("2026-11-18", "18:00"))
    assert any("按未到规则" in line and "未到 3 次" in line for line in plan.describe())
    finish(demo_db, PAST[2])
    ban = bans.active_ban(demo_db, person.id)
    assert ban is not None and ban.until == PAST[2] + dt.timedelta(weeks=4)
    said = ban.describe()
    assert "预约后未到 3 次" in said and "2026年11月4日、2026年11月11日、2026年11月18日" in said
    assert "2026年12月15日（星期二）（含）前不能预约" in said and "2026年12月16日（星期三）起恢复" in said
    with pytest.raises(ValidationError, match="未到 3 次"):
        reception.book(demo_db, person, form("08:30"), now=at("2026-11-24"))
    with pytest.raises(ValidationError, match="未到 3 次"):
        waitlist.join(demo_db, person, wish("08:30"), now=at("2026-11-24"))
    finish(demo_db, PAST[2])  # finishing again makes no second restriction
    assert len(bans.list_bans(demo_db, user(demo_db, "dangban"))) >= 1
    assert (
        demo_db.execute("SELECT count(*) FROM booking_bans WHERE user_id = ?", [person.id]).fetchone()[0] == 1
    )

    # 党办 lifts it with a reason, which the audit log keeps; a student may not
    with pytest.raises(PermissionDenied):
        bans.lift(demo_db, person, ban.id, "我错了")
    with pytest.raises(ValidationError, match="解除原因"):
        bans.lift(demo_db, user(demo_db, "dangban"), ban.id, " ")
    lifted = bans.lift(demo_db, user(demo_db, "dangban"), ban.id, "来访人因病住院，已提供证明")
    assert lifted.lifted_at and bans.active_ban(demo_db, person.id) is None
    logged = audit.search(demo_db, category="reception.", text="来访人因病住院").entries
    assert [e.label for e in logged] == ["解除预约限制"]
    assert reception.book(demo_db, person, form("08:30"), now=at("2026-11-24")).status == "booked"


def test_cancelling_never_counts_and_a_corrected_no_show_lifts_the_restriction(demo_db):
    careful, late = visitors(demo_db, 2)
    for day in PAST[:2]:
        booked_on(demo_db, careful, day)
        finish(demo_db, day)
    made = booked_on(demo_db, careful, PAST[2])
    reception.cancel(demo_db, careful, made.id, now=at("2026-11-17", "09:00"))  # before the cut-off
    finish(demo_db, PAST[2])
    assert bans.active_ban(demo_db, careful.id) is None

    absent = []
    for day in PAST:
        absent.append(booked_on(demo_db, late, day))
        finish(demo_db, day)
    assert bans.active_ban(demo_db, late.id) is not None
    reception_day.check_in(demo_db, user(demo_db, "dangban"), absent[-1].id)  # he had come after all
    assert bans.active_ban(demo_db, late.id) is None
    assert (
        bans.AUTO_LIFT
        in demo_db.execute("SELECT lift_reason FROM booking_bans WHERE user_id = ?", [late.id]).fetchone()[0]
    )


def test_the_rule_is_data_and_can_be_switched_off(demo_db):
    tpl = reception.load_template(demo_db)
    reception.save_template(demo_db, tpl.model_copy(update={"no_show_limit": 0}))
    person = visitors(demo_db, 1)[0]
    for day in PAST:
        booked_on(demo_db, person, day)
        finish(demo_db, day)
    assert bans.active_ban(demo_db, person.id) is None
    with pytest.raises(ValidationError, match="候补确认截止时间不能晚于预约截止时间"):
        reception.save_template(demo_db, {**tpl.model_dump(), "confirm_time": "18:00"})
    assert accounts is not None


def test_a_late_visitor_received_without_a_check_in_is_no_longer_restricted_and_the_lift_is_audited(demo_db):
    """接待当日 offers 记录接待情况 for a 未到 too (he came late and was received at once, without 签到):
    the 未到 is corrected all the same, so the restriction it made ends — and a restriction ended by a
    correction is in the audit log, with who corrected it, like one lifted by hand."""
    late = visitors(demo_db, 1)[0]
    absent = []
    for day in PAST:
        absent.append(booked_on(demo_db, late, day))
        finish(demo_db, day)
    assert bans.active_ban(demo_db, late.id) is not None
    leader = user(demo_db, "dangban")
    record = reception_day.ReceptionRecord(outcome="answered", answer="当面说明了选课安排")
    received = reception_day.record_reception(demo_db, leader, absent[-1].id, record)
    assert received.status == "received"
    assert bans.active_ban(demo_db, late.id) is None
    logged = audit.search(demo_db, category="reception.", actor="dangban").entries
    assert any(e.action == "reception.lift_ban" and bans.AUTO_LIFT in e.detail for e in logged), [
        (e.action, e.detail) for e in logged
    ]
