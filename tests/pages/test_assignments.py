"""Contact assignments: who keeps which, the lists, and the policy's bounds as warnings."""

from __future__ import annotations

import datetime as dt

import pytest

from portal import accounts, assignments, org, quota, rulesets
from portal.assignments import AssignmentInput, TargetInput
from portal.errors import PermissionDenied, ValidationError

TODAY = dt.date(2026, 11, 24)


def user(db, name):
    return accounts.find_user(db, name)


def pid(db, staff_no):
    return org.person_by_staff_no(db, staff_no).id


def test_each_department_keeps_the_kinds_of_its_systems(demo_db):
    assert assignments.managed_kinds(user(demo_db, "dangban")) == ["联系学院", "联系点", "结对子"]
    assert assignments.managed_kinds(user(demo_db, "zuzhi")) == ["党支部", "高层次人才", "离退休老同志"]
    assert assignments.managed_kinds(user(demo_db, "tongzhan")) == ["党外代表人士"]
    assert assignments.managed_kinds(user(demo_db, "laogan")) == ["离退休老同志"]
    assert assignments.managed_kinds(user(demo_db, "jiaowu")) == []
    assert assignments.managed_kinds(user(demo_db, "admin")) == list(assignments.KINDS)
    data = AssignmentInput(
        cadre_id=pid(demo_db, "10010001"), kind="联系学院", target_code="文法学院", start_date=TODAY
    )
    with pytest.raises(PermissionDenied, match="党办、校办"):
        assignments.save_assignment(demo_db, data, user(demo_db, "zuzhi"))
    with pytest.raises(PermissionDenied):
        assignments.save_assignment(demo_db, data, user(demo_db, "10010001"))  # a cadre reads only


def test_lists_and_assignments_are_checked_and_upserted(demo_db):
    zuzhi = user(demo_db, "zuzhi")
    cadre = pid(demo_db, "10010001")
    talent = AssignmentInput(cadre_id=cadre, kind="高层次人才", target_code="T-NEW-1", start_date=TODAY)
    with pytest.raises(ValidationError, match="名单中没有编号"):
        assignments.save_assignment(demo_db, talent, zuzhi)
    target, outcome = assignments.save_target(
        demo_db, TargetInput(kind="高层次人才", code="T-NEW-1", name="钱教授", note="太行学者"), zuzhi
    )
    assert outcome == "created" and target.name == "钱教授"
    assert (
        assignments.save_target(
            demo_db, TargetInput(kind="高层次人才", code="T-NEW-1", name="钱教授", note="太行学者"), zuzhi
        )[1]
        == "unchanged"
    )
    with pytest.raises(PermissionDenied):
        assignments.save_target(demo_db, TargetInput(kind="党外代表人士", code="1", name="某"), zuzhi)
    saved, outcome = assignments.save_assignment(demo_db, talent, zuzhi)
    assert outcome == "created" and saved.target_name == "钱教授"
    assert assignments.save_assignment(demo_db, talent, zuzhi)[1] == "unchanged"
    with pytest.raises(ValidationError, match="不是已有的学院"):
        assignments.save_assignment(
            demo_db,
            AssignmentInput(cadre_id=cadre, kind="联系学院", target_code="火星学院", start_date=TODAY),
            user(demo_db, "dangban"),
        )
    with pytest.raises(ValidationError, match="没有干部职务"):
        assignments.save_assignment(
            demo_db, talent.model_copy(update={"cadre_id": pid(demo_db, "30000001")}), zuzhi
        )
    ended = assignments.end_assignment(demo_db, saved.id, TODAY, zuzhi)
    assert ended.end_date == TODAY and not ended.active_on(TODAY + dt.timedelta(days=1))


def test_a_cadre_sees_only_his_own(demo_db):
    me = user(demo_db, "10010001")
    mine = assignments.list_assignments(demo_db, me)
    assert mine and {a.cadre_id for a in mine} == {me.person_id}
    assert {w.cadre_id for w in assignments.warnings(demo_db, me)} <= {me.person_id}
    zuzhi = assignments.list_assignments(demo_db, user(demo_db, "zuzhi"))
    assert {a.kind for a in zuzhi} <= {"党支部", "高层次人才", "离退休老同志"}
    with pytest.raises(PermissionDenied):
        assignments.list_assignments(demo_db, user(demo_db, "2023000001"))


