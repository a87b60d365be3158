"""History as it was (issue 11 items 3–4): units by code or name, and activities that no longer fit
today's assignments imported with a warning on their row, counted as the rules allow."""

import pytest

from portal import imports, org, quota
from portal.errors import ImportRejected

UNITS = (
    "单位名称,单位类型,单位编码\n"
    "校领导班子,部门,\n"
    "计算机科学与技术学院,学院,C-CS\n"
    "机械工程学院,学院,C-ME\n"
    "材料科学与工程学院,学院,\n"
)
CADRES = (
    "工号,姓名,单位,职务,级别,标签,中共党员,分管单位,任职开始\n"
    "10000001,张书记,校领导班子,党委书记,校级,party_secretary;principal,是,C-ME；计算机科学与技术学院,2020-01-01\n"
    "10010001,赵院长,C-CS,院长,正处,dean;principal,是,,2020-01-01\n"
)
ASSIGNMENTS = (
    "工号,对象类型,对象编号,对象名称,开始日期,结束日期\n"
    "10000001,联系学院,C-CS,计算机科学与技术学院,2025-01-01,\n"
    "10000001,联系学院,机械工程学院,机械工程学院,2025-01-01,2026-03-31\n"
    "10000001,联系学院,CL-2019,材料科学与工程学院,2025-01-01,\n"
    "10000001,党支部,DZB-01,计算机学院学生第一党支部,2025-01-01,\n"
)
ACTIVITIES = (
    "工号,制度,类别,日期,联系对象,对象编号,开展情况\n"
    "10000001,联系基层,联系学院,2026-03-05,计算机学院,C-CS,听取工作汇报\n"  # by code: fits
    "10000001,联系基层,联系学院,2026-05-10,机械学院,C-ME,指导工作\n"  # assignment ended 03-31
    "10000001,联系基层,联系学院,2026-06-01,某学院,,调研\n"  # blank 对象编号
    "10000001,联系基层,联系学院,2026-04-01,材料学院,CL-2019,参加民主生活会\n"  # the sheet's own code
    "10000001,联系师生党支部,组织生活,2026-04-15,党支部,DZB-99,参加组织生活\n"  # not his branch
)


def load(db, kind, text, **kw):
    return imports.run_import(db, kind, f"{kind}.csv", text.encode("gb18030"), **kw)


@pytest.fixture
def university(db):
    load(db, "units", UNITS)
    load(db, "cadres", CADRES)
    load(db, "assignments", ASSIGNMENTS)
    return db


def test_unit_codes_are_unique_and_name_units_everywhere(university):
    db = university
    assert org.unit_by_ref(db, "C-CS").name == "计算机科学与技术学院"
    zhao = next(c for c in org.list_cadres(db) if c.staff_no == "10010001")
    assert zhao.posts[0].unit_name == "计算机科学与技术学院"  # 单位 by code
    zhang = next(c for c in org.list_cadres(db) if c.staff_no == "10000001")
    assert sorted(zhang.posts[0].charges) == ["机械工程学院", "计算机科学与技术学院"]  # by code and by name
    with pytest.raises(ImportRejected) as exc:
        load(db, "units", "单位名称,单位类型,单位编码\n新学院,学院,C-CS\n")
    assert exc.value.errors[0].column == "单位编码" and "已用于" in exc.value.errors[0].reason


def test_contact_college_by_code_by_name_or_by_its_name_column(university):
    codes = sorted(
        r[0] for r in university.execute("SELECT target_code FROM assignments WHERE kind = '联系学院'")
    )
    assert codes == ["机械工程学院", "材料科学与工程学院", "计算机科学与技术学院"]
    # the issue's own example, refused whole on the old code
    report = load(
        university,
        "assignments",
        "工号,对象类型,对象编号,对象名称,开始日期\n10000001,联系学院,C-CS,计算机科学与技术学院,2025-01-01\n",
    )
    assert report.counts["unchanged"] == 1


