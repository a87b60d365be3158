"""The waiting list and the no-show rule on the pages (AppTest): joining a full day on 预约接待, the
position on 我的预约, leaving after a confirmation, the promoted person's 确认前往, a restriction's why and until when."""

from __future__ import annotations

import datetime as dt

from pages.common import answer_key
from portal import accounts, reception
from portal.reception import bookings, waitlist
from tests.conftest import goto, login, texts
from tests.core.test_waitlist import NEXT, fill_the_day, holder, visitors, wish


def _untouched_student() -> str:
    """A student the demo gave no booking, waiting entry or restriction (fill_the_day books the first ones)."""
    import os

    from portal.db import open_db

    with open_db(os.environ["PORTAL_DB"]) as db:
        return db.execute(
            "SELECT u.username FROM users u JOIN people p ON p.id = u.person_id WHERE p.kind = '学生' "
            "AND u.id NOT IN (SELECT user_id FROM bookings UNION SELECT user_id FROM waitlist "
            "UNION SELECT user_id FROM booking_bans) ORDER BY u.id DESC LIMIT 1"
        ).fetchone()[0]


def open_day(username: str):
    at = login(username)
    goto(at, "pages/reception_book.py").run()
    assert not at.exception, at.exception
    at.radio(key="day").set_value(NEXT.isoformat()).run()
    assert not at.exception, at.exception
    return at


def test_a_full_day_offers_the_waiting_list_and_my_bookings_shows_the_place_in_it(demo_db):
    STUDENT = _untouched_student()
    fill_the_day(demo_db)
    first = visitors(demo_db, 1)[0]
    waitlist.join(demo_db, first, wish())  # someone is ahead
    at = open_day(STUDENT)
    assert "该接待日已约满" in texts(at) and "目前有 1 人候补" in texts(at)
    form = f"wait_{NEXT.isoformat()}"
    at.selectbox(key=f"{form}_slot").set_value("")  # any slot
    at.selectbox(key=f"{form}_category").select("教学")
    at.text_input(key=f"{form}_subject").input("图书馆自习座位不足")
    next(b for b in at.button if b.label == "加入候补").click().run()
    assert not at.exception, at.exception
    assert "已加入候补（任一时段），当前排在第 2 位" in texts(at)
    me = accounts.find_user(demo_db, STUDENT)
    assert waitlist.waiting_on(demo_db, me, NEXT).position == 2

    goto(at, "pages/my_bookings.py").run()
    shown = texts(at)
    assert "候补中（1）" in shown and "当前排在候补名单第 2 位" in shown
    entry = waitlist.waiting_on(demo_db, me, NEXT)
    next(b for b in at.button if b.key == f"leave_{entry.id}").click().run()
    assert waitlist.waiting_on(demo_db, me, NEXT) is not None  # asked first
    at.session_state[answer_key("leave_waitlist")] = True
    at.run()
    at.run()
    assert waitlist.waiting_on(demo_db, me, NEXT) is None
    assert "已退出" in texts(at) and "已退出候补" in texts(at)


def test_the_promoted_person_sees_the_offer_and_confirms_it_with_one_tap(demo_db):
    STUDENT = _untouched_student()
    held = fill_the_day(demo_db)
    me = accounts.find_user(demo_db, STUDENT)
    waitlist.join(demo_db, me, wish("09:00"))
    reception.cancel(demo_db, holder(demo_db, held["09:00"]), held["09:00"].id)
    offered = reception.mine_on(demo_db, me, NEXT)
    at = login(STUDENT)
    goto(at, "pages/my_bookings.py").run()
    shown = texts(at)
    assert "待确认" in shown and "请于 2026年12月1日（星期二） 12:00 前确认前往" in shown
    next(b for b in at.button if b.key == f"confirm_{offered.id}").click().run()
    assert not at.exception, at.exception
    assert "已确认前往" in texts(at)
    assert not reception.mine_on(demo_db, me, NEXT).awaiting_confirmation
    assert not any(b.key == f"confirm_{offered.id}" for b in at.button)


