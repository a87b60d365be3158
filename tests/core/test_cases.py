"""Cases: deadlines on the working-day calendar, states and who may change them, history,
reopening, read receipts, supervision lists and their export."""

from __future__ import annotations

import datetime as dt
import io
import json
import sqlite3

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from portal import (
    accounts,
    case_actions,
    case_export,
    case_history,
    case_messages,
    case_opening,
    cases,
    ratings,
    workdays,
)
from portal.accounts import Role
from portal.cli import cli
from portal.demo import DEPARTMENT_ACCOUNTS
from portal.errors import Conflict, NotFound, PermissionDenied, ValidationError

D = dt.date
TODAY = D(2026, 11, 24)  # PORTAL_TODAY in tests


def _open(db, **kw):
    args = dict(source="other", content="食堂晚餐时间太短", responsible_dept="党办", contact_date=TODAY)
    args.update(kw)
    return case_opening.open_case(db, **args)


@pytest.fixture
def people(db):
    """A department clerk of 党办 and one of 宣传部, an administrator, a visitor, a second visitor."""

    def user(name, roles):
        return accounts.create_user(db, name, name, "Passw0rd!x", [Role(**r) for r in roles])

    return {
        "dangban": user("dangban", [{"role": "department", "department": "党办"}]),
        "xuanchuan": user("xuanchuan", [{"role": "department", "department": "宣传部"}]),
        "admin": user("admin", [{"role": "admin"}]),
        "visitor": user("visitor", [{"role": "visitor"}]),
        "other": user("other", [{"role": "visitor"}]),
    }


# --- deadlines ---------------------------------------------------------------------------------


def test_a_reception_before_national_day_is_due_after_the_holiday(db):
    # 09-30 (Wed); 10-01..07 off; 10-08, 10-09, 10-10 (Saturday worked, 调休), 10-12, 10-13
    case = _open(db, source="reception", contact_date=D(2026, 9, 30))
    assert case.deadline_days == 5
    assert case.due_date == D(2026, 10, 13)
    symposium = _open(db, source="symposium", contact_date=D(2026, 9, 30), responsible_dept="宣传部")
    assert symposium.deadline_days == 10 and symposium.due_date == D(2026, 10, 20)
    # Spring Festival 02-15..23 off; Saturdays 02-14 and 02-28 worked
    other = _open(db, contact_date=D(2026, 2, 13))
    assert other.due_date == D(2026, 3, 5)


def test_deadline_days_come_from_the_policy_and_can_be_given(db):
    from portal.policy import policy

    assert _open(db).deadline_days == policy().deadlines.other == 10
    assert _open(db, deadline_days=3).due_date == D(2026, 11, 27)


def test_numbers_run_per_year(db, monkeypatch):
    monkeypatch.setenv("PORTAL_TODAY", "2027-01-06")
    numbers = [_open(db, contact_date=d).number for d in (D(2026, 3, 2), D(2026, 11, 2), D(2027, 1, 5))]
    assert numbers == ["2026-0001", "2026-0002", "2027-0001"]


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"content": "  "}, "意见建议内容"),
        ({"responsible_dept": "保卫处"}, "责任部门"),
        ({"source": "phone"}, "来源"),
        ({"system": "喝茶"}, "制度"),
        ({"handling_unit_id": 9999}, "承办单位"),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(db, kw, message):
    with pytest.raises(ValidationError, match=message):
        _open(db, **kw)
    assert db.execute("SELECT count(*) FROM cases").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM case_events").fetchone()[0] == 0


def test_recomputed_after_a_calendar_change_and_recorded(db, people):
    open_one = _open(db)  # 11-24 + 10 working days
    answered = _open(db)
    case_actions.answer(db, answered.id, "已答复", people["dangban"])
    assert open_one.due_date == D(2026, 12, 8)
    workdays.set_override(db, D(2026, 11, 25), False, "校庆放假")  # calls recompute_due_dates
    assert cases.get_case(db, open_one.id, people["admin"]).due_date == D(2026, 12, 9)
    assert cases.get_case(db, answered.id, people["admin"]).due_date == D(2026, 12, 8)
    last = cases.events(db, open_one.id, people["admin"])[-1]
    assert last.action == "due_changed" and "2026-12-08 → 2026-12-09" in last.note
    assert case_actions.recompute_due_dates(db) == 0  # nothing left to change
    workdays.remove_override(db, D(2026, 11, 25))
    assert cases.get_case(db, open_one.id, people["admin"]).due_date == D(2026, 12, 8)


