"""The rule set as data: every rule of docs/rules.md §3, validation, and revisions with effective dates."""

from __future__ import annotations

import datetime as dt

import pytest

from portal import quota, rulesets
from portal.errors import ValidationError
from portal.policy import POLICY_FILE, policy
from tests.quota_fixtures import Org

PERSONAL = {
    "research.frontline": ("第六条", "month"),
    "research.field": ("第六条", "month"),
    "research.ideology_office": ("第六条", "academic_year"),
    "grassroots.colleges_assigned": ("第八条", "year"),
    "grassroots.college_visit": ("第八条", "year"),
    "grassroots.pair_assigned": ("第八条", "year"),
    "grassroots.points_assigned": ("第九条", "year"),
    "grassroots.point_visit": ("第九条", "year"),
    "ideology.hours_top": ("第十三条", "semester"),
    "ideology.hours_leader": ("第十三条", "semester"),
    "ideology.staff_report": ("第十三条", "semester"),
    "ideology.lesson_prep": ("第十三条", "academic_year"),
    "ideology.hours_college": ("第十三条", "semester"),
    "lecture.base": ("第十五、十六条", "academic_year"),
    "lecture.teaching_heads": ("第十六条", "semester"),
    "lecture.ideology_top": ("第十六条", "semester"),
    "lecture.ideology_marxism": ("第十六条", "semester"),
    "symposium.teachers": ("第十八条", "academic_year"),
    "symposium.counsellors": ("第十八条", "academic_year"),
    "symposium.students_base": ("第十九条", "semester"),
    "symposium.students_more": ("第十九条", "semester"),
    "talk.top": ("第二十一条", "year"),
    "talk.leader": ("第二十一条", "year"),
    "talk.principal": ("第二十一条", "year"),
    "branch.assigned": ("第二十三条", "year"),
    "branch.attend": ("第二十三条", "semester"),
    "talent.assigned": ("第二十六条", "year"),
    "talent.visit": ("第二十七条", "year"),
    "nonparty.assigned": ("第二十八条", "year"),
    "nonparty.talk": ("第二十九条", "year"),
    "retiree.assigned_leader": ("第三十条", "year"),
    "retiree.assigned_cadre": ("第三十条", "year"),
    "retiree.visit": ("第三十条", "year"),
}
INSTITUTIONAL = {
    "reception.duty",
    "nonparty.symposium",
    "retiree.briefing",
    "branch.coverage",
    "grassroots.no_overlap",
}

REVISION = """
[[rules]]
id = "lecture.base"
article = "第十五、十六条"
system = "听课"
title = "随机听课（修订：每学年 6 次）"
kind = "count"
period = "academic_year"
subtypes = ["听课", "思政课听课"]
min = 6
applies_to = [{ tags = ["school_leader"] }]
"""


def test_every_rule_of_rules_md_with_its_article_and_period():
    pol = policy()
    assert {r.id: (r.article, r.period) for r in pol.rules} == PERSONAL
    assert {r.id for r in pol.institutional} == INSTITUTIONAL
    bounds = {r.id: (r.min, r.max) for r in pol.rules if r.kind == "assignment_bounds"}
    assert bounds["grassroots.colleges_assigned"] == (1, 3)
    assert bounds["grassroots.pair_assigned"] == (1, 1)
    assert pol.rule("ideology.hours_top").kind == "hours" and pol.rule("ideology.hours_top").min == 4
    assert pol.rule("talk.principal").kind == "each_counterpart"
    assert pol.rule("reception.duty").owners == ["党办", "校办"]
    assert "至少 1 次" in pol.rule("research.field").requirement


def test_the_bundled_file_validates_as_a_revision_too():
    rule_set = rulesets.parse_rule_file(POLICY_FILE.read_bytes())
    assert len(rule_set.rules) == len(PERSONAL)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rules = 3 [", "不是有效的 TOML"),
        ('title = "x"', r"没有 \[\[rules\]\]"),
        (REVISION.replace('system = "听课"', 'system = "听戏"'), "制度“听戏”不存在"),
        (REVISION.replace('["听课", "思政课听课"]', '["看戏"]'), "类别 看戏 不属于制度“听课”"),
        (REVISION.replace('"school_leader"', '"king"'), "未知标签 king"),
        (REVISION.replace('kind = "count"', 'kind = "assignment_bounds"'), "target_kind"),
        (REVISION.replace("min = 6", "min = -1"), "min"),
        (REVISION + REVISION, "规则编号重复：lecture.base"),
    ],
)
def test_a_bad_revision_is_refused_in_chinese(text, message):
    with pytest.raises(ValidationError, match=message):
        rulesets.parse_rule_file(text.encode())