def test_a_restricted_person_sees_why_and_until_when(demo_db):
    STUDENT = _untouched_student()
    me = accounts.find_user(demo_db, STUDENT)
    demo_db.execute(
        "INSERT INTO booking_bans (user_id, starts, until, reason, created_at) VALUES (?, ?, ?, ?, ?)",
        [
            me.id,
            "2026-11-18",
            "2026-12-16",
            "2026-2027学年第一学期预约后未到 3 次（…）",
            "2026-11-18T18:00:00",
        ],
    )
    demo_db.conn.commit()
    at = login(STUDENT)
    goto(at, "pages/reception_book.py").run()
    said = [e.value for e in at.error]
    assert said and "预约后未到 3 次" in said[0] and "2026年12月15日（星期二）（含）前不能预约" in said[0]
    assert not any(r.key == "day" for r in at.radio)
    assert bookings is not None


# --- the QR code's check-in page and the reminder's links ---------------------------------------


def test_the_check_in_page_checks_in_with_one_tap_and_shows_the_visitor_only_his_booking(
    demo_db, monkeypatch
):
    monkeypatch.setenv("PORTAL_TODAY", "2026-11-25T09:05:00")
    b = next(x for x in bookings.day_bookings(demo_db, dt.date(2026, 11, 25)) if x.status == "booked")
    visitor = accounts.get_user(demo_db, b.user_id)
    at = login(visitor.username)
    at.query_params["code"] = b.code
    goto(at, "pages/checkin.py").run()
    assert not at.exception, at.exception
    [image] = at.get("image")  # his booking with its QR code
    assert b.code in texts(at) and image.captions == [
        f"签到二维码（预约编号 {b.code}）：到达后出示给工作人员扫码"
    ]
    assert not any(x.key == f"checkin_{b.id}" for x in at.button)  # a visitor cannot check himself in
    at = login("dangban")
    at.query_params["code"] = b.code
    goto(at, "pages/checkin.py").run()
    next(x for x in at.button if x.key == f"checkin_{b.id}").click().run()
    assert not at.exception, at.exception
    assert any("已签到" in s.value for s in at.success)
    assert reception.get_booking(demo_db, accounts.find_user(demo_db, "dangban"), b.id).checked_in_at
    at.run()  # scanned again: said, not done twice
    assert any("无需重复签到" in e.value for e in at.error)


def test_the_reminders_cancel_link_asks_on_the_page_before_it_cancels(demo_db):
    from portal.reception import actions

    b = next(x for x in bookings.day_bookings(demo_db, NEXT) if x.status == "booked")
    owner = accounts.get_user(demo_db, b.user_id)
    token = actions.token_for(demo_db, b.id, "cancel")
    at = login(owner.username)
    at.query_params["act"] = token
    goto(at, "pages/my_bookings.py").run()
    assert not at.exception, at.exception
    assert "取消这个预约吗？" in texts(at)
    assert reception.get_booking(demo_db, owner, b.id).status == "booked"  # opening the link cancels nothing
    at.text_input(key="reminder_cancel_reason").input("临时有课")
    at.button(key="reminder_cancel_confirm").click().run()
    assert not at.exception, at.exception
    gone = reception.get_booking(demo_db, owner, b.id)
    assert gone.status == "cancelled" and gone.cancel_reason == "临时有课"
    assert "“取消预约”链接已于" in texts(at)
    other = login(visitors(demo_db, 1)[0].username)  # someone else's session: told, nothing done
    other.query_params["act"] = actions.token_for(demo_db, b.id, "confirm")
    goto(other, "pages/my_bookings.py").run()
    assert any("另一位预约人" in e.value for e in other.error)


def test_the_six_character_code_can_be_typed_on_the_day(demo_db, monkeypatch):
    monkeypatch.setenv("PORTAL_TODAY", "2026-11-25T09:10:00")
    day = dt.date(2026, 11, 25)
    b = next(x for x in bookings.day_bookings(demo_db, day) if x.status == "booked" and not x.checked_in_at)
    later = next(x for x in bookings.day_bookings(demo_db, NEXT) if x.status == "booked")
    at = login("dangban")
    goto(at, "pages/reception_day.py").run()
    at.text_input(key="checkin_code").input(later.code)  # another day's code: refused, with why
    next(x for x in at.button if x.label == "确定").click().run()
    assert any("不是今天" in e.value for e in at.error)
    at.text_input(key="checkin_code").input(b.code.lower())
    next(x for x in at.button if x.label == "确定").click().run()
    assert not at.exception, at.exception
    assert any(f"{b.visitor_name} 已签到" in s.value for s in at.success)
    assert reception.get_booking(demo_db, accounts.find_user(demo_db, "dangban"), b.id).checked_in_at