def test_history_rows_import_with_one_warning_each_and_count_as_the_rules_say(university):
    db = university
    preview = load(db, "activities", ACTIVITIES, dry_run=True)
    assert [w.row for w in preview.warnings] == [3, 4, 6]
    assert db.execute("SELECT count(*) FROM activities").fetchone()[0] == 0
    report = load(db, "activities", ACTIVITIES)
    assert report.counts["created"] == 5
    assert [(w.row, w.column) for w in report.warnings] == [(3, "对象编号"), (4, "对象编号"), (6, "对象编号")]
    assert "2026-03-31" in report.warnings[0].reason and "未填写" in report.warnings[1].reason
    assert "不是该干部的党支部" in report.warnings[2].reason
    # the material college was named by the assignments sheet's own code, and matched
    stored = dict(
        db.execute(
            "SELECT a.date, t.target_code FROM activities a JOIN activity_targets t ON t.activity_id = a.id"
        ).fetchall()
    )
    assert stored["2026-04-01"] == "材料科学与工程学院" and stored["2026-03-05"] == "计算机科学与技术学院"
    results = {(r.rule, r.period): r for r in quota.compute(db, staff_no="10000001", period="2026")}
    visits = results[("grassroots.college_visit", "2026")]
    # three colleges assigned during 2026; the visit after 机械's assignment ended does not count
    assert (visits.required, visits.done) == (3, 2) and visits.missing == ["机械工程学院"]
    branch = next(
        r for r in quota.compute(db, staff_no="10000001", period="2025-2026-2") if r.rule == "branch.attend"
    )
    assert branch.done == 1  # a count-type rule: the unassigned branch's 组织生活 counts
    # re-import: nothing new, the warnings again
    again = load(db, "activities", ACTIVITIES)
    assert again.counts["unchanged"] == 5 and len(again.warnings) == 3


def test_malformed_rows_still_refuse_the_file(university):
    bad = ACTIVITIES + (
        "99999999,听课,听课,2026-03-05,,,x\n"
        "10000001,听课,旁听,2026-03-05,,,x\n"
        "10000001,听课,听课,2026-02-30,,,x\n"
        "10000001,讲思政课,思政课授课,2026-03-05,,,x\n"
    )
    text = bad.replace("开展情况\n", "开展情况,课时\n", 1).rstrip("\n").split("\n")
    text[-1] += ",两节"
    with pytest.raises(ImportRejected) as exc:
        load(university, "activities", "\n".join(text) + "\n")
    assert {(e.row, e.column) for e in exc.value.errors} == {
        (7, "工号"),
        (8, "类别"),
        (9, "日期"),
        (10, "课时"),
    }
    assert [w.row for w in exc.value.warnings] == [3, 4, 6]
    assert university.execute("SELECT count(*) FROM activities").fetchone()[0] == 0


def test_assignment_warnings_for_a_shared_or_short_contact_point(university):
    load(
        university,
        "cadres",
        "工号,姓名,单位,职务,级别,任职开始\n10010002,钱副院长,C-CS,副院长,副处,2020-01-01\n",
    )
    sheet = (
        "工号,对象类型,对象编号,对象名称,开始日期,结束日期\n"
        "10010001,联系点,CS-JYS-1,软件工程教研室,2025-09-01,\n"
        "10010002,联系点,CS-JYS-1,软件工程教研室,2025-09-01,2026-01-31\n"
    )
    report = load(university, "assignments", sheet)
    assert report.counts["created"] == 2
    assert [(w.row, w.column) for w in report.warnings] == [(2, "对象编号"), (3, "对象编号"), (3, "结束日期")]


def test_the_command_line_prints_each_warning(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from portal.cli import cli

    monkeypatch.setenv("PORTAL_DB", str(tmp_path / "cli.sqlite3"))
    for kind, text in (
        ("units", UNITS),
        ("cadres", CADRES),
        ("assignments", ASSIGNMENTS),
        ("activities", ACTIVITIES),
    ):
        path = tmp_path / f"{kind}.csv"
        path.write_bytes(text.encode("gb18030"))
        result = CliRunner().invoke(cli, ["import", kind, str(path)], catch_exceptions=False)
        assert result.exit_code == 0, result.output
    assert result.output.count("提示：第 ") == 3 and "第 4 行" in result.output
