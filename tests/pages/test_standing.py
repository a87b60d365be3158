"""干部任务总览: a department sees every cadre against its systems' current rules, the furthest
behind first; filters by unit, level and state; a link to each dashboard; an Excel copy."""

from __future__ import annotations

import io

import openpyxl
import pytest

from portal import accounts, dates, quota, standing
from portal.errors import PermissionDenied
from tests.conftest import goto, login, texts


def test_rows_are_the_cadres_in_office_sorted_by_how_far_behind(demo_db):
    admin = accounts.find_user(demo_db, "admin")
    result = standing.standing(demo_db, admin)
    assert len(result.rows) > 250  # the demo's ≈ 294 cadres in office
    keys = [(-r.missed, -r.shortfall, -r.behind) for r in result.rows]
    assert keys == sorted(keys)
    first = result.rows[0]
    assert first.missed or first.behind
    # the cells agree with the cadre's own dashboard
    board = quota.dashboard(demo_db, first.person_id, on=dates.today())
    for cell in first.cells.values():
        match = [
            r
            for r in board.results
            if r.rule == cell.rule and r.period_kind == cell.period_kind and dates.today() <= r.end
        ]
        assert match and match[0].state == cell.state


def test_a_department_sees_only_its_systems(demo_db):
    jiaowu = accounts.find_user(demo_db, "jiaowu")
    result = standing.standing(demo_db, jiaowu)
    assert result.systems and set(result.systems) <= {"听课", "讲思政课"}
    rules = {c.rule for row in result.rows for c in row.cells.values()}
    assert rules and all(r.startswith(("lecture.", "ideology.")) for r in rules), rules


def test_filters_by_level_unit_and_state(demo_db):
    admin = accounts.find_user(demo_db, "admin")
    leaders = standing.standing(demo_db, admin, level="校级")
    assert leaders.rows and all(r.levels == {"校级"} for r in leaders.rows)
    everyone = standing.standing(demo_db, admin)
    unit = demo_db.execute("SELECT unit_id FROM cadre_posts WHERE level = '正处' LIMIT 1").fetchone()[0]
    in_unit = standing.standing(demo_db, admin, unit_id=unit)
    assert 0 < len(in_unit.rows) < len(everyone.rows)
    behind = standing.standing(demo_db, admin, state="behind")
    assert behind.rows and all(r.behind for r in behind.rows)
    missed = standing.standing(demo_db, admin, state="missed")
    assert all(r.missed for r in missed.rows)


def test_cadres_and_visitors_cannot_see_it(demo_db):
    for name in ("10010001", "2023000001"):
        with pytest.raises(PermissionDenied):
            standing.standing(demo_db, accounts.find_user(demo_db, name))


def test_the_workbook_holds_the_rows(demo_db):
    result = standing.standing(demo_db, accounts.find_user(demo_db, "zuzhi"), state="attention")
    ws = openpyxl.load_workbook(io.BytesIO(standing.workbook(result))).active
    values = [[c.value for c in row] for row in ws.iter_rows()]
    header = next(i for i, row in enumerate(values) if row[0] == "工号")
    assert values[header][:5] == ["工号", "姓名", "单位", "滞后项", "未完成项"]
    assert len(values) - header - 1 == len(result.rows)
    assert values[header + 1][0] == result.rows[0].staff_no


def test_the_page_lists_and_links_to_dashboards(demo_db):
    at = login("zuzhi")
    goto(at, "pages/standing.py").run()
    assert not at.exception, at.exception
    frame = at.dataframe[0].value
    assert frame["工作台"].iloc[0].startswith("/dashboard?cadre=")
    at.selectbox(key="standing_level").select("校级").run()
    assert not at.exception, at.exception
    assert len(at.dataframe[0].value) < len(frame)
    assert "干部" in [m.label for m in at.metric]


def test_the_dashboard_opens_on_the_linked_cadre(demo_db):
    admin = accounts.find_user(demo_db, "admin")
    target = standing.standing(demo_db, admin).rows[3]
    at = login("admin")
    at.query_params["cadre"] = str(target.person_id)
    goto(at, "pages/dashboard.py").run()
    assert not at.exception, at.exception
    assert at.selectbox(key="dashboard_cadre").value == target.person_id
    assert target.name in texts(at)
