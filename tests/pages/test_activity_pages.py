"""The activity pages through AppTest: logging each system, editing, voiding, and who sees what."""

from __future__ import annotations

import zipfile
from types import SimpleNamespace

import pytest

from pages.common import answer_key
from portal import accounts, activities, assignments, org
from portal.policy import policy
from tests.conftest import errors_under, goto, login, texts

# (system, subtype, the widget that names targets or None, the assignment kind to pick from)
EACH_SYSTEM = [
    ("调查研究", "实地调研", None, None),
    ("联系基层", "联系学院", "targets", "联系学院"),
    ("接待日", "接待", None, None),
    ("讲思政课", "思政课授课", None, None),
    ("听课", "思政课听课", None, None),
    ("座谈", "学生座谈", None, None),
    ("谈心谈话", "谈心谈话", "counterparts", None),
    ("联系师生党支部", "组织生活", "targets", "党支部"),
    ("联系高层次人才", "走访", "targets", "高层次人才"),
    ("联系党外代表人士", "交流谈心", "targets", "党外代表人士"),
    ("联系离退休老同志", "走访", "targets", "离退休老同志"),
]


@pytest.fixture
def fake_cases(monkeypatch):
    """Record open_case calls on the real module (never swap the module: whatever imports it meanwhile
    would keep the fake for the rest of the run)."""
    from portal import case_opening

    calls = []

    def open_case(db, **kw):
        calls.append(kw)
        return SimpleNamespace(id=len(calls))  # what the caller reads of the Case it returns

    monkeypatch.setattr(case_opening, "open_case", open_case)
    return calls


def submit(at, label="保存"):
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception, at.exception


def count(db, **where):
    sql = "SELECT count(*) FROM activities a JOIN people p ON p.id = a.cadre_id WHERE a.voided_at IS NULL"
    params = []
    for column, value in where.items():
        sql += f" AND {column} = ?"
        params.append(value)
    return db.execute(sql, params).fetchone()[0]


def test_a_leader_logs_one_activity_of_each_system(demo_db, fake_cases):
    assert [s for s, *_ in EACH_SYSTEM] == policy().system_names
    leader = accounts.find_user(demo_db, "10000001")
    at = login("10000001")
    goto(at, "pages/activity_form.py").run()
    for system, subtype, widget, kind in EACH_SYSTEM:
        at.selectbox(key="system").select(system).run()
        at.selectbox(key="subtype").select(subtype).run()
        if widget == "targets":
            code = assignments.list_assignments(
                demo_db, cadre_id=leader.person_id, kind=kind, active_on=None
            )[0]
            at.multiselect(key="targets").select(code.target_code)
        elif widget == "counterparts":
            at.multiselect(key="counterparts").select("10000002")
        if subtype == "思政课授课":
            at.number_input(key="hours").set_value(2.5)
        at.text_input(key="place").input("行政楼")
        at.text_area(key="content").input(f"{system}：测试记录")
        if system == "座谈":
            at.text_area(key="opinions").input("自习室座位不足\n食堂排队太久")
        before = count(demo_db, **{"p.staff_no": "10000001", "a.system": system})
        submit(at)
        at.run()  # the page's st.rerun() after saving: AppTest does not follow it by itself
        assert "已保存" in texts(at), (system, [e.value for e in at.error])
        assert count(demo_db, **{"p.staff_no": "10000001", "a.system": system}) == before + 1, system
        saved = activities.list_activities(demo_db, leader, cadre_id=leader.person_id, limit=1)[0]
        assert any(b.label == "下载记录表（Word）" for b in at.get("download_button"))  # replaces the form
        submit(at, "记录下一条")
        assert at.text_area(key="content").value == ""  # an empty form for the next one
        assert (saved.system, saved.subtype, saved.content) == (system, subtype, f"{system}：测试记录")
        assert saved.entered_by == leader.id
        if widget:
            assert saved.target_codes, system
        if subtype == "思政课授课":
            assert saved.hours == 2.5
    assert [c["content"] for c in fake_cases] == ["自习室座位不足", "食堂排队太久"]
    assert {c["responsible_dept"] for c in fake_cases} == {"学工部"}