def test_loading_a_year_recomputes_open_cases(db, monkeypatch):
    monkeypatch.setenv("PORTAL_TODAY", "2026-12-29")  # the contact has happened
    case = _open(db, contact_date=D(2026, 12, 28))  # into 2027, a year chinesecalendar does not know
    before = case.due_date
    result = workdays.load_year(
        db, 2027, [{"日期": d, "类型": "休息日", "名称": "元旦"} for d in ("2027-01-01",)]
    )
    assert result.recomputed == 1
    assert cases.get_case(
        db, case.id, accounts.find_user(db, "admin") or _admin(db)
    ).due_date == before + dt.timedelta(days=1)


def _admin(db):
    return accounts.create_user(db, "admin", "管理员", "Passw0rd!x", [Role(role="admin")])


# --- states and who may change them ------------------------------------------------------------------


def test_the_full_path_with_history(db, people):
    clerk = people["dangban"]
    unit = db["units"].insert({"name": "后勤处（集团）", "kind": "department"}).last_pk
    case = _open(db, raised_by=people["visitor"].id, raiser_name="王小明", actor_id=clerk.id)
    assert (case.number, case.state, case.state_label) == ("2026-0001", "registered", "已登记")
    case = case_actions.refer(db, case.id, unit, clerk, "请核实")
    assert (case.state_label, case.handling_unit_name) == ("已转办", "后勤处（集团）")
    case = case_actions.start(db, case.id, clerk)
    case = case_actions.add_progress(db, case.id, "已与后勤沟通", clerk)
    case = case_actions.answer(db, case.id, "晚餐延长到 19:30", clerk)
    assert case.state == "answered" and case.answer == "晚餐延长到 19:30" and case.days_left is None
    case = case_actions.close(db, case.id, clerk)
    assert case.state_label == "已办结" and case.closed_at
    history = cases.events(db, case.id, clerk)
    assert [e.action for e in history] == ["opened", "referred", "started", "progress", "answered", "closed"]
    assert [e.to_state for e in history] == [
        "registered",
        "referred",
        "in_progress",
        "in_progress",
        "answered",
        "closed",
    ]
    assert all(e.user_id == clerk.id for e in history)


def test_history_is_append_only(db, people):
    case = _open(db)
    with pytest.raises(sqlite3.DatabaseError, match="只能追加"):
        db.execute("UPDATE case_events SET note = 'x' WHERE case_id = ?", [case.id])
    with pytest.raises(sqlite3.DatabaseError, match="只能追加"):
        db.execute("DELETE FROM case_events WHERE case_id = ?", [case.id])


def test_a_backdated_history_step_is_checked_and_shown(db, people):
    case = _open(db)
    case_history.record_history(
        db, case.id, "referred", "registered", "referred", "2026-11-20T10:00:00+08:00", None, "转办"
    )
    assert [(e.action, e.at[:10]) for e in cases.events(db, case.id, people["admin"])][-1] == (
        "referred",
        "2026-11-20",
    )
    before = db.execute("SELECT count(*) FROM case_events").fetchone()[0]
    with pytest.raises(ValidationError, match="未知的办理动作"):
        case_history.record_history(
            db, case.id, "teleported", "registered", "referred", "2026-11-20T10:00:00+08:00"
        )
    with pytest.raises(ValidationError, match="未知的办理状态"):
        case_history.record_history(
            db, case.id, "referred", "registered", "lost", "2026-11-20T10:00:00+08:00"
        )
    with pytest.raises(NotFound):
        case_history.record_history(
            db, 999, "referred", "registered", "referred", "2026-11-20T10:00:00+08:00"
        )
    assert db.execute("SELECT count(*) FROM case_events").fetchone()[0] == before


def test_only_the_responsible_department_and_admins_handle_a_case(db, people):
    case = _open(db, raised_by=people["visitor"].id)
    with pytest.raises(NotFound):  # another department does not even see it
        case_actions.answer(db, case.id, "答复", people["xuanchuan"])
    with pytest.raises(PermissionDenied):  # the visitor sees it but may not answer it
        case_actions.answer(db, case.id, "答复", people["visitor"])
    with pytest.raises(NotFound):
        cases.get_case(db, case.id, people["other"])
    assert case_actions.answer(db, case.id, "管理员答复", people["admin"]).state == "answered"
    assert cases.list_cases(db, people["xuanchuan"]) == []
    assert [c.id for c in cases.list_cases(db, people["dangban"])] == [case.id]


