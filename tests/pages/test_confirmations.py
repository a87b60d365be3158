"""Destructive actions confirm in a dialog: voiding an activity, resetting a password, disabling an
account, cancelling a reception day. The button only asks; nothing happens until 确认; 取消 or
closing the dialog forgets the question. (AppTest cannot reach buttons inside ``st.dialog``: the
tests answer through the session state the dialog's buttons set, ``pages.common.answer_key``.)"""

from __future__ import annotations

import datetime as dt

from pages.common import answer_key
from portal import accounts, activities, activity_recording
from portal.activities import ActivityInput
from portal.reception import roster
from tests.conftest import goto, login, texts

NEXT = dt.date(2026, 12, 2)


def _click(at, label: str) -> None:
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception, at.exception


def _dialog_text(at) -> str:
    return "\n".join(str(t.value) for t in at.text)


def test_voiding_asks_and_lists_what_becomes_of_the_cases(demo_db):
    me = accounts.find_user(demo_db, "10010001")
    saved = activity_recording.log_activity(
        demo_db,
        ActivityInput(
            cadre_id=me.person_id,
            system="座谈",
            subtype="学生座谈",
            date=dt.date(2026, 11, 24),
            content="与学生代表座谈",
            opinions=["自习室座位不足", "食堂排队太久"],
        ),
        me,
    )
    at = login("10010001")
    goto(at, "pages/activities.py").run()
    at.selectbox(key="chosen").select(saved.id).run()
    at.text_input(key=f"void_reason_{saved.id}").input("重复录入")
    _click(at, "作废此记录")
    assert not activities.get_activity(demo_db, saved.id, me).voided
    shown = _dialog_text(at)
    assert "作废原因：重复录入" in shown and "意见建议 2 件将撤销" in shown
    at.run()  # an unrelated rerun does not act
    assert not activities.get_activity(demo_db, saved.id, me).voided
    at.session_state[answer_key("void")] = True
    at.run()
    assert activities.get_activity(demo_db, saved.id, me).voided
    assert "已作废" in texts(at)
    assert "_confirm_void" not in at.session_state  # asked once, answered once


def test_voiding_without_a_reason_does_not_even_ask(demo_db):
    at = login("10010001")
    goto(at, "pages/activities.py").run()
    _click(at, "作废此记录")
    assert "请填写作废原因" in texts(at) and "_confirm_void" not in at.session_state


def _admin_on(demo_db, username: str):
    at = login("admin")
    goto(at, "pages/admin_users.py").run()
    at.text_input(key="user_search").input(username).run()
    next(s for s in at.selectbox if s.label == "账号").select(username).run()
    assert not at.exception, at.exception
    return at


def test_resetting_a_password_asks_first(demo_db):
    before = demo_db.execute("SELECT password_hash FROM users WHERE username = '10010001'").fetchone()[0]
    at = _admin_on(demo_db, "10010001")
    _click(at, "重置密码")
    assert "原密码失效" in _dialog_text(at)
    assert (
        demo_db.execute("SELECT password_hash FROM users WHERE username = '10010001'").fetchone()[0] == before
    )
    at.session_state[answer_key("reset_password")] = True
    at.run()
    assert "新密码（仅显示这一次）" in texts(at)
    assert (
        demo_db.execute("SELECT password_hash FROM users WHERE username = '10010001'").fetchone()[0] != before
    )


def test_disabling_an_account_asks_first_and_a_cancel_forgets_it(demo_db):
    at = _admin_on(demo_db, "10010001")
    _click(at, "停用账号")
    assert accounts.find_user(demo_db, "10010001").is_active
    del at.session_state["_confirm_disable_account"]  # what the dialog's 取消 does
    at.run()
    assert accounts.find_user(demo_db, "10010001").is_active
    _click(at, "停用账号")
    at.session_state[answer_key("disable_account")] = True
    at.run()
    assert not accounts.find_user(demo_db, "10010001").is_active
    assert "已停用" in texts(at)


def test_cancelling_a_day_asks_and_says_how_many_bookings_go(demo_db):
    day = roster.get_day(demo_db, NEXT)
    assert day.booked > 0
    at = login("xiaoban")
    goto(at, "pages/reception_roster.py").run()
    at.selectbox(key="cancel_day").select(NEXT.isoformat())
    at.text_input(key="cancel_reason").input("学校召开教代会")
    _click(at, "取消该接待日")
    assert not roster.get_day(demo_db, NEXT).cancelled
    assert f"已有的 {day.booked} 个预约将随之取消" in _dialog_text(at)
    at.session_state[answer_key("cancel_day")] = True
    at.run()
    assert roster.get_day(demo_db, NEXT).cancelled