def test_validation_errors_show_in_chinese_and_save_nothing(demo_db):
    at = login("10010001")
    goto(at, "pages/activity_form.py").run()
    at.selectbox(key="system").select("讲思政课").run()
    at.selectbox(key="subtype").select("集体备课").run()
    before = count(demo_db)
    submit(at)  # no 开展情况
    assert "请填写联系工作开展情况" in texts(at)
    assert count(demo_db) == before


def test_department_logs_on_behalf_only_for_its_systems(demo_db):
    at = login("jiaowu")
    goto(at, "pages/activity_form.py").run()
    assert at.selectbox(key="system").options == ["讲思政课", "听课"]
    cadre = org.person_by_staff_no(demo_db, "10010005")
    at.selectbox(key="cadre").select(cadre.id).run()
    at.selectbox(key="system").select("听课").run()
    at.text_area(key="content").input("随机听课，课后反馈")
    submit(at)
    at.run()
    assert "已保存" in texts(at)
    row = demo_db.execute(
        "SELECT u.username FROM activities a JOIN users u ON u.id = a.entered_by WHERE a.cadre_id = ? "
        "ORDER BY a.id DESC LIMIT 1",
        [cadre.id],
    ).fetchone()
    assert row[0] == "jiaowu"  # the record keeps who entered it
    goto(at, "pages/activities.py").run()
    assert at.selectbox(key="f_system").options == ["全部", "讲思政课", "听课"]
    assert set(at.dataframe[0].value["制度"]) <= {"讲思政课", "听课"}


def test_a_cadre_sees_and_edits_only_his_own(demo_db):
    me = accounts.find_user(demo_db, "10010001")
    at = login("10010001")
    goto(at, "pages/activities.py").run()
    assert not at.exception
    shown = set(at.dataframe[0].value["编号"])
    mine = {a.id for a in activities.list_activities(demo_db, me, since=None)}
    assert shown and shown <= mine
    others = demo_db.execute(
        "SELECT id FROM activities WHERE cadre_id != ? LIMIT 1", [me.person_id]
    ).fetchone()[0]
    assert others not in [int(o.split("｜")[0]) for o in at.selectbox(key="chosen").options]
    assert "f_cadre" not in [s.key for s in at.selectbox]  # no picking other cadres


def test_edit_with_history_then_void_with_reason(demo_db):
    me = accounts.find_user(demo_db, "10010001")
    target = activities.list_activities(demo_db, me)[0]
    at = login("10010001")
    goto(at, "pages/activities.py").run()
    at.selectbox(key="chosen").select(target.id).run()
    at.text_input(key=f"e_place_{target.id}").input("新地点 <b>")
    submit(at, "保存修改")
    assert "已保存修改" in texts(at)
    assert activities.get_activity(demo_db, target.id, me).place == "新地点 <b>"
    assert [h.action for h in activities.history(demo_db, target.id, me)][-1] == "edited"
    at.run()
    at.text_input(key=f"void_reason_{target.id}").input("重复录入")
    next(b for b in at.button if b.label == "作废此记录").click().run()
    assert not at.exception, at.exception
    assert not activities.get_activity(demo_db, target.id, me).voided  # the button only asks
    assert at.session_state["_confirm_void"] == {"activity_id": target.id, "reason": "重复录入"}
    at.session_state[answer_key("void")] = True  # the dialog's 确认作废 (out of AppTest's reach)
    at.run()
    assert "已作废" in texts(at)
    voided = activities.get_activity(demo_db, target.id, me)
    assert voided.voided and voided.void_reason == "重复录入"


def test_batch_export_from_the_page(demo_db):
    at = login("10010001")
    goto(at, "pages/activities.py").run()
    next(b for b in at.button if b.label == "生成压缩包").click().run()
    assert not at.exception
    from tests.pages.test_long_exports import finish, of

    finish("10010001", "forms")
    at.run()
    built = of("10010001", "forms")[-1]
    names = zipfile.ZipFile(built.result).namelist()  # a file, not session bytes
    assert len(names) == len(at.dataframe[0].value) > 0 and all(n.endswith(".docx") for n in names)
    assert any(b.label == "下载压缩包" for b in at.get("download_button"))


