"""The KPIs on the pages (issue 21 item 5): 工作台账 (figures, by department / unit / cadre, the trend by month),
年度考核 (columns beside the quotas, the departments' tab), 干部任务总览 (columns per cadre)."""

from __future__ import annotations

import datetime as dt

from portal import accounts, assessment, dates, kpis, periods, standing
from portal.demo import DEPARTMENT_ACCOUNTS
from tests.conftest import goto, login


def _frame(at, column: str):
    return next(d.value for d in at.dataframe if column in d.value.columns)


def test_the_ledger_shows_the_departments_rates_and_their_trend(demo_db):
    at = login(DEPARTMENT_ACCOUNTS["党办"])
    goto(at, "pages/ledger.py").run()
    assert not at.exception, at.exception
    assert "意见建议办理（三率）" in [t.label for t in at.tabs]
    since = periods.academic_year_of(demo_db, dates.today()).start
    expected = kpis.compute(demo_db, since=since, until=dates.today(), department="党办")
    shown = {m.label: m.value for m in at.metric}
    for name, rate in expected.total.rates.items():
        assert shown[kpis.RATE_LABELS[name]] == rate.text  # e.g. 86.7%（26/30）
    table = _frame(at, "责任部门")
    assert list(table["责任部门"]) == ["党办", "合计"]
    at.radio(key="l_kpi_by").set_value("unit").run()
    by_unit = _frame(at, "承办单位")
    assert (
        len(by_unit)
        == len(kpis.compute(demo_db, by="unit", since=since, until=dates.today(), department="党办").rows) + 1
    )
    charts = []
    stack = [at._tree]
    while stack:  # the trend chart (st.line_chart is a Vega-Lite chart)
        node = stack.pop()
        charts += [
            c for c in getattr(node, "children", {}).values() if getattr(c, "type", "") == "vega_lite_chart"
        ]
        stack += list(getattr(node, "children", {}).values())
    assert charts
    months = _frame(at, "月份")
    assert list(months["月份"])[:-1] == [
        r.label
        for r in kpis.compute(demo_db, by="month", since=since, until=dates.today(), department="党办").rows
    ]


def test_the_assessment_lists_the_rates_beside_the_quotas(demo_db):
    at = login(DEPARTMENT_ACCOUNTS["组织部"])
    goto(at, "pages/assessment.py").run()
    assert not at.exception, at.exception
    result = assessment.assess(demo_db, dates.today().year)
    units = _frame(at, "承办意见建议")
    handled = next(u for u in result.units if u.handled and u.handled.rated)
    row = units[units["单位"] == handled.unit].iloc[0]
    assert row["满意率"] == handled.handled.rate("satisfaction").percent
    cadres = _frame(at, "联系中反映的意见建议")
    assert len(cadres) == len(result.cadres)
    departments = _frame(at, "按期响应率")
    assert list(departments["责任部门"])[:-1] == [r.label for r in result.departments.rows]


def test_the_overview_of_cadres_carries_their_contacts_rates(demo_db):
    at = login("admin")
    goto(at, "pages/standing.py").run()
    assert not at.exception, at.exception
    table = _frame(at, "意见建议（本年）")
    admin = accounts.find_user(demo_db, "admin")
    result = standing.standing(demo_db, admin, on=dates.today())
    with_cases = next(r for r in result.rows if r.contacts and r.contacts.rated)
    row = table[table["工号"] == with_cases.staff_no].iloc[0]
    assert row["满意率"] == with_cases.contacts.rate("satisfaction").text
    year = kpis.compute(demo_db, by="cadre", since=dt.date(dates.today().year, 1, 1), until=dates.today())
    assert row["意见建议（本年）"] == year.row(with_cases.person_id).cases