def test_a_cadre_sees_cases_from_his_contacts_read_only(demo_db):
    row = demo_db.execute(
        "SELECT c.id, u.id FROM cases c JOIN users u ON u.person_id = c.cadre_id "
        "WHERE c.state IN ('registered', 'referred', 'in_progress') ORDER BY c.id LIMIT 1"
    ).fetchone()
    cadre = accounts.get_user(demo_db, row[1])
    assert cadre.has("cadre")
    assert row[0] in [c.id for c in cases.list_cases(demo_db, cadre, scope="cadre")]
    assert cases.get_case(demo_db, row[0], cadre).id == row[0]
    with pytest.raises(PermissionDenied):
        case_actions.answer(demo_db, row[0], "我自己答复", cadre)


def test_transitions_out_of_order_are_refused(db, people):
    clerk = people["dangban"]
    case = _open(db)
    with pytest.raises(Conflict, match="已转办"):
        case_actions.start(db, case.id, clerk)  # not referred yet
    with pytest.raises(Conflict):
        case_actions.close(db, case.id, clerk)  # not answered
    case_actions.answer(db, case.id, "当场答复", clerk)  # a question answered on the spot
    with pytest.raises(Conflict):
        case_actions.answer(db, case.id, "再答复一次", clerk)
    with pytest.raises(ValidationError):
        case_actions.add_progress(db, case.id, "", clerk)
    assert [e.action for e in cases.events(db, case.id, clerk)] == ["opened", "answered"]


def test_the_department_reopens_within_the_window(db, people, monkeypatch):
    clerk = people["dangban"]
    case = _open(db, raised_by=people["visitor"].id)
    case_actions.answer(db, case.id, "已处理", clerk)
    with pytest.raises(ValidationError):
        case_actions.reopen(db, case.id, "", clerk)  # say why
    with pytest.raises(NotFound):  # another department's case
        case_actions.reopen(db, case.id, "再看看", people["xuanchuan"])
    monkeypatch.setenv("PORTAL_TODAY", "2026-11-26")
    again = case_actions.reopen(db, case.id, "答复有误，重新核实", clerk)
    assert again.state == "in_progress" and again.reopen_count == 1
    assert again.due_date == D(2026, 12, 10)  # 10 working days from the day it reopened
    assert cases.events(db, case.id, clerk)[-1].action == "reopened"
    # answered again; after the window it can no longer be reopened
    case_actions.answer(db, case.id, "再次处理", clerk)
    monkeypatch.setenv("PORTAL_TODAY", "2026-12-11")
    with pytest.raises(Conflict, match="超过"):
        case_actions.reopen(db, case.id, "电话反映仍未解决", clerk)


def test_a_reopened_case_keeps_its_base_when_recomputed(db, people, monkeypatch):
    clerk, visitor = people["dangban"], people["visitor"]
    case = _open(db, raised_by=visitor.id, contact_date=D(2026, 11, 2))
    case_actions.answer(db, case.id, "已处理", clerk)
    monkeypatch.setenv("PORTAL_TODAY", "2026-11-26")
    ratings.rate(db, case.id, "unsatisfied", visitor, "未解决")
    due = cases.get_case(db, case.id, clerk).due_date
    assert case_actions.recompute_due_dates(db) == 0
    assert cases.get_case(db, case.id, clerk).due_date == due


def test_the_answer_reaches_both_cadre_and_visitor(demo_db):
    clerk = accounts.find_user(demo_db, DEPARTMENT_ACCOUNTS["党办"])
    row = demo_db.execute(
        "SELECT c.id, c.raised_by, u.id FROM cases c JOIN users u ON u.person_id = c.cadre_id "
        "WHERE c.raised_by IS NOT NULL AND c.responsible_dept = '党办' "
        "AND c.state IN ('registered', 'referred', 'in_progress') ORDER BY c.id LIMIT 1"
    ).fetchone()
    if row is None:  # the demo has no open reception case of 党办: open one like the reception does
        visitor = accounts.get_user(
            demo_db, demo_db.execute("SELECT id FROM users WHERE username = '30000001'").fetchone()[0]
        )
        leader = demo_db.execute("SELECT id FROM people WHERE staff_no = '10000001'").fetchone()[0]
        made = _open(demo_db, source="reception", raised_by=visitor.id, cadre_id=leader)
        row = (
            made.id,
            visitor.id,
            demo_db.execute("SELECT id FROM users WHERE person_id = ?", [leader]).fetchone()[0],
        )
    visitor, cadre = accounts.get_user(demo_db, row[1]), accounts.get_user(demo_db, row[2])
    case_actions.answer(demo_db, row[0], "已协调解决", clerk)
    for reader in (visitor, cadre):
        assert row[0] in [c.id for c in cases.unread_answers(demo_db, reader)]
        assert case_actions.mark_read(demo_db, row[0], reader)
        assert not case_actions.mark_read(demo_db, row[0], reader)  # once
        assert row[0] not in [c.id for c in cases.unread_answers(demo_db, reader)]
    assert not case_actions.mark_read(demo_db, row[0], clerk)  # the department is not a reader


