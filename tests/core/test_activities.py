"""Contact activities: logging, validation in Chinese, scope, history, voiding, cases, imports."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from portal import accounts, activities, activity_recording, case_opening, imports, org
from portal.activities import ActivityInput
from portal.errors import ImportRejected, PermissionDenied, ValidationError

TODAY = dt.date(2026, 11, 24)


def user(db, name):
    return accounts.find_user(db, name)


def person(db, staff_no):
    return org.person_by_staff_no(db, staff_no).id


def assigned(db, staff_no, kind):
    row = db.execute(
        "SELECT target_code, target_name FROM assignments a JOIN people p ON p.id = a.cadre_id "
        "WHERE p.staff_no = ? AND a.kind = ? AND a.end_date IS NULL ORDER BY a.id LIMIT 1",
        [staff_no, kind],
    ).fetchone()
    assert row, (staff_no, kind)
    return row


def lecture(db, staff_no="10010001", **kw):
    base = dict(
        cadre_id=person(db, staff_no),
        system="听课",
        subtype="听课",
        date=TODAY,
        content="随机听课《高等数学》",
    )
    return ActivityInput(**{**base, **kw})


@pytest.fixture
def fake_cases(monkeypatch):
    """Record open_case calls (the cases feature owns portal.case_opening; here only its contract matters)."""

    calls = []

    def open_case(db, **kw):
        calls.append(kw)
        return SimpleNamespace(id=len(calls))  # what the caller reads of the Case it returns

    monkeypatch.setattr(case_opening, "open_case", open_case)  # on the real module: never swap the module
    return calls


def test_cadre_logs_his_own_with_targets_history_and_who_entered_it(demo_db):
    leader = user(demo_db, "10000001")
    code, name = assigned(demo_db, "10000001", "高层次人才")
    saved = activity_recording.log_activity(
        demo_db,
        ActivityInput(
            cadre_id=leader.person_id,
            system="联系高层次人才",
            subtype="走访",
            date=TODAY,
            place="重点实验室",
            target_codes=[code],
            content="走访，了解团队需要",
        ),
        leader,
    )
    assert saved.entered_by == leader.id and saved.entered_by_name == leader.display_name
    assert saved.target_codes == [code] and saved.counterpart_text == name  # derived for the form
    rows = demo_db.execute(
        "SELECT target_code FROM activity_targets WHERE activity_id = ?", [saved.id]
    ).fetchall()
    assert [r[0] for r in rows] == [code]
    assert [h.action for h in activities.history(demo_db, saved.id, leader)] == ["created"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (dict(date=TODAY + dt.timedelta(days=1)), "在今天之后"),
        (dict(system="喝茶"), "未知的制度"),
        (dict(subtype="座谈"), "没有类别"),
        (dict(hours=2), "只有“讲思政课—思政课授课”填写课时"),
        (dict(content=""), "请填写联系工作开展情况"),
        (dict(content="正常\x07响铃"), "控制字符"),
        (dict(place="地" * 101), "过长"),
        (dict(opinions=["好"] * 21), "最多 20 条"),
        (dict(target_codes=["30000001"]), "不需要选择"),
    ],
)
def test_validation_messages_are_chinese_and_nothing_is_written(demo_db, change, message):
    before = demo_db.execute("SELECT count(*) FROM activities").fetchone()[0]
    with pytest.raises(ValidationError, match=message):
        activity_recording.log_activity(demo_db, lecture(demo_db, **change), user(demo_db, "10010001"))
    assert demo_db.execute("SELECT count(*) FROM activities").fetchone()[0] == before


@pytest.mark.parametrize(
    ("hours", "ok"),
    [
        (0.5, True),
        (8, True),
        (2.5, True),
        (0.4, False),
        (8.5, False),
        (1.3, False),
        (0, False),
        (float("nan"), False),
        (float("inf"), False),
    ],
)
def test_class_hours_only_half_to_eight_for_ideology_lessons(demo_db, hours, ok):
    data = lecture(demo_db, "10000001", system="讲思政课", subtype="思政课授课", hours=hours)
    if ok:
        assert activity_recording.log_activity(demo_db, data, user(demo_db, "10000001")).hours == hours
    else:
        with pytest.raises(ValidationError, match="课时应在 0.5–8 之间"):
            activity_recording.log_activity(demo_db, data, user(demo_db, "10000001"))


def test_targets_must_be_the_cadres_own_and_current(demo_db):
    leader = user(demo_db, "10000001")
    others_code, _ = assigned(demo_db, "10000002", "结对子")
    data = lecture(demo_db, "10000001", system="联系基层", subtype="结对子", target_codes=[others_code])
    with pytest.raises(ValidationError, match="不是该干部的结对子"):
        activity_recording.log_activity(demo_db, data, leader)
    with pytest.raises(ValidationError, match="请选择本次结对子的结对子"):
        activity_recording.log_activity(demo_db, data.model_copy(update={"target_codes": []}), leader)
    own, _ = assigned(demo_db, "10000001", "结对子")
    before_start = data.model_copy(update={"target_codes": [own], "date": dt.date(2025, 8, 1)})
    with pytest.raises(ValidationError, match="联系期 2025-09-01 起"):
        activity_recording.log_activity(demo_db, before_start, leader)
    assert activity_recording.log_activity(
        demo_db, data.model_copy(update={"target_codes": [own]}), leader
    ).id


def test_talks_name_people_by_staff_number_not_oneself(demo_db):
    leader = user(demo_db, "10000001")
    data = lecture(demo_db, "10000001", system="谈心谈话", subtype="谈心谈话")
    with pytest.raises(ValidationError, match="请选择谈话对象"):
        activity_recording.log_activity(demo_db, data, leader)
    with pytest.raises(ValidationError, match="不存在"):
        activity_recording.log_activity(
            demo_db, data.model_copy(update={"target_codes": ["99999999"]}), leader
        )
    with pytest.raises(ValidationError, match="不能是本人"):
        activity_recording.log_activity(
            demo_db, data.model_copy(update={"target_codes": ["10000001"]}), leader
        )
    saved = activity_recording.log_activity(
        demo_db, data.model_copy(update={"target_codes": ["10000002"]}), leader
    )
    assert saved.counterpart_text == org.person_by_staff_no(demo_db, "10000002").name


def test_a_cadre_cannot_log_see_edit_or_void_anothers(demo_db):
    me, other = user(demo_db, "10010001"), user(demo_db, "10010002")
    with pytest.raises(PermissionDenied):
        activity_recording.log_activity(demo_db, lecture(demo_db, "10010002"), me)
    theirs = activity_recording.log_activity(demo_db, lecture(demo_db, "10010002"), other)
    with pytest.raises(PermissionDenied):
        activities.get_activity(demo_db, theirs.id, me)
    with pytest.raises(PermissionDenied):
        activity_recording.update_activity(demo_db, theirs.id, {"place": "改"}, me)
    with pytest.raises(PermissionDenied):
        activity_recording.void_activity(demo_db, theirs.id, "不是我的", me)
    assert all(a.cadre_id == me.person_id for a in activities.list_activities(demo_db, me))
    assert theirs.id not in {a.id for a in activities.list_activities(demo_db, me, cadre_id=other.person_id)}


def test_departments_log_on_behalf_and_see_only_their_systems(demo_db):
    jiaowu, dangban = user(demo_db, "jiaowu"), user(demo_db, "dangban")
    saved = activity_recording.log_activity(demo_db, lecture(demo_db), jiaowu)
    assert saved.entered_by == jiaowu.id and saved.cadre_staff_no == "10010001"
    with pytest.raises(PermissionDenied):
        activity_recording.log_activity(demo_db, lecture(demo_db, system="座谈", subtype="学生座谈"), jiaowu)
    assert {a.system for a in activities.list_activities(demo_db, jiaowu)} == {"听课", "讲思政课"}
    assert {a.system for a in activities.list_activities(demo_db, dangban)} <= {
        "调查研究",
        "联系基层",
        "接待日",
    }
    with pytest.raises(PermissionDenied):
        activities.get_activity(demo_db, saved.id, dangban)
    with pytest.raises(PermissionDenied):
        activities.list_activities(demo_db, user(demo_db, "2023000001"))  # a student
    everything = activities.list_activities(demo_db, user(demo_db, "admin"))
    assert (
        len(everything)
        == demo_db.execute("SELECT count(*) FROM activities WHERE voided_at IS NULL").fetchone()[0]
    )


def test_edits_keep_history_and_void_keeps_the_row(demo_db):
    me = user(demo_db, "10010001")
    saved = activity_recording.log_activity(demo_db, lecture(demo_db, place="理科楼"), me)
    edited = activity_recording.update_activity(
        demo_db, saved.id, {"place": "工科楼", "followup": "已反馈教务处"}, me
    )
    assert edited.place == "工科楼"
    with pytest.raises(ValidationError, match="不能更改"):
        activity_recording.update_activity(demo_db, saved.id, {"cadre_id": person(demo_db, "10010002")}, me)
    with pytest.raises(ValidationError, match="作废原因"):
        activity_recording.void_activity(demo_db, saved.id, "  ", me)
    voided = activity_recording.void_activity(demo_db, saved.id, "重复录入", me)
    assert voided.voided and voided.void_reason == "重复录入"
    with pytest.raises(ValidationError, match="已作废"):
        activity_recording.update_activity(demo_db, saved.id, {"place": "又改"}, me)
    history = activities.history(demo_db, saved.id, me)
    assert [h.action for h in history] == ["created", "edited", "voided"]
    assert [h.snapshot["place"] for h in history] == ["理科楼", "工科楼", "工科楼"]
    assert saved.id not in {a.id for a in activities.list_activities(demo_db, me)}
    assert saved.id in {a.id for a in activities.list_activities(demo_db, me, include_voided=True)}


def test_each_opinion_opens_a_case_with_the_right_department(demo_db, fake_cases):
    me = user(demo_db, "10010001")
    data = lecture(demo_db, system="座谈", subtype="学生座谈", opinions=["自习座位不足", "  ", "热水不稳定"])
    saved = activity_recording.log_activity(demo_db, data, me)
    assert saved.opinions == ["自习座位不足", "热水不稳定"]
    assert saved.opinions_text == "1. 自习座位不足\n2. 热水不稳定"
    assert [c["content"] for c in fake_cases] == ["自习座位不足", "热水不稳定"]
    first = fake_cases[0]
    assert first["source"] == "symposium" and first["responsible_dept"] == "学工部"
    assert (
        first["activity_id"] == saved.id and first["cadre_id"] == me.person_id and first["actor_id"] == me.id
    )
    assert first["contact_date"] == TODAY and first["system"] == "座谈"
    activity_recording.log_activity(
        demo_db, data.model_copy(update={"subtype": "教师座谈", "opinions": ["经费"]}), me
    )
    assert fake_cases[-1]["responsible_dept"] == "宣传部"
    activity_recording.log_activity(demo_db, lecture(demo_db, opinions=["投影仪暗"]), me)
    assert fake_cases[-1]["source"] == "other" and fake_cases[-1]["responsible_dept"] == "教务处"
    leader = user(demo_db, "10000001")
    activity_recording.log_activity(
        demo_db, lecture(demo_db, "10000001", system="接待日", subtype="接待", opinions=["宿舍"]), leader
    )
    assert fake_cases[-1]["source"] == "reception" and fake_cases[-1]["responsible_dept"] == "党办"
    # an edit that adds an item opens one more, carrying who raised it when the caller knows
    count = len(fake_cases)
    visitor = user(demo_db, "2023000001")
    raisers = {"食堂排队": case_opening.Raiser(user_id=visitor.id, name="张同学", department="校办")}
    activity_recording.update_activity(
        demo_db, saved.id, {"opinions": [*saved.opinions, "食堂排队"]}, me, raisers=raisers
    )
    assert len(fake_cases) == count + 1 and fake_cases[-1]["content"] == "食堂排队"
    assert fake_cases[-1]["raised_by"] == visitor.id and fake_cases[-1]["raiser_name"] == "张同学"
    assert fake_cases[-1]["responsible_dept"] == "校办" and fake_cases[-1]["activity_id"] == saved.id


def test_opinions_round_trip_through_the_text_column():
    items = ["第一条\n有两行", "第二条 <b>&", "3. 看似编号"]
    assert activities.split_opinions(activities.join_opinions(items)) == items
    assert activities.split_opinions(activities.join_opinions(["只有一条"])) == ["只有一条"]
    assert activities.split_opinions("1. 孤零零的编号") == ["1. 孤零零的编号"]


# --- imports -------------------------------------------------------------------------------


def load(db, kind, text):
    return imports.run_import(db, kind, "x.csv", text.encode("utf-8-sig"))


def test_activity_import_is_all_or_nothing_reports_every_row_and_is_idempotent(demo_db, fake_cases):
    talent, _ = assigned(demo_db, "10000001", "高层次人才")
    good = (
        "工号,制度,类别,日期,对象编号,课时,开展情况,意见建议,落实情况\n"
        f'10000001,联系高层次人才,走访,2026-03-02,{talent},,走访,"1. 仪器\n2. 经费",已协调\n'
        "10000001,讲思政课,思政课授课,2026-03-03,,2,讲形势与政策,,\n"
    )
    bad = good + (
        "10000001,讲思政课,思政课授课,2026-03-04,,9,课时太多,,\n"
        "99999999,听课,听课,2026-03-04,,,查无此人,,\n"
        "10000001,听课,听课,2027-01-01,,,将来,,\n"
        "10000001,联系基层,结对子,2026-03-05,NOPE,,不是他的,,\n"
    )
    before = demo_db.execute("SELECT count(*) FROM activities").fetchone()[0]
    with pytest.raises(ImportRejected) as err:
        load(demo_db, "activities", bad)
    assert [(e.row, e.column) for e in err.value.errors] == [
        (4, "课时"),  # rows as the spreadsheet shows them: a cell with a line break is still one row
        (5, "工号"),
        (6, "日期"),
    ]
    # a target not assigned to the cadre is history, not an error: a warning on its row (issue 11)
    assert [(w.row, w.column) for w in err.value.warnings] == [(7, "对象编号")]
    assert demo_db.execute("SELECT count(*) FROM activities").fetchone()[0] == before
    report = load(demo_db, "activities", good)
    assert report.counts["created"] == 2
    assert load(demo_db, "activities", good).counts["unchanged"] == 2
    assert fake_cases == []  # imported history opens no cases
    row = demo_db.execute(
        "SELECT source, opinions, import_key FROM activities WHERE content = '走访' AND date = '2026-03-02'"
    ).fetchone()
    assert row[0] == "import" and row[1] == "1. 仪器\n2. 经费"
    assert row[2] == activities.import_key(
        "10000001", "2026-03-02", "联系高层次人才", "走访", [talent], "走访"
    )
    changed = load(
        demo_db, "activities", good.replace("已协调", "已解决")
    )  # the key holds; 落实情况 moves on
    assert (changed.counts["updated"], changed.counts["unchanged"], changed.counts["created"]) == (1, 1, 0)
    history = demo_db.execute(
        "SELECT h.action FROM activity_history h JOIN activities a ON a.id = h.activity_id "
        "WHERE a.content = '走访' AND a.date = '2026-03-02' ORDER BY h.id"
    ).fetchall()
    assert [r[0] for r in history] == ["created", "edited"]


def test_assignment_import_adds_missing_list_entries_and_is_idempotent(demo_db):
    sheet = (
        "工号,对象类型,对象编号,对象名称,开始日期,结束日期\n"
        "10010001,高层次人才,30000099,新教授,2026-01-01,\n"
        "10010001,联系点,CLS-1,测试2026级1班,2026-01-01,\n"
    )
    assert load(demo_db, "assignments", sheet).counts["created"] == 2
    assert (
        demo_db.execute("SELECT name FROM contact_targets WHERE code = '30000099'").fetchone()[0] == "新教授"
    )
    assert load(demo_db, "assignments", sheet).counts["unchanged"] == 2
    bad = (
        sheet
        + "10010001,联系学院,不存在学院,x,2026-01-01,\n10010001,宠物,1,x,2026-01-01,\n10010001,联系点,CLS-1,重复,2026-01-01,\n"
    )
    with pytest.raises(ImportRejected) as err:
        load(demo_db, "assignments", bad)
    assert [(e.row, e.column) for e in err.value.errors] == [(4, "对象编号"), (5, "对象类型"), (6, "")]


def test_period_keys(demo_db):
    assert activities.period_range(demo_db, "2026-03") == (dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    assert activities.period_range(demo_db, "2026")[1] == dt.date(2026, 12, 31)
    with pytest.raises(ValidationError):
        activities.period_range(demo_db, "2026-13")


def test_opinions_become_cases_in_the_cases_feature(demo_db):
    """With the real portal.cases: one case per item, due by docs/rules.md §5, linked to the activity."""
    me = user(demo_db, "10010001")
    saved = activity_recording.log_activity(
        demo_db,
        lecture(demo_db, system="座谈", subtype="学生座谈", opinions=["自习座位不足", "热水不稳定"]),
        me,
    )
    rows = demo_db.execute(
        "SELECT source, content, responsible_dept, cadre_id, system, contact_date, deadline_days FROM cases "
        "WHERE activity_id = ? ORDER BY id",
        [saved.id],
    ).fetchall()
    assert [tuple(r) for r in rows] == [
        ("symposium", "自习座位不足", "学工部", me.person_id, "座谈", TODAY.isoformat(), 10),
        ("symposium", "热水不稳定", "学工部", me.person_id, "座谈", TODAY.isoformat(), 10),
    ]
    activity_recording.update_activity(demo_db, saved.id, {"opinions": ["自习座位不足"]}, me)
    states_now = demo_db.execute(
        "SELECT state FROM cases WHERE activity_id = ? ORDER BY id", [saved.id]
    ).fetchall()
    assert [r[0] for r in states_now] == ["registered", "withdrawn"]  # the removed item is withdrawn


def test_a_logged_activity_counts_at_once_and_a_voided_one_stops_counting(demo_db):
    from portal import quota

    me = user(demo_db, "10010001")

    def done():
        (row,) = [
            r
            for r in quota.compute(demo_db, staff_no="10010001", period="2026-2027")
            if r.rule == "lecture.base"
        ]
        return row.done

    before = done()
    saved = activity_recording.log_activity(demo_db, lecture(demo_db), me)
    assert done() == before + 1
    activity_recording.void_activity(demo_db, saved.id, "误录", me)
    assert done() == before


def test_activity_import_from_xlsx_with_date_and_number_cells(demo_db):
    import io

    from openpyxl import Workbook

    talent, _ = assigned(demo_db, "10000001", "高层次人才")
    wb = Workbook()
    ws = wb.active
    ws.append(["工号", "制度", "类别", "日期", "对象编号", "课时", "开展情况"])
    ws.append(
        [10000001, "联系高层次人才", "走访", dt.datetime(2026, 4, 1), int(talent), None, "走访（Excel）"]
    )
    ws.append([10000001, "讲思政课", "思政课授课", dt.date(2026, 4, 2), None, 1.5, "讲课（Excel）"])
    buf = io.BytesIO()
    wb.save(buf)
    report = imports.run_import(demo_db, "activities", "history.xlsx", buf.getvalue())
    assert report.counts["created"] == 2
    rows = demo_db.execute(
        "SELECT date, hours FROM activities WHERE content LIKE '%（Excel）' ORDER BY date"
    ).fetchall()
    assert [tuple(r) for r in rows] == [("2026-04-01", 0.0), ("2026-04-02", 1.5)]
