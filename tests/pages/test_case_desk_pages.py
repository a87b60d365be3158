"""意见建议办理 as a department works it all day (issue 20 item 3): 内部备注, 常用答复 and 合并 on the page."""

from __future__ import annotations

import datetime as dt

import pytest

from pages.common import answer_key
from portal import accounts, answer_templates, case_opening, cases
from tests.conftest import goto, login, texts

DAY = dt.date(2026, 11, 18)


@pytest.fixture
def raised(demo_db):
    """Two 党办 cases raised by two visitors at a reception, about the same thing."""

    def case(username: str, content: str) -> cases.Case:
        visitor = accounts.find_user(demo_db, username)
        return case_opening.open_case(
            demo_db,
            source="reception",
            content=content,
            responsible_dept="党办",
            contact_date=DAY,
            system="接待日",
            raised_by=visitor.id,
            raiser_name=visitor.display_name,
        )

    return case("30000001", "东区浴室热水时有时无"), case("30000002", "东区浴室没有热水")


def _open(at, case):
    at.selectbox(key="c_case").set_value(case.id).run()
    assert not at.exception, at.exception
    return at


def test_an_internal_note_is_kept_for_the_department_and_never_shown_to_the_raiser(demo_db, raised):
    case, _ = raised
    at = _open(goto(login("dangban"), "pages/cases.py").run(), case)
    at.text_area(key=f"note_{case.id}").input("已电话联系后勤处王科长")
    at.button(key=f"note_btn_{case.id}").click().run()
    assert not at.exception, at.exception
    assert "已添加内部备注" in texts(at)
    assert "已电话联系后勤处王科长" in texts(at)  # under 内部备注, and in the history
    history = at.dataframe[-1].value
    assert "内部备注" in list(history["操作"])
    raiser = goto(login("30000001"), "pages/my_cases.py").run()
    assert not raiser.exception, raiser.exception
    assert case.content in texts(raiser) and "王科长" not in texts(raiser)


def test_a_template_fills_the_answer_which_is_sent_as_edited(demo_db, raised):
    case, _ = raised
    at = goto(login("dangban"), "pages/cases.py").run()
    form_title = next(t for t in at.text_input if t.label == "标题")
    form_title.input("转后勤")
    next(t for t in at.text_area if t.label == "答复内容").input("{提出人}老师您好：{编号}已转后勤处维修。")
    next(b for b in at.button if b.label == "保存").click().run()
    assert not at.exception, at.exception
    dangban = accounts.find_user(demo_db, "dangban")
    template = next(t for t in answer_templates.list_templates(demo_db, "党办") if t.title == "转后勤")
    _open(at, case)
    at.selectbox(key=f"template_{case.id}").set_value(template.id).run()
    filled = at.text_area(key=f"answer_{case.id}").value
    assert filled == f"{case.raiser_name}老师您好：{case.number}已转后勤处维修。"
    at.text_area(key=f"answer_{case.id}").input(filled + "预计周五修好。")
    at.button(key=f"answer_btn_{case.id}").click().run()
    assert not at.exception, at.exception
    assert cases.get_case(demo_db, case.id, dangban).answer.endswith("预计周五修好。")


def test_a_duplicate_is_merged_after_a_confirmation_and_its_number_leads_to_its_case(demo_db, raised):
    lead, dup = raised
    dangban = accounts.find_user(demo_db, "dangban")
    at = _open(goto(login("dangban"), "pages/cases.py").run(), dup)
    at.text_input(key=f"merge_into_{dup.id}").input(lead.number)
    at.button(key=f"merge_{dup.id}").click().run()
    assert cases.get_case(demo_db, dup.id, dangban).merged_into is None  # asked first
    at.session_state[answer_key("merge")] = True  # 确认合并 in the dialog
    at.run()
    assert not at.exception, at.exception
    assert f"{dup.number} 已合并至 {lead.number}" in texts(at)
    assert cases.get_case(demo_db, dup.id, dangban).merged_into == lead.id
    assert at.selectbox(key="c_case").value == lead.id  # the case it went into, on screen
    assert not any(o.startswith(dup.number) for o in at.selectbox(key="c_case").options)  # no work of its own
    linked = login("dangban")
    linked.query_params["no"] = dup.number
    goto(linked, "pages/cases.py").run()
    assert not linked.exception, linked.exception
    assert f"{dup.number} 已合并至 {lead.number} 办理" in texts(linked)
    assert any(s.value.startswith(lead.number) for s in linked.subheader)
    assert dup.number in texts(linked)  # listed under 已合并到本件的件


def test_the_merge_form_does_not_tell_another_departments_case_from_a_missing_one(demo_db, raised):
    """合并到（编号） answers a number the clerk may not see as it answers one that does not exist: the
    form is no way to learn which numbers another department's cases carry."""
    dup, _ = raised
    other = demo_db.execute(
        "SELECT number FROM cases WHERE responsible_dept != '党办' AND COALESCE(supervisor, '') != '党办' "
        "AND cadre_id IS NOT (SELECT person_id FROM users WHERE username = 'dangban') LIMIT 1"
    ).fetchone()[0]
    missing = "2026-9999"
    assert demo_db.execute("SELECT 1 FROM cases WHERE number = ?", [missing]).fetchone() is None
    said = {}
    for number in (other, missing):
        at = _open(goto(login("dangban"), "pages/cases.py").run(), dup)
        at.text_input(key=f"merge_into_{dup.id}").input(number)
        at.button(key=f"merge_{dup.id}").click().run()
        assert not at.exception, at.exception
        said[number] = [e.value for e in at.error]
    assert said[other] and said[missing]
    assert said[other] == [m.replace(missing, other) for m in said[missing]], said