def test_bounds_show_as_warnings_citing_the_article(demo_db):
    notes = assignments.warnings(demo_db, on=TODAY)
    by_article = {}
    for w in notes:
        by_article.setdefault(w.article, []).append(w.message)
    # the demo puts a leader at four contact colleges and another at two pairs (第八条)
    assert any("联系学院现有 4 个，应为 1～3 个" in m for m in by_article["第八条"])
    assert any("结对子现有 2 个，应为 1 个" in m for m in by_article["第八条"])
    assert any("党外代表人士现有 0 个" in m for m in by_article["第二十八条"])
    assert any("同时联系" in m for m in by_article["第十条"])  # a contact point shared
    assert any("只联系了" in m for m in by_article["第十条"])  # one kept under a year
    assert "第九条" in by_article


def test_adding_and_ending_changes_the_warnings(demo_db):
    dangban = user(demo_db, "dangban")
    leader = pid(demo_db, "10000001")
    count = lambda: sum(  # noqa: E731
        a.kind == "联系学院" for a in assignments.list_assignments(demo_db, cadre_id=leader, active_on=TODAY)
    )
    colleges = [u.name for u in org.list_units(demo_db) if u.kind == "college"]
    held = {a.target_code for a in assignments.list_assignments(demo_db, cadre_id=leader, kind="联系学院")}
    for name in [c for c in colleges if c not in held][: 4 - count()]:
        assignments.save_assignment(
            demo_db,
            AssignmentInput(cadre_id=leader, kind="联系学院", target_code=name, start_date=TODAY),
            dangban,
        )
    mine = assignments.warnings(demo_db, dangban, cadre_id=leader, on=TODAY)
    assert [w.article for w in mine if w.kind == "联系学院"] == ["第八条"]
    # two cadres on one contact point, then one leaves after a month: 第十条 both ways
    point = AssignmentInput(
        cadre_id=pid(demo_db, "10010001"),
        kind="联系点",
        target_code="P-1",
        target_name="测试班",
        start_date=dt.date(2026, 9, 1),
    )
    first, _ = assignments.save_assignment(demo_db, point, dangban)
    assignments.save_assignment(
        demo_db, point.model_copy(update={"cadre_id": pid(demo_db, "10010002")}), dangban
    )
    shared = [w for w in assignments.warnings(demo_db, dangban, on=TODAY) if "测试班" in w.message]
    assert len(shared) == 2 and all("同时联系" in w.message for w in shared)
    assignments.end_assignment(demo_db, first.id, dt.date(2026, 10, 1), dangban)
    short = [w for w in assignments.warnings(demo_db, dangban, on=TODAY) if "测试班" in w.message]
    assert [w.message for w in short] == [
        "联系点“测试班”只联系了 31 天（第十条：每个联系点的联系时间不少于 1 年）"
    ]


def _talent_rule_lowered_to_one() -> bytes:
    """The bundled rule file as an administrator would edit it: talent.assigned's bound 1～2 → 1."""
    text = rulesets.bundled_toml().decode("utf-8")
    head, block = text.split('id = "talent.assigned"', 1)
    block, tail = block.split("[[rules]]", 1)
    assert "max = 2" in block and "联系 1～2 名高层次人才" in block
    block = block.replace("max = 2", "max = 1").replace("联系 1～2 名高层次人才", "联系 1 名高层次人才")
    return (head + 'id = "talent.assigned"' + block + "[[rules]]" + tail).encode("utf-8")