# --- supervision ------------------------------------------------------------------------------------


def test_overdue_and_at_risk_on_demo_data(demo_db):
    admin = accounts.find_user(demo_db, "admin")
    rows = demo_db.execute(
        "SELECT id, due_date FROM cases WHERE state IN ('registered', 'referred', 'in_progress')"
    ).fetchall()
    expected_overdue = {i for i, due in rows if due < TODAY.isoformat()}
    expected_risk = {
        i for i, due in rows if 0 <= workdays.working_days_left(demo_db, TODAY, D.fromisoformat(due)) <= 1
    }
    assert expected_overdue, "the demo should have overdue cases"
    listed = cases.list_cases(demo_db, admin, overdue_only=True)
    assert {c.id for c in listed} == expected_overdue
    assert [c.due_date for c in listed] == sorted(c.due_date for c in listed)
    every = cases.list_cases(demo_db, admin)
    assert {c.id for c in every if c.at_risk} == expected_risk
    assert cases.counts(every)["overdue"] == len(expected_overdue)
    assert all(c.flag.startswith("逾期") for c in listed)


def test_filters_and_department_scope(demo_db):
    clerk = accounts.find_user(demo_db, DEPARTMENT_ACCOUNTS["学工部"])
    mine = cases.list_cases(demo_db, clerk)
    assert mine and {c.responsible_dept for c in mine} == {"学工部"}
    expected = demo_db.execute("SELECT count(*) FROM cases WHERE responsible_dept = '学工部'").fetchone()[0]
    assert len(mine) == expected
    symposium = cases.list_cases(demo_db, clerk, source="symposium", states=["answered", "closed"])
    assert all(c.source == "symposium" and c.state in ("answered", "closed") for c in symposium)
    unit = next(c.handling_unit_id for c in mine if c.handling_unit_id)
    assert all(c.handling_unit_id == unit for c in cases.list_cases(demo_db, clerk, handling_unit_id=unit))


def test_the_list_takes_the_search_filters_and_refuses_a_misspelt_one(demo_db):
    """``cases.CaseFilter`` is one set of filters for the lists and the search: a date range and a
    system narrow the supervision list too; a misspelt filter is refused rather than ignored."""
    admin = accounts.find_user(demo_db, "admin")
    some = cases.list_cases(demo_db, admin)[0]
    day = some.contact_date
    chosen = cases.CaseFilter(system=some.system, since=day, until=day)
    narrowed = cases.list_cases(demo_db, admin, **chosen)
    assert some.id in {c.id for c in narrowed}
    assert all(c.system == some.system and c.contact_date == day for c in narrowed)
    with pytest.raises(TypeError):
        cases.list_cases(demo_db, admin, sytem=some.system)


def test_export_opens_back_with_overdue_rows_marked(demo_db):
    admin = accounts.find_user(demo_db, "admin")
    listed = cases.list_cases(demo_db, admin)
    wb = load_workbook(io.BytesIO(case_export.export_xlsx(listed)))
    ws = wb.active
    assert ws["A1"].value == "意见建议办理督办台账"
    header = [c.value for c in ws[3]]
    assert header[:3] == ["编号", "来源", "制度"] and ws.freeze_panes == "A4"
    data = list(ws.iter_rows(min_row=4, values_only=True))
    assert [r[0] for r in data] == [c.number for c in listed]
    first_overdue = next(i for i, c in enumerate(listed) if c.overdue)
    assert ws.cell(row=4 + first_overdue, column=1).fill.fgColor.rgb.endswith("FDE2E1")


def test_export_neutralises_formulas(db, people):
    case = _open(db, content='=HYPERLINK("http://x")')
    wb = load_workbook(io.BytesIO(case_export.export_xlsx([cases.get_case(db, case.id, people["admin"])])))
    # kept exactly as typed, as a text cell: Excel shows it and runs nothing
    assert wb.active["G4"].value == '=HYPERLINK("http://x")' and wb.active["G4"].data_type == "s"


