"""The quota engine: each rule kind at its edges (today is pinned to 2026-11-24)."""

from __future__ import annotations

import datetime as dt
import json

from click.testing import CliRunner

from portal import quota
from portal.cli import cli
from tests.quota_fixtures import Org

D = dt.date
ON = D(2026, 11, 24)
TERM_START = D(2026, 9, 1)


def results(db, person, since=TERM_START, on=ON, **kw):
    org_staff = db.execute("SELECT staff_no FROM people WHERE id = ?", [person]).fetchone()[0]
    return {(r.rule, r.period): r for r in quota.compute(db, staff_no=org_staff, since=since, on=on, **kw)}


def test_counts_respect_period_boundaries_and_ignore_voided_rows(db):
    org = Org(db)
    leader = org.cadre("校领导班子", "校级")
    org.activity(leader, "调查研究", "实地调研", "2026-09-30")
    org.activity(leader, "调查研究", "科研一线", "2026-10-01")
    org.activity(leader, "调查研究", "实地调研", "2026-11-02", voided=True)
    got = results(db, leader)
    assert got[("research.field", "2026-09")].status == "met"
    assert got[("research.field", "2026-09")].done == 1
    assert got[("research.field", "2026-10")].status == "met"
    november = got[("research.field", "2026-11")]
    assert (november.done, november.status) == (0, "in_progress")
    # a month that is over with nothing logged is missed
    late = results(db, leader, since=D(2026, 8, 1))
    assert late[("research.field", "2026-08")].status == "missed"
    # the frontline rule is for the president and the leader in charge of research only
    assert ("research.frontline", "2026-10") not in got
    assert got[("research.field", "2026-10")].activity_ids


def test_tenure_shorter_than_half_a_period_is_not_assessed(db):
    org = Org(db)
    newcomer = org.cadre("校领导班子", "校级", start="2026-11-20")
    settled = org.cadre("校领导班子", "校级", start="2026-11-10")
    leaver = org.cadre("校领导班子", "校级", end="2026-09-10")
    assert results(db, newcomer)[("research.field", "2026-11")].status == "not_assessed"
    assert results(db, settled)[("research.field", "2026-11")].status == "in_progress"
    gone = results(db, leaver)
    assert gone[("research.field", "2026-09")].status == "not_assessed"
    assert ("research.field", "2026-10") not in gone  # no post, no rule
    # tenure counts the whole period for a post still held: 2026-11-20 … 2027-08-31 is over half
    assert results(db, newcomer)[("lecture.base", "2026-2027")].status == "in_progress"
    assert gone[("lecture.base", "2026-2027")].status == "not_assessed"


def test_hour_sums_per_semester(db):
    org = Org(db)
    dean = org.cadre("测绘学院", "正处", ["dean", "principal"])
    org.activity(dean, "讲思政课", "思政课授课", "2026-08-31", hours=2)  # the spring semester's
    org.activity(dean, "讲思政课", "思政课授课", "2026-09-15", hours=1.5)
    org.activity(dean, "讲思政课", "辅导报告", "2026-09-16", hours=3)  # not class hours to students
    got = results(db, dean, since=D(2026, 2, 1))
    autumn = got[("ideology.hours_college", "2026-2027-1")]
    assert (autumn.done, autumn.required, autumn.status) == (1.5, 2, "in_progress")
    spring = got[("ideology.hours_college", "2025-2026-2")]
    assert (spring.done, spring.status) == (2, "met")
    org.activity(dean, "讲思政课", "思政课授课", "2027-01-31", hours=0.5)
    again = results(db, dean, on=D(2027, 2, 1))[("ideology.hours_college", "2026-2027-1")]
    assert (again.done, again.status) == (2, "met")


def test_a_target_visited_twice_counts_once_and_others_are_named(db):
    org = Org(db)
    cadre = org.cadre("能源学院", "副处")
    org.assign(cadre, "联系点", "P1")
    org.assign(cadre, "联系点", "P2")
    org.activity(cadre, "联系基层", "联系点", "2026-03-01", targets=["P1"])
    org.activity(cadre, "联系基层", "联系点", "2026-10-01", targets=["P1"])
    org.activity(cadre, "联系基层", "联系点", "2026-10-02", targets=["P9"])  # not his point
    visit = results(db, cadre)[("grassroots.point_visit", "2026")]
    assert (visit.required, visit.done, visit.status) == (2, 1, "in_progress")
    assert visit.missing == ["对象P2"]
    assert len(visit.activity_ids) == 2
    last_year = results(db, cadre, since=D(2025, 1, 1))[("grassroots.point_visit", "2025")]
    assert last_year.status == "missed" and last_year.done == 0
    org.activity(cadre, "联系基层", "联系点", "2026-11-20", targets=["P2"])
    assert results(db, cadre)[("grassroots.point_visit", "2026")].status == "met"


