"""常用答复 (issue 20 item 3): each department keeps its own answer templates and fills them in."""

from __future__ import annotations

import datetime as dt

import pytest

from portal import accounts, answer_templates, case_opening
from portal.accounts import Role
from portal.errors import NotFound, PermissionDenied, ValidationError


@pytest.fixture
def people(db):
    def user(name, roles):
        return accounts.create_user(db, name, name, "Passw0rd!x", [Role(**r) for r in roles])

    return {
        "dangban": user("dangban", [{"role": "department", "department": "党办"}]),
        "xuegong": user("xuegong", [{"role": "department", "department": "学工部"}]),
        "admin": user("admin", [{"role": "admin"}]),
    }


def test_a_department_keeps_edits_and_deletes_its_templates(db, people):
    clerk = people["dangban"]
    made = answer_templates.save_template(
        db, clerk, "党办", "转后勤", "{提出人}您好，您反映的问题（{编号}）已转后勤处。"
    )
    answer_templates.save_template(db, clerk, "党办", "已纳入计划", "已纳入下学期工作计划。")
    assert [t.title for t in answer_templates.list_templates(db, "党办")] == ["已纳入计划", "转后勤"]
    assert answer_templates.list_templates(db, "学工部") == []
    answer_templates.save_template(db, clerk, "党办", "转后勤处", made.body + "请留意通知。", made.id)
    assert "转后勤处" in [t.title for t in answer_templates.list_templates(db, "党办")]
    case = case_opening.open_case(
        db,
        source="reception",
        content="热水",
        responsible_dept="党办",
        contact_date=dt.date(2026, 11, 18),
        raiser_name="王同学",
    )
    edited = next(t for t in answer_templates.list_templates(db, "党办") if t.id == made.id)
    assert (
        answer_templates.fill(edited, case)
        == f"王同学您好，您反映的问题（{case.number}）已转后勤处。请留意通知。"
    )
    answer_templates.delete_template(db, clerk, made.id)
    assert [t.title for t in answer_templates.list_templates(db, "党办")] == ["已纳入计划"]
    with pytest.raises(NotFound):
        answer_templates.delete_template(db, clerk, made.id)


def test_only_the_department_and_administrators_edit_its_templates(db, people):
    with pytest.raises(PermissionDenied):
        answer_templates.save_template(db, people["xuegong"], "党办", "标题", "内容")
    kept = answer_templates.save_template(db, people["admin"], "党办", "标题", "内容")
    with pytest.raises(PermissionDenied):
        answer_templates.delete_template(db, people["xuegong"], kept.id)
    with pytest.raises(NotFound):  # another department's template is not edited through one's own
        answer_templates.save_template(db, people["xuegong"], "学工部", "标题", "内容", kept.id)


def test_a_refused_template_names_every_problem_and_titles_are_unique(db, people):
    with pytest.raises(ValidationError) as refused:
        answer_templates.save_template(db, people["dangban"], "党办", " ", "")
    assert [p.field for p in refused.value.problems] == ["title", "body"]
    answer_templates.save_template(db, people["dangban"], "党办", "转后勤", "内容")
    with pytest.raises(ValidationError, match="已有"):
        answer_templates.save_template(db, people["dangban"], "党办", "转后勤", "另一段内容")
