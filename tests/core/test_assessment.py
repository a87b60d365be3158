"""Annual assessment on the demo university, checked against counts made here from the quota
engine's results and from the activities themselves."""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter, defaultdict

import pytest
from click.testing import CliRunner
from docx import Document
from openpyxl import load_workbook

from portal import accounts, assessment, quota
from portal.cli import cli
from portal.demo import DEPARTMENT_ACCOUNTS
from portal.errors import PermissionDenied, ValidationError

YEAR = 2026
ON = dt.date(2026, 11, 24)  # PORTAL_TODAY


@pytest.fixture
def result(demo_db):
    return assessment.assess(demo_db, YEAR)


@pytest.fixture
def raw(demo_db):
    """The quota results of periods ending in 2026, judged as of today — made here, independently."""
    return [r for r in quota.compute(demo_db, since=dt.date(YEAR, 1, 1), on=ON) if r.end.year == YEAR]


def test_the_periods_of_a_year_are_those_ending_in_it(result):
    keys = {r.period for c in result.cadres for r in c.results}
    assert "2026" in keys and "2025-2026" in keys and "2025-2026-1" in keys  # the autumn term ends 2026-01-31
    assert "2026-2027-1" not in keys and "2026-2027" not in keys
    assert result.on == ON


def test_per_cadre_figures_match_the_quota_results(result, raw):
    expected: dict[str, Counter] = defaultdict(Counter)
    for r in raw:
        expected[r.staff_no][r.status] += 1
    assert {c.staff_no for c in result.cadres} == set(expected)
    for c in result.cadres:
        e = expected[c.staff_no]
        assert (c.tally.met, c.tally.missed, c.tally.in_progress, c.tally.not_assessed) == (
            e["met"],
            e["missed"],
            e["in_progress"],
            e["not_assessed"],
        )
        assessed = e["met"] + e["missed"] + e["in_progress"]
        assert c.tally.rate == (e["met"] / assessed if assessed else None)
    assert result.total.met == sum(r.status == "met" for r in raw)


def test_one_rule_checked_against_the_activities(demo_db, result):
    # lecture.base over the academic year 2025-2026 (ends 2026-08-31): 听课 of either kind, ≥4
    row = next(
        r for c in result.cadres for r in c.results if r.rule == "lecture.base" and r.period == "2025-2026"
    )
    done = demo_db.execute(
        "SELECT count(*) FROM activities a JOIN people p ON p.id = a.cadre_id WHERE p.staff_no = ? "
        "AND a.system = '听课' AND a.voided_at IS NULL AND a.date BETWEEN '2025-09-01' AND '2026-08-31'",
        [row.staff_no],
    ).fetchone()[0]
    assert row.done == done
    assert row.status == ("met" if done >= 4 else "missed")


def test_units_heatmap_and_ranking(result, raw):
    per_unit: dict[str, Counter] = defaultdict(Counter)
    cell: dict[tuple[str, str], Counter] = defaultdict(Counter)
    people: dict[str, set] = defaultdict(set)
    for r in raw:
        per_unit[r.unit][r.status] += 1
        cell[(r.unit, r.system)][r.status] += 1
        people[r.unit].add(r.staff_no)
    assert {u.unit for u in result.units} == set(per_unit)
    for u in result.units:
        assert u.tally.met == per_unit[u.unit]["met"] and u.tally.missed == per_unit[u.unit]["missed"]
        assert u.cadres == len(people[u.unit])
    for key, counts in cell.items():
        assert result.heat[key].met == counts["met"]
        assert result.heat[key].assessed == counts["met"] + counts["missed"] + counts["in_progress"]
    rates = [u.tally.rate or 0 for u in result.units]
    assert rates == sorted(rates, reverse=True)
    assert result.units[0].rank == 1
    for a, b in zip(result.units, result.units[1:], strict=False):
        same = (a.tally.rate, a.tally.met) == (b.tally.rate, b.tally.met)
        assert b.rank == (a.rank if same else result.units.index(b) + 1)
    rows = assessment.heat_rows(result)
    assert len(rows) == sum(1 for t in result.heat.values() if t.assessed)


def test_only_admins_and_the_organisation_department(demo_db):
    assessment.assess_for(demo_db, accounts.find_user(demo_db, DEPARTMENT_ACCOUNTS["组织部"]), YEAR)
    with pytest.raises(PermissionDenied):
        assessment.assess_for(demo_db, accounts.find_user(demo_db, DEPARTMENT_ACCOUNTS["教务处"]), YEAR)
    with pytest.raises(PermissionDenied):
        assessment.assess_for(demo_db, accounts.find_user(demo_db, "10000001"), YEAR)
    with pytest.raises(ValidationError):
        assessment.assess(demo_db, 2027)


def test_the_workbook_reads_back(result):
    wb = load_workbook(io.BytesIO(assessment.export_xlsx(result)))
    assert wb.sheetnames == ["单位排名", "热力图", "干部汇总", "明细", "意见建议办理"]
    ranking = wb["单位排名"]
    assert ranking["A1"].value == "2026年度领导干部联系师生工作考核·单位排名"
    assert ranking.freeze_panes == "A4"
    rows = list(ranking.iter_rows(min_row=4, values_only=True))
    assert [r[1] for r in rows] == [u.unit for u in result.units]
    assert rows[0][7] == pytest.approx(result.units[0].tally.rate, abs=1e-4)
    heat = wb["热力图"]
    assert [c.value for c in heat[3]] == ["单位", *result.systems, "合计"]
    assert heat.conditional_formatting  # the colour scale
    detail = wb["明细"]
    assert detail.max_row - 3 == sum(len(c.results) for c in result.cadres)
    cadres = wb["干部汇总"]
    assert cadres.max_row - 3 == len(result.cadres)


def test_a_word_report_per_unit(result):
    unit = next(u for u in result.units if u.tally.missed)
    doc = Document(io.BytesIO(assessment.unit_report_docx(result, unit.unit)))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert unit.unit in text and f"排名第 {unit.rank}" in text
    names = {row.cells[1].text for row in doc.tables[1].rows[1:]}
    assert names == {c.name for c in result.cadres_of(unit.unit)}
    missed_rows = len(doc.tables[2].rows) - 1
    assert missed_rows == sum(1 for c in result.cadres_of(unit.unit) for r in c.missed if r.unit == unit.unit)


def test_cli_writes_the_workbook_and_reports(demo_db, tmp_path):
    path = demo_db.execute("PRAGMA database_list").fetchone()[2]
    out = tmp_path / "assess.xlsx"
    result = CliRunner().invoke(
        cli, ["--db", path, "assess", "--year", "2026", "--out", str(out), "--word", str(tmp_path / "word")]
    )
    assert result.exit_code == 0, result.output
    assert load_workbook(out).sheetnames[0] == "单位排名"
    reports = list((tmp_path / "word").glob("*.docx"))
    assert len(reports) == len(load_workbook(out)["单位排名"]["B"]) - 3
    bad = CliRunner().invoke(cli, ["--db", path, "assess", "--year", "2030", "--out", str(out)])
    assert bad.exit_code == 1 and "尚未开始" in bad.output