def test_assignments_page_for_a_department_and_for_a_cadre(demo_db):
    at = login("zuzhi")
    goto(at, "pages/assignments.py").run()
    assert "您可以维护：党支部、高层次人才、离退休老同志" in texts(at)
    assert at.selectbox(key="a_kind").options == ["党支部", "高层次人才", "离退休老同志"]
    at.selectbox(key="a_kind").select("高层次人才").run()
    cadre = org.person_by_staff_no(demo_db, "10010003")
    at.selectbox(key="a_cadre").select(cadre.id)
    talent = assignments.list_targets(demo_db, "高层次人才")[-1]
    at.selectbox(key="a_code").select(talent.code)
    submit(at)
    assert "已添加" in texts(at) or "没有变化" in texts(at)
    held = assignments.list_assignments(demo_db, cadre_id=cadre.id, kind="高层次人才")
    assert talent.code in {a.target_code for a in held}

    at = login("10010003")
    goto(at, "pages/assignments.py").run()
    assert "本人的联系对象由" in texts(at)
    assert set(at.dataframe[0].value["工号"]) == {"10010003"}
    assert not [b for b in at.button if b.label == "保存"]  # read-only


def test_naming_more_than_three_targets_asks_first_and_select_all_is_not_offered(demo_db):
    """A cadre once tapped the multiselect's first row, the English "Select all", and the record (and
    its Word form) named every college. The target lists offer no select-all, and a record naming
    more than three targets is saved only after a confirmation that lists them."""
    leader = accounts.find_user(demo_db, "10000003")
    held = assignments.list_assignments(demo_db, cadre_id=leader.person_id, kind="联系学院")
    assert len(held) > activities.MANY_TARGETS
    at = login("10000003")
    goto(at, "pages/activity_form.py").run()
    at.selectbox(key="system").select("联系基层").run()
    at.selectbox(key="subtype").select("联系学院").run()
    box = at.multiselect(key="targets")
    assert box.proto.select_all == 0  # no "Select all" row at all
    for a in held:
        box.select(a.target_code)
    at.text_area(key="content").input("走访各联系学院")
    before = count(demo_db, **{"p.staff_no": "10000003"})
    submit(at)
    assert count(demo_db, **{"p.staff_no": "10000003"}) == before  # not saved yet: asked first
    asked = at.session_state["_confirm_many_targets"]
    assert len(asked["names"]) == len(held)
    at.session_state[answer_key("many_targets")] = True  # 确认 in the dialog
    at.run()
    at.run()  # the page's st.rerun() after saving
    assert not at.exception, at.exception
    assert count(demo_db, **{"p.staff_no": "10000003"}) == before + 1
    saved = activities.list_activities(demo_db, leader, cadre_id=leader.person_id, limit=1)[0]
    assert sorted(saved.target_codes) == sorted(a.target_code for a in held)


def test_three_targets_or_fewer_save_at_once(demo_db):
    leader = accounts.find_user(demo_db, "10000003")
    held = assignments.list_assignments(demo_db, cadre_id=leader.person_id, kind="联系学院")
    at = login("10000003")
    goto(at, "pages/activity_form.py").run()
    at.selectbox(key="system").select("联系基层").run()
    at.selectbox(key="subtype").select("联系学院").run()
    for a in held[: activities.MANY_TARGETS]:
        at.multiselect(key="targets").select(a.target_code)
    at.text_area(key="content").input("走访联系学院")
    before = count(demo_db, **{"p.staff_no": "10000003"})
    submit(at)
    at.run()
    assert count(demo_db, **{"p.staff_no": "10000003"}) == before + 1


def test_every_problem_of_a_refused_record_shows_at_once_beside_its_field(demo_db):
    at = login("10000003")
    goto(at, "pages/activity_form.py").run()
    at.selectbox(key="system").select("联系基层").run()
    at.selectbox(key="subtype").select("联系学院").run()
    at.text_area(key="opinions").input("\n".join(f"第{n}条意见" for n in range(activities.MAX_OPINIONS + 1)))
    before = count(demo_db)
    submit(at)  # no target, no 开展情况, too many opinions
    assert count(demo_db) == before
    assert any("请选择本次联系学院" in m for m in errors_under(at, "targets"))
    assert errors_under(at, "content") == ["请填写联系工作开展情况"]
    assert errors_under(at, "opinions") == [f"意见建议最多 {activities.MAX_OPINIONS} 条"]
    assert errors_under(at, "place") == []
    assert "有 3 处需要修改" in texts(at)