def test_cli_lists_overdue_cases_as_json(demo_db, tmp_path):
    path = demo_db.execute("PRAGMA database_list").fetchone()[2]
    result = CliRunner().invoke(cli, ["--db", path, "cases", "--overdue", "--json"])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    expected = demo_db.execute(
        "SELECT number FROM cases WHERE state IN ('registered', 'referred', 'in_progress') AND due_date < ? "
        "ORDER BY due_date, number",
        [TODAY.isoformat()],
    ).fetchall()
    assert [c["number"] for c in listed] == [r[0] for r in expected]
    assert all(c["overdue"] for c in listed)
    later = CliRunner().invoke(cli, ["--db", path, "cases", "--overdue", "--on", "2027-06-01", "--json"])
    assert len(json.loads(later.stdout)) > len(listed)
    text = CliRunner().invoke(cli, ["--db", path, "cases"])
    assert text.exit_code == 0 and "逾期" in text.output


# --- reminders ------------------------------------------------------------------------------------


def test_mail_is_off_unless_configured():
    from portal import notify

    assert notify.config_from_env({}) is None
    cfg = notify.config_from_env(
        {
            "PORTAL_SMTP_HOST": "mail.example.edu.cn",
            "PORTAL_NOTIFY_TO": "duban@example.edu.cn",
            "PORTAL_NOTIFY_DEPARTMENTS": "党办=a@example.edu.cn, b@example.edu.cn;学工部=c@example.edu.cn",
        }
    )
    assert cfg.port == 25 and not cfg.starttls
    assert cfg.recipients("党办") == ["a@example.edu.cn", "b@example.edu.cn", "duban@example.edu.cn"]
    assert cfg.recipients("组织部") == ["duban@example.edu.cn"]


def test_reminders_go_to_each_department_through_the_transport(demo_db):
    from portal import notify

    class Outbox:
        def __init__(self):
            self.sent = []

        def send_message(self, msg):
            self.sent.append(msg)

    admin = accounts.find_user(demo_db, "admin")
    listed = cases.list_cases(demo_db, admin, states=list(cases.OPEN_STATES))
    cfg = notify.SmtpConfig(host="localhost", departments={"学工部": ["xg@example.edu.cn"]})
    outbox = Outbox()
    assert (
        notify.send(cfg, case_messages.digests(cfg, listed), transport=outbox) == 1
    )  # only 学工部 has an address
    msg = outbox.sent[0]
    flagged = [c for c in listed if c.responsible_dept == "学工部" and (c.overdue or c.at_risk)]
    assert msg["To"] == "xg@example.edu.cn" and f"逾期 {sum(c.overdue for c in flagged)} 件" in msg["Subject"]
    body = msg.get_content()
    assert all(c.number in body for c in flagged)
    assert all(c.content not in body for c in flagged)  # opinion texts stay in the portal


def test_days_left_agree_with_the_calendar_module(db):
    """The bulk count used for lists gives what ``workdays.working_days_left`` gives, holidays included."""
    lo, hi = D(2026, 9, 1), D(2026, 11, 30)
    bulk = cases._DaysLeft(workdays.calendar(db, lo, hi), lo, hi)
    days = [lo + dt.timedelta(days=i) for i in range(0, (hi - lo).days + 1, 3)]
    for today in days[::4]:
        for due in days:
            assert bulk(today, due) == workdays.working_days_left(db, today, due), (today, due)


def test_a_misrouted_case_is_transferred_with_its_deadline(db, people):
    case = _open(db, raised_by=people["visitor"].id)
    with pytest.raises(NotFound):
        case_actions.transfer(db, case.id, "党办", people["xuanchuan"])
    moved = case_actions.transfer(db, case.id, "宣传部", people["dangban"], "属宣传工作")
    assert moved.responsible_dept == "宣传部" and moved.due_date == case.due_date
    with pytest.raises(NotFound):  # 党办 no longer handles (or sees) it
        case_actions.answer(db, case.id, "答复", people["dangban"])
    assert case_actions.answer(db, case.id, "已答复", people["xuanchuan"]).state == "answered"
    assert [e.action for e in cases.events(db, case.id, people["admin"])] == [
        "opened",
        "transferred",
        "answered",
    ]
    with pytest.raises(ValidationError):
        case_actions.transfer(db, _open(db).id, "保卫处", people["dangban"])
