"""Voiding or editing an activity keeps its cases consistent: cases no department has acted on are
withdrawn (已撤销, with the reason and who did it, in the case history); cases already in hand are
flagged to the department; withdrawn cases leave the department's lists, counts and 待办."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest

from portal import (
    accounts,
    activities,
    activity_recording,
    case_actions,
    case_export,
    cases,
    overview,
    states,
)
from portal.activities import ActivityInput
from portal.demo import DEPARTMENT_ACCOUNTS
from portal.errors import PortalError
from tests.conftest import goto, login, texts

TODAY = dt.date(2026, 11, 24)


def _symposium(db, opinions: list[str]) -> tuple[activities.Activity, accounts.User]:
    me = accounts.find_user(db, "10010001")
    saved = activity_recording.log_activity(
        db,
        ActivityInput(
            cadre_id=me.person_id,
            system="座谈",
            subtype="学生座谈",
            date=TODAY,
            place="学生活动中心",
            content="与学生代表座谈",
            opinions=opinions,
        ),
        me,
    )
    return saved, me


def _of(db, activity_id: int) -> dict[str, cases.Case]:
    return {c.content: c for c in cases.of_activity(db, activity_id)}


def _events(db, case_id: int) -> list[tuple]:
    return [
        tuple(r)
        for r in db.execute(
            "SELECT e.action, e.to_state, e.note, u.username FROM case_events e "
            "LEFT JOIN users u ON u.id = e.user_id WHERE e.case_id = ? ORDER BY e.id",
            [case_id],
        )
    ]


def test_voiding_withdraws_untouched_cases_and_flags_those_in_hand(demo_db):
    saved, me = _symposium(demo_db, ["自习室座位不足", "食堂排队太久"])
    xgb = accounts.find_user(demo_db, DEPARTMENT_ACCOUNTS["学工部"])
    in_hand = _of(demo_db, saved.id)["食堂排队太久"]
    unit = demo_db.execute("SELECT id FROM units WHERE kind = 'department' LIMIT 1").fetchone()[0]
    case_actions.refer(demo_db, in_hand.id, unit, xgb)

    activity_recording.void_activity(demo_db, saved.id, "重复录入", me)

    now = _of(demo_db, saved.id)
    withdrawn, flagged = now["自习室座位不足"], now["食堂排队太久"]
    assert withdrawn.state == "withdrawn" and withdrawn.state_label == states.CASE_STATE_LABELS["withdrawn"]
    assert withdrawn.withdraw_reason == "联系活动已作废：重复录入"
    last = _events(demo_db, withdrawn.id)[-1]
    assert last[:2] == ("withdrawn", "withdrawn") and "重复录入" in last[2] and last[3] == "10010001"
    assert flagged.state == "referred" and "联系活动已作废" in flagged.alert and "重复录入" in flagged.alert
    assert _events(demo_db, flagged.id)[-1][0] == "flagged"

    sheet = openpyxl.load_workbook(io.BytesIO(case_export.export_xlsx(cases.list_cases(demo_db, xgb)))).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    header = next(r for r in rows if "编号" in r)
    flagged_row = next(r for r in rows if r[0] == flagged.number)
    assert "联系活动已作废" in flagged_row[header.index("来源变动")]
    assert withdrawn.number not in [r[0] for r in rows]

    listed = {c.id for c in cases.list_cases(demo_db, xgb)}
    assert withdrawn.id not in listed and flagged.id in listed
    assert withdrawn.id not in {c.id for c in cases.list_cases(demo_db, xgb, states=list(cases.OPEN_STATES))}


def test_a_withdrawn_case_accepts_no_more_handling(demo_db):
    saved, me = _symposium(demo_db, ["自习室座位不足"])
    activity_recording.void_activity(demo_db, saved.id, "重复录入", me)
    case = _of(demo_db, saved.id)["自习室座位不足"]
    xgb = accounts.find_user(demo_db, DEPARTMENT_ACCOUNTS["学工部"])
    with pytest.raises(PortalError, match="已撤销"):
        case_actions.answer(demo_db, case.id, "已处理", xgb)


def test_editing_opinions_withdraws_flags_and_opens_as_needed(demo_db):
    saved, me = _symposium(demo_db, ["自习室座位不足", "食堂排队太久", "宿舍热水不稳定"])
    xgb = accounts.find_user(demo_db, DEPARTMENT_ACCOUNTS["学工部"])
    case_actions.add_progress(demo_db, _of(demo_db, saved.id)["食堂排队太久"].id, "已联系后勤", xgb)

    activity_recording.update_activity(
        demo_db, saved.id, {"opinions": ["宿舍热水不稳定", "图书馆开放时间短"]}, me
    )
    now = _of(demo_db, saved.id)
    assert now["自习室座位不足"].state == "withdrawn"  # removed, nobody acted: withdrawn
    assert "修改" in now["自习室座位不足"].withdraw_reason
    assert (
        now["食堂排队太久"].state == "registered" and "删除" in now["食堂排队太久"].alert
    )  # in hand: flagged
    assert now["宿舍热水不稳定"].state == "registered" and not now["宿舍热水不稳定"].alert  # kept as it was
    assert now["图书馆开放时间短"].state == "registered"  # new: a new case
    # editing again with the same items changes nothing
    activity_recording.update_activity(demo_db, saved.id, {"place": "图书馆"}, me)
    assert len(cases.of_activity(demo_db, saved.id)) == 4
    assert len(_events(demo_db, now["食堂排队太久"].id)) == 3  # opened, progress, flagged once


def test_the_department_no_longer_counts_or_is_reminded_of_withdrawn_cases(demo_db):
    xgb = accounts.find_user(demo_db, DEPARTMENT_ACCOUNTS["学工部"])
    before = cases.counts(cases.list_cases(demo_db, xgb, states=list(cases.OPEN_STATES)))
    saved, me = _symposium(demo_db, ["自习室座位不足"])
    assert (
        cases.counts(cases.list_cases(demo_db, xgb, states=list(cases.OPEN_STATES)))["open"]
        == before["open"] + 1
    )
    activity_recording.void_activity(demo_db, saved.id, "重复录入", me)
    assert cases.counts(cases.list_cases(demo_db, xgb, states=list(cases.OPEN_STATES))) == before
    assert cases.counts(cases.list_cases(demo_db, xgb))["open"] == before["open"]
    assert all("撤销" not in r.text for r in overview.reminders(demo_db, xgb))


def test_the_department_sees_the_flag_on_its_list(demo_db):
    saved, me = _symposium(demo_db, ["自习室座位不足", "食堂排队太久"])
    xgb = accounts.find_user(demo_db, DEPARTMENT_ACCOUNTS["学工部"])
    in_hand = _of(demo_db, saved.id)["食堂排队太久"]
    case_actions.add_progress(demo_db, in_hand.id, "已联系后勤", xgb)
    untouched = _of(demo_db, saved.id)["自习室座位不足"]
    activity_recording.void_activity(demo_db, saved.id, "重复录入", me)

    at = login(DEPARTMENT_ACCOUNTS["学工部"])
    goto(at, "pages/cases.py").run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    numbers = [link.split("no=")[1] for link in table["编号"]]  # each number a link to its case
    assert in_hand.number in numbers and untouched.number not in numbers
    row = table.iloc[numbers.index(in_hand.number)]
    assert "联系活动已作废" in row["来源变动"]
    at.selectbox(key="c_case").set_value(in_hand.id).run()
    assert "联系活动已作废" in texts(at) and "重复录入" in texts(at)
    assert any("需核实是否继续办理的意见建议 1 件" in r.text for r in overview.reminders(demo_db, xgb))


def _migration():
    """The case-withdrawal migration, whatever number the merge gives it."""
    from portal import migrations as schema

    (found,) = [f for name, f in vars(schema).items() if name.endswith("_case_withdrawal")]
    return found


def test_the_migration_keeps_existing_cases_and_their_history(tmp_path):
    from portal import db as portal_db

    handle = portal_db.connect(tmp_path / "old.sqlite3")
    with portal_db.write(handle):
        portal_db.migrations.apply(handle, stop_before=_migration().__name__)
    handle.execute(
        "INSERT INTO cases (id, number, source, content, responsible_dept, state, contact_date, deadline_days, "
        "due_date, created_at, updated_at) VALUES (1, '2026-0001', 'other', '旧的意见', '党办', 'referred', "
        "'2026-11-02', 10, '2026-11-16', 'x', 'x')"
    )
    handle.execute("INSERT INTO case_events (case_id, at, action) VALUES (1, 'x', 'opened')")
    handle.conn.commit()
    portal_db.migrate(handle)
    assert handle.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert handle.execute("SELECT number, state, alert FROM cases").fetchall() == [
        ("2026-0001", "referred", "")
    ]
    handle.execute("UPDATE cases SET state = 'withdrawn' WHERE id = 1")
    with pytest.raises(Exception, match="CHECK"):
        handle.execute("UPDATE cases SET state = 'lost' WHERE id = 1")
    with pytest.raises(Exception, match="只能追加"):
        handle.execute("DELETE FROM case_events")
    handle.close()


def test_a_visitors_request_from_a_booking_is_flagged_not_withdrawn(demo_db):
    saved, me = _symposium(demo_db, ["自习室座位不足"])
    booking = demo_db.execute("SELECT id, user_id FROM bookings WHERE status = 'received' LIMIT 1").fetchone()
    demo_db.execute(
        "UPDATE cases SET booking_id = ?, raised_by = ? WHERE activity_id = ?", [*booking, saved.id]
    )
    demo_db.conn.commit()
    activity_recording.void_activity(demo_db, saved.id, "重复录入", me)
    case = _of(demo_db, saved.id)["自习室座位不足"]
    assert case.state == "registered" and "联系活动已作废" in case.alert


def test_the_department_checks_a_flag_and_it_stays_checked(demo_db):
    saved, me = _symposium(demo_db, ["自习室座位不足", "食堂排队太久"])
    xgb = accounts.find_user(demo_db, DEPARTMENT_ACCOUNTS["学工部"])
    in_hand = _of(demo_db, saved.id)["食堂排队太久"]
    case_actions.add_progress(demo_db, in_hand.id, "已联系后勤", xgb)
    activity_recording.update_activity(demo_db, saved.id, {"opinions": ["自习室座位不足"]}, me)
    assert _of(demo_db, saved.id)["食堂排队太久"].alert

    at = login(DEPARTMENT_ACCOUNTS["学工部"])
    goto(at, "pages/cases.py").run()
    at.selectbox(key="c_case").set_value(in_hand.id).run()
    at.button(key=f"ack_{in_hand.id}").click().run()
    assert not at.exception, at.exception
    checked = _of(demo_db, saved.id)["食堂排队太久"]
    assert checked.alert == "" and checked.state == "registered"
    assert _events(demo_db, in_hand.id)[-1][0] == "acknowledged"
    assert not any("需核实" in r.text for r in overview.reminders(demo_db, xgb))
    # a later edit of the activity neither flags it again nor opens it anew
    activity_recording.update_activity(demo_db, saved.id, {"place": "图书馆"}, me)
    assert _of(demo_db, saved.id)["食堂排队太久"].alert == ""
    assert len(cases.of_activity(demo_db, saved.id)) == 2
    with pytest.raises(PortalError, match="没有需要核实"):
        case_actions.acknowledge(demo_db, in_hand.id, xgb)


def test_the_migration_may_run_again(db):
    from portal import db as portal_db

    before = db.execute("SELECT sql FROM sqlite_master WHERE name = 'cases'").fetchone()[0]
    with portal_db.write(db):
        _migration()(db)
    assert db.execute("SELECT sql FROM sqlite_master WHERE name = 'cases'").fetchone()[0] == before