def test_a_revised_rule_file_changes_the_bounds_warned_about(demo_db):
    dangban, admin = user(demo_db, "dangban"), user(demo_db, "admin")
    leader = pid(demo_db, "10000004")  # a school leader holding two high-level talents
    desk = demo_db.execute(  # a 副处 of 党委办公室: 第九条's contact points are for colleges
        "SELECT cp.person_id FROM cadre_posts cp JOIN units u ON u.id = cp.unit_id "
        "WHERE u.name = '党委办公室' AND cp.level = '副处' ORDER BY cp.person_id LIMIT 1"
    ).fetchone()[0]
    talents = assignments.list_assignments(demo_db, cadre_id=leader, active_on=TODAY)
    assert sum(a.kind == "高层次人才" for a in talents) == 2
    for n in (1, 2, 3):
        assignments.save_assignment(
            demo_db,
            AssignmentInput(
                cadre_id=desk,
                kind="联系点",
                target_code=f"DESK-{n}",
                target_name=f"办公室班{n}",
                start_date=dt.date(2026, 9, 1),
            ),
            dangban,
        )

    def bound_notes(cadre_id, on=TODAY):
        return [
            w for w in assignments.warnings(demo_db, admin, cadre_id=cadre_id, on=on) if w.article != "第十条"
        ]

    assert not [w for w in bound_notes(leader) if w.kind == "高层次人才"]
    assert not [w for w in bound_notes(desk) if w.kind == "联系点"]
    # the department's cadre is matched as the quota engine matches him: no 第九条 rule at all
    desk_rules = {r.id for r in quota.applicable_rules(demo_db, TODAY, person_id=desk)[desk]}
    assert "grassroots.points_assigned" not in desk_rules and "retiree.assigned_cadre" in desk_rules
    college_cadre = demo_db.execute(
        "SELECT cp.person_id FROM cadre_posts cp JOIN units u ON u.id = cp.unit_id "
        "WHERE u.kind = 'college' AND cp.level = '副处' ORDER BY cp.person_id LIMIT 1"
    ).fetchone()[0]
    assert "grassroots.points_assigned" in {
        r.id for r in quota.applicable_rules(demo_db, TODAY)[college_cadre]
    }

    revised = rulesets.parse_rule_file(_talent_rule_lowered_to_one())
    rulesets.save_rule_set(demo_db, revised, dt.date(2026, 11, 1), "高层次人才改为每人 1 名", admin.id)

    notes = [w for w in bound_notes(leader) if w.kind == "高层次人才"]
    assert [(w.article, w.message) for w in notes] == [
        ("第二十六条", "高层次人才现有 2 个，应为 1 个（第二十六条：联系 1 名高层次人才）")
    ]
    # before the revision took effect the old bound still judged the day
    before = bound_notes(leader, dt.date(2026, 10, 31))
    assert not [w for w in before if w.kind == "高层次人才" and "应为 1 个" in w.message]
    # the revision touches no one the rule does not apply to
    assert not [w for w in bound_notes(desk) if w.kind in ("联系点", "高层次人才")]
    rules = {r.id: r for r in quota.applicable_rules(demo_db, TODAY, person_id=leader)[leader]}
    assert rules["talent.assigned"].max == 1


def test_a_second_submit_of_end_never_ends_another_assignment(demo_db):
    """结束联系 with a past date: the assignment ended leaves the list, and the list fell back to its
    first entry, which a second click on the page as it still stood ended as well."""
    from tests.conftest import goto, login, texts

    dangban = user(demo_db, "dangban")
    live_before = {a.id for a in assignments.list_assignments(demo_db, dangban, active_on=TODAY)}
    at = login("dangban")
    goto(at, "pages/assignments.py").run()
    assert not at.exception, at.exception
    chosen = sorted(live_before)[1]  # not the list's first entry
    at.selectbox(key="end_id").set_value(chosen)
    at.date_input(key="end_date").set_value(TODAY - dt.timedelta(days=1))
    next(b for b in at.button if b.label == "结束联系").click().run()
    assert not at.exception, at.exception
    next(b for b in at.button if b.label == "结束联系").click().run()  # the same click again
    live_after = {a.id for a in assignments.list_assignments(demo_db, dangban, active_on=TODAY)}
    assert live_before - live_after == {chosen}
    assert "请选择要结束的联系" in texts(at)