def test_past_periods_keep_the_rules_then_in_force(db):
    org = Org(db)
    leader = org.cadre("校领导班子", "校级")
    for day in ("2025-10-01", "2025-11-01", "2025-12-01", "2026-01-05", "2026-10-01", "2026-10-02"):
        org.activity(leader, "听课", "听课", day)
    rule_set = rulesets.parse_rule_file(REVISION.encode())
    stored = rulesets.save_rule_set(db, rule_set, dt.date(2026, 9, 1), "第二次修订")
    assert stored.effective_from == dt.date(2026, 9, 1) and "修订" in stored.label
    assert [s.id for s in rulesets.history(db)] == [None, stored.id]
    got = {
        (r.rule, r.period): r
        for r in quota.compute(db, person_id=leader, since=dt.date(2025, 9, 1), on=dt.date(2026, 11, 24))
    }
    old = got[("lecture.base", "2025-2026")]
    assert (old.required, old.status) == (4, "met")
    new = got[("lecture.base", "2026-2027")]
    assert (new.required, new.title) == (6, "随机听课（修订：每学年 6 次）")
    # the revision holds only lecture.base: other rules are not judged from then on
    assert ("research.field", "2026-10") not in got and ("research.field", "2025-10") in got
    with pytest.raises(ValidationError, match="已存在"):
        rulesets.save_rule_set(db, rule_set, dt.date(2026, 9, 1))


def test_the_rules_page_lists_articles_and_loads_a_revision(db):
    from portal import accounts
    from tests.conftest import goto, login, texts

    accounts.create_user(db, "boss", "管理员", "Demo-1234", [accounts.Role(role="admin")])
    db.conn.commit()
    at = login("boss", "Demo-1234")
    goto(at, "pages/admin_rules.py").run()
    assert not at.exception, at.exception
    rules = next(f.value for f in at.dataframe if "适用对象" in f.value.columns)
    assert set(PERSONAL) == set(rules["规则编号"])
    assert rules.set_index("规则编号").loc["lecture.base", "条款"] == "第十五、十六条"
    at.file_uploader(key="rules_file").upload(
        "bad.toml", REVISION.replace("听课", "听戏", 1).encode(), "text/plain"
    )
    at.button(key="FormSubmitter:load_rules-检查并导入").click().run()
    assert at.error and "听戏" in texts(at)
    at.file_uploader(key="rules_file").upload("rules.toml", REVISION.encode(), "text/plain")
    at.date_input(key="effective_from").set_value(dt.date(2027, 9, 1))
    at.button(key="FormSubmitter:load_rules-检查并导入").click().run()
    assert any("2027-09-01 起施行" in s.value for s in at.success)
    assert len(next(f.value for f in at.dataframe if "施行日期" in f.value.columns)) == 2
    assert rulesets.rule_set_on(db, dt.date(2027, 9, 1)).rules[0].min == 6
    # a revision not yet in force can be withdrawn: the one chosen, never a default
    at.button(key="withdraw").click().run()
    assert any("请选择要撤销的修订" in e.value for e in at.error) and len(rulesets.history(db)) == 2
    revision = next(s.id for s in rulesets.history(db) if s.id is not None)
    at.selectbox(key="withdraw_choice").set_value(revision).run()
    at.button(key="withdraw").click().run()
    assert any("已撤销" in s.value for s in at.success)
    assert len(rulesets.history(db)) == 1


def test_a_revision_in_force_cannot_be_withdrawn(db):
    stored = rulesets.save_rule_set(db, rulesets.parse_rule_file(REVISION.encode()), dt.date(2026, 9, 1))
    with pytest.raises(ValidationError, match="已施行的规则不能撤销"):
        rulesets.withdraw_rule_set(db, stored.id, dt.date(2026, 11, 24))
    rulesets.withdraw_rule_set(db, stored.id, dt.date(2026, 8, 1))
    assert rulesets.rule_set_on(db, dt.date(2026, 11, 24)).rules == policy().rules