def test_a_counterpart_missing_from_the_talks(db):
    org = Org(db)
    head = org.cadre("教务处", "正处", ["principal"])
    first = org.cadre("教务处", "副处", name="副处长甲")
    second = org.cadre("教务处", "副处", name="副处长乙")
    org.cadre("教务处", "副处", name="已离任", end="2026-06-30")
    org.activity(head, "谈心谈话", "谈心谈话", "2026-05-01", targets=[org.staff_no(first)])
    talk = results(db, head)[("talk.principal", "2026")]
    assert (talk.required, talk.done) == (2, 1)
    assert talk.missing == ["副处长乙"]
    org.activity(head, "谈心谈话", "谈心谈话", "2026-11-01", targets=[org.staff_no(second)])
    assert results(db, head)[("talk.principal", "2026")].status == "met"
    # a deputy has no such duty
    assert ("talk.principal", "2026") not in results(db, first)


def test_assignment_bounds(db):
    org = Org(db)
    busy = org.cadre("校领导班子", "校级")
    for code in ("C1", "C2", "C3", "C4"):
        org.assign(busy, "联系学院", code)
    none = org.cadre("校领导班子", "校级")
    fine = org.cadre("校领导班子", "校级")
    org.assign(fine, "联系学院", "C1")
    org.assign(fine, "联系学院", "C5", end="2026-06-30")  # ended: not held now
    too_many = results(db, busy)[("grassroots.colleges_assigned", "2026")]
    assert (too_many.done, too_many.required, too_many.max, too_many.status) == (4, 1, 3, "missed")
    assert results(db, none)[("grassroots.colleges_assigned", "2026")].status == "in_progress"
    assert results(db, none, since=D(2025, 1, 1))[("grassroots.colleges_assigned", "2025")].status == "missed"
    ok = results(db, fine)[("grassroots.colleges_assigned", "2026")]
    assert (ok.done, ok.status) == (1, "met")
    exact = results(db, fine)[("grassroots.pair_assigned", "2026")]
    assert exact.max == 1 and exact.status == "in_progress"


def test_rules_that_must_not_apply(db):
    org = Org(db)
    union_deputy = org.cadre("校工会", "副处")
    union_head = org.cadre("校工会", "正处", ["principal"])
    outsider = org.cadre("校领导班子", "校级", cpc=False)
    member = org.cadre("校领导班子", "校级", cpc=True)
    assert not any(rule.startswith("lecture.") for rule, _ in results(db, union_deputy))
    assert ("lecture.base", "2026-2027") in results(db, union_head)
    assert not any(rule.startswith("branch.") for rule, _ in results(db, outsider))
    mine = results(db, member)
    assert ("branch.assigned", "2026") in mine and ("branch.attend", "2026-2027-1") in mine
    # the party secretary teaches 4 hours, not the other leaders' 2
    secretary = org.cadre("校领导班子", "校级", ["party_secretary", "principal"])
    got = results(db, secretary)
    assert ("ideology.hours_top", "2026-2027-1") in got and (
        "ideology.hours_leader",
        "2026-2027-1",
    ) not in got
    assert ("ideology.hours_leader", "2026-2027-1") in mine


def test_unit_names_follow_the_policy(db):
    org = Org(db)
    # 学生工作部（处） is the policy's 学工部 = 学生处: every middle cadre meets students twice a semester
    deputy = org.cadre("学生工作部（处）", "副处", policy_name="学工部")
    got = results(db, deputy)
    assert got[("symposium.students_more", "2026-2027-1")].required == 2
    assert ("lecture.base", "2026-2027") in got
    # 正处 of 党委办公室 (the policy's 党办) visit classes; its 副处 do not
    assert ("lecture.base", "2026-2027") in results(db, org.cadre("党委办公室", "正处", ["principal"]))
    assert ("lecture.base", "2026-2027") not in results(db, org.cadre("党委办公室", "副处"))


def test_pace_and_behind(db):
    org = Org(db)
    dean = org.cadre("测绘学院", "正处", ["dean", "principal"])
    for day in ("2026-09-10", "2026-10-10"):
        org.activity(dean, "听课", "听课", day)
    heads = results(db, dean)[("lecture.teaching_heads", "2026-2027-1")]
    # 85 of 153 days gone: 8 × 0.56 → 4 expected by now
    assert heads.expected == 4 and heads.behind
    for day in ("2026-10-20", "2026-11-03", "2026-11-10"):
        org.activity(dean, "听课", "思政课听课", day)
    heads = results(db, dean)[("lecture.teaching_heads", "2026-2027-1")]
    assert heads.done == 5 and not heads.behind and heads.status == "in_progress"


