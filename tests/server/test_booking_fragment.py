"""预约接待 over the real server: a tap on a slot and the submit rerun the booking area alone (a
Streamlit fragment: no menu, no sidebar, no page head sent again), and a session that ended
meanwhile is still noticed there — the answer is the login page, and nothing is booked.
(AppTest reruns whole scripts; the browser sends the fragment's id, as ``tests/stclient.py`` does.)"""

from __future__ import annotations

import asyncio

from portal import accounts, config, reception, sessions
from portal.db import write
from tests import live
from tests.pages.test_rush import NEXT, _free_slot
from tests.stclient import Tab

DAY = "2026年12月2日"
PHONE = "联系电话（手机号或校内分机）"


def _student(db) -> tuple[int, str]:
    uid = db.execute(
        "SELECT u.id FROM users u JOIN people p ON p.id = u.person_id WHERE p.kind = '学生' "
        "AND u.id NOT IN (SELECT user_id FROM bookings) ORDER BY u.id LIMIT 1"
    ).fetchone()[0]
    _, claim = sessions.start(db, uid)
    return uid, f"{config.SESSION_COOKIE}={sessions.claim(db, claim)}"


async def _to_the_form(tab: Tab, slot_label: str):
    whole = await tab.open()
    tab.set("接待日", next(o for o in tab.widgets["接待日"].options if o.startswith(DAY)))
    await tab.rerun()
    picked = await tab.click(slot_label)
    tab.set("反映事项类别", "后勤保障")
    tab.set("反映事项（简要）", "宿舍热水")
    tab.set(PHONE, "13800001111")
    return whole, picked


def _free_label(db) -> str:
    """The button label of a free slot on the day the tests book."""
    return next(s.label for s in reception.slots(db, NEXT) if s.slot == _free_slot(db))


def _booked(db, uid: int) -> int:
    return db.execute(
        "SELECT count(*) FROM bookings WHERE user_id = ? AND status != 'cancelled'", [uid]
    ).fetchone()[0]


def test_a_tap_and_the_submit_rerun_the_booking_area_alone(demo_db):
    uid, cookie = _student(demo_db)
    label = _free_label(demo_db)
    with live.serve(config.db_path()) as url:

        async def book():
            tab = Tab(url, cookie, "reception_book")
            whole, picked = await _to_the_form(tab, label)
            return whole, picked, await tab.click("提交预约")

        whole, picked, submitted = asyncio.run(book())
    assert "退出登录" in whole.widgets and "接待日" in whole.widgets  # a whole run: sidebar and page
    for run in (picked, submitted):
        assert run.exception is None and run.starts == 1
        assert "退出登录" not in run.widgets  # the sidebar (and the menu) were not sent again
    assert PHONE in picked.widgets and "接待日" in picked.widgets  # the area: days, slots, form
    assert any("预约成功" in s for s in submitted.successes), submitted.errors
    assert _booked(demo_db, uid) == 1


def test_a_session_ended_meanwhile_brings_the_login_and_books_nothing(demo_db):
    uid, cookie = _student(demo_db)
    label = _free_label(demo_db)
    with live.serve(config.db_path()) as url:

        async def book_after_logout():
            tab = Tab(url, cookie, "reception_book")
            await _to_the_form(tab, label)
            with write(demo_db):  # logged out in another tab
                sessions.end_all(demo_db, uid, "logout")
            return await tab.click("提交预约")

        run = asyncio.run(book_after_logout())
    assert run.exception is None
    assert "密码" in run.widgets and "提交预约" not in run.widgets  # the login page, not the form
    assert not any("预约成功" in s for s in run.successes)
    assert _booked(demo_db, uid) == 0


def test_an_action_inside_a_case_panel_after_the_session_ended_does_nothing(demo_db):
    """意见建议办理's case panel is a fragment too: 记录进展 clicked in a tab whose session ended meanwhile
    (the account was disabled, a password reset, a logout elsewhere) brings the login and records nothing."""
    clerk = accounts.find_user(demo_db, "dangban")
    number, case_id = demo_db.execute(
        "SELECT number, id FROM cases WHERE responsible_dept = '党办' AND state IN ('registered', 'referred') "
        "ORDER BY id LIMIT 1"
    ).fetchone()
    _, claim = sessions.start(demo_db, clerk.id)
    cookie = f"{config.SESSION_COOKIE}={sessions.claim(demo_db, claim)}"

    def steps() -> int:
        return demo_db.execute("SELECT count(*) FROM case_events WHERE case_id = ?", [case_id]).fetchone()[0]

    before = steps()
    with live.serve(config.db_path()) as url:

        async def progress_after_logout():
            tab = Tab(url, cookie, "cases", query=f"no={number}")
            await tab.open()
            assert tab.widgets["记录进展"].fragment_id, "the case panel is a fragment"
            tab.set("办理进展", "已联系后勤处")
            with write(demo_db):
                sessions.end_all(demo_db, clerk.id, "disabled")
            return await tab.click("记录进展")

        run = asyncio.run(progress_after_logout())
    assert run.exception is None
    assert "密码" in run.widgets and "记录进展" not in run.widgets  # the login page
    assert steps() == before