def test_report_json_and_cli(db):
    org = Org(db)
    b = org.cadre("校领导班子", "校级")
    a = org.cadre("校领导班子", "校级")
    for code in ("C1", "C2", "C3", "C4"):
        org.assign(a, "联系学院", code)
    rows = quota.report_json(quota.compute(db, period="2026"))
    assert [r["cadre"] for r in rows] == sorted(r["cadre"] for r in rows)
    first = next(
        r for r in rows if r["rule"] == "grassroots.colleges_assigned" and r["cadre"] == org.staff_no(a)
    )
    assert first == {
        "cadre": org.staff_no(a),
        "name": first["name"],
        "rule": "grassroots.colleges_assigned",
        "period": "2026",
        "required": 1,
        "done": 4,
        "status": "missed",
        "max": 3,
    }
    assert all(set(r) >= {"cadre", "name", "rule", "period", "required", "done", "status"} for r in rows)
    db.conn.commit()
    out = CliRunner().invoke(cli, ["quota", "--cadre", org.staff_no(b), "--json", "--on", "2026-11-24"])
    assert out.exit_code == 0, out.output
    parsed = json.loads(out.stdout)
    assert {r["cadre"] for r in parsed} == {org.staff_no(b)}
    assert {r["period"] for r in parsed} >= {
        "2026-09",
        "2026-10",
        "2026-11",
        "2026-2027-1",
        "2026-2027",
        "2026",
    }
    table = CliRunner().invoke(cli, ["quota", "--cadre", org.staff_no(b)])
    assert "research.field" in table.stdout and "进行中" in table.stdout
    missing = CliRunner().invoke(cli, ["quota", "--cadre", "00000000"])
    assert missing.exit_code == 1 and "没有干部职务记录" in missing.stderr


def test_institutional_duties(db):
    org = Org(db)
    secretary = org.cadre("校领导班子", "校级", ["party_secretary"], charges=["测绘学院"])
    dean = org.cadre("测绘学院", "正处", ["dean", "principal"])
    org.cadre("能源学院", "正处", ["principal"])
    org.activity(secretary, "座谈", "党外人士座谈会", "2026-06-01")
    org.activity(secretary, "联系离退休老同志", "通报工作", "2026-03-01")  # for 测绘学院, in his charge
    org.activity(secretary, "接待日", "接待", "2026-09-09")
    db["contact_targets"].insert({"kind": "党支部", "code": "B1", "name": "测绘学院学生党支部"})
    db["contact_targets"].insert({"kind": "党支部", "code": "B2", "name": "能源学院教工党支部"})
    org.assign(dean, "党支部", "B1")
    got = {d.rule: d for d in quota.compute_institutional(db, since=D(2026, 9, 1), on=ON)}
    assert got["nonparty.symposium"].status == "met"
    briefing = got["retiree.briefing"]
    assert (briefing.required, briefing.done) == (2, 1)
    assert briefing.details == ["能源学院尚未向离退休老同志通报工作"]
    coverage = got["branch.coverage"]
    assert (coverage.required, coverage.done, coverage.status) == (2, 1, "missed")
    assert coverage.details == ["能源学院教工党支部没有联系的领导干部"]
    duty = got["reception.duty"]
    # teaching weeks from 2026-09-07: 11 Wednesdays up to 11-24, less 10-07 (National Day)
    assert duty.done == 1 and duty.expected == 10 and duty.behind
    assert any("2026年9月16日" in line for line in duty.details)
    assert "2027 年" in (duty.warning or "")
    assert quota.compute_institutional(db, since=D(2026, 9, 1), on=ON, departments=["统战部"])[0].rule == (
        "nonparty.symposium"
    )


def test_the_whole_university_agrees_with_each_cadre_alone(demo_db):
    everyone = quota.report_json(quota.compute(demo_db, on=ON))
    by_cadre = {}
    for row in everyone:
        by_cadre.setdefault(row["cadre"], []).append(row)
    assert len(by_cadre) > 200
    for staff_no in ("10000001", "10000005", "10010001", sorted(by_cadre)[-1]):
        assert quota.report_json(quota.compute(demo_db, staff_no=staff_no, on=ON)) == by_cadre[staff_no]
    assert {r["status"] for r in everyone} >= {"met", "in_progress"}


def test_cli_institutional_duties(db):
    org = Org(db)
    org.cadre("校领导班子", "校级", ["party_secretary"])
    db["contact_targets"].insert({"kind": "党支部", "code": "B9", "name": "数学学院学生党支部"})
    db.conn.commit()
    out = CliRunner().invoke(cli, ["quota", "--institutional", "--on", "2026-11-24"])
    assert out.exit_code == 0, out.output
    assert "reception.duty" in out.stdout and "branch.coverage" in out.stdout
    assert "数学学院学生党支部没有联系的领导干部" in out.stdout
    assert "2027 年" in out.stderr  # the duty days of the autumn semester reach into 2027
