"""The department KPIs (issue 21 item 4): 按期响应率, 办结率, 按期办结率, 满意率 and 回访率 with the counts
behind them, per responsible department, undertaking unit, cadre and month, on the working-day calendar,
their definitions policy data."""

from __future__ import annotations

import datetime as dt

import pytest

from portal import accounts, case_actions, case_opening, kpis, ratings
from portal.accounts import Role
from portal.errors import ValidationError
from portal.policy import policy

D = dt.date


def _on(monkeypatch, day: D) -> None:
    monkeypatch.setenv("PORTAL_TODAY", f"{day.isoformat()}T10:00:00")


@pytest.fixture
def university(db, monkeypatch):
    """A November worked through day by day (Mon 11-02 … Tue 11-24):

    党办: c1 referred and answered on time, 满意; c2 referred and answered late, 不满意, answered again,
    基本满意; c3 never touched; c4 raised yesterday (nothing due yet). 教务处: c5 answered at once, never
    rated; c6 answered at once, rated through a 回访 (满意); c7 withdrawn."""

    def user(name, roles):
        return accounts.create_user(db, name, name, "Passw0rd!x", [Role(**r) for r in roles])

    dangban = user("dangban", [{"role": "department", "department": "党办"}])
    jiaowu = user("jiaowu", [{"role": "department", "department": "教务处"}])
    visitor = user("visitor", [{"role": "visitor"}])
    unit = db["units"].insert({"name": "后勤处（集团）", "kind": "department"}).last_pk
    cadre = db["people"].insert({"staff_no": "10000001", "name": "王书记"}).last_pk

    def case(dept, day, **kw):
        return case_opening.open_case(
            db,
            source="reception" if dept == "党办" else "other",
            content="意见",
            responsible_dept=dept,
            contact_date=day,
            raised_by=visitor.id,
            **kw,
        ).id

    _on(monkeypatch, D(2026, 11, 2))
    c1 = case("党办", D(2026, 11, 2), cadre_id=cadre)  # respond by 11-04, answer by 11-09
    c2 = case("党办", D(2026, 11, 2))
    c3 = case("党办", D(2026, 11, 2))
    c5 = case("教务处", D(2026, 11, 2))
    c6 = case("教务处", D(2026, 11, 2))
    c7 = case("教务处", D(2026, 11, 2))
    _on(monkeypatch, D(2026, 11, 3))
    case_actions.refer(db, c1, unit, dangban)
    case_actions.answer(db, c5, "已解决", jiaowu)
    case_actions.answer(db, c6, "已解决", jiaowu)
    db.execute("UPDATE cases SET state = 'withdrawn' WHERE id = ?", [c7])
    _on(monkeypatch, D(2026, 11, 5))
    case_actions.refer(db, c2, unit, dangban)  # a day late
    _on(monkeypatch, D(2026, 11, 6))
    case_actions.answer(db, c1, "已解决", dangban)
    ratings.rate(db, c1, "satisfied", visitor)
    _on(monkeypatch, D(2026, 11, 10))
    case_actions.answer(db, c2, "已解决", dangban)  # a day late
    ratings.rate(db, c2, "unsatisfied", visitor, "没解决")
    _on(monkeypatch, D(2026, 11, 12))
    case_actions.answer(db, c2, "再答复", dangban)
    ratings.rate(db, c2, "basic", visitor)
    _on(monkeypatch, D(2026, 11, 23))
    c4 = case("党办", D(2026, 11, 23))
    _on(monkeypatch, D(2026, 11, 24))
    ratings.follow_up(db, c6, "satisfied", jiaowu, method="phone")
    return {"unit": unit, "cadre": cadre, "ids": (c1, c2, c3, c4, c5, c6)}


def _november(db, **kw):
    return kpis.compute(db, since=D(2026, 11, 1), until=D(2026, 11, 30), **kw)


def test_each_rate_of_a_department_with_its_counts(db, university):
    report = _november(db)
    dangban, jiaowu = report.row("党办"), report.row("教务处")
    assert [r.key for r in report.rows] == ["党办", "教务处"]  # policy order; withdrawn c7 not counted
    assert (dangban.cases, jiaowu.cases) == (4, 2)
    assert dangban.rate("respond").text == "33.3%（1/3）"  # c4 not due yet; c3 never; c2 late
    assert dangban.rate("resolve").text == "50.0%（2/4）"
    assert dangban.rate("on_time").text == "33.3%（1/3）"  # c4's deadline not reached
    assert (dangban.satisfied, dangban.basic, dangban.unsatisfied) == (1, 1, 1)
    assert dangban.rate("satisfaction").text == "66.7%（2/3）"  # every answer's rating
    assert dangban.rate("followup").text == "—"  # the raiser rated every answer himself
    assert jiaowu.rate("respond").text == "100.0%（2/2）"  # answered at once is a response
    assert jiaowu.rate("satisfaction").text == "100.0%（1/1）"
    assert (jiaowu.unrated, jiaowu.awaiting) == (1, 0)  # c5: 未评价, never counted satisfied
    assert jiaowu.rate("followup").text == "50.0%（1/2）"
    assert report.total.cases == 6 and report.total.rate("satisfaction").text == "75.0%（3/4）"
    assert report.total.as_dict()["rates"]["satisfaction"] == 0.75


def test_the_figures_do_not_depend_on_the_plan_sqlite_picks(db, university):
    """With statistics (ANALYZE, as a maintained database has them) SQLite 3.40 answered
    min(at) … action IN (…) from the first action's index rows only: c1's response became its answer
    (11-06, late) instead of its referral (11-03)."""
    before = _november(db).row("党办").as_dict()
    db.execute("ANALYZE")
    after = _november(db).row("党办")
    assert after.as_dict() == before and after.rate("respond").text == "33.3%（1/3）"


def test_per_unit_cadre_and_month(db, university):
    by_unit = _november(db, by="unit")
    assert [(r.label, r.cases) for r in by_unit.rows] == [("后勤处（集团）", 2), ("未转办", 4)]
    by_cadre = _november(db, by="cadre")
    assert by_cadre.row(university["cadre"]).label == "王书记（10000001）"
    assert by_cadre.row(university["cadre"]).rate("on_time").text == "100.0%（1/1）"
    trend = kpis.compute(db, by="month", since=D(2026, 1, 1), until=D(2026, 12, 31))
    assert [(r.label, r.cases) for r in trend.rows] == [("2026年11月", 6)]
    only = _november(db, department="教务处")
    assert [r.key for r in only.rows] == ["教务处"]


def test_an_answer_still_in_its_window_is_awaiting_not_satisfied(db, university, monkeypatch):
    c4 = university["ids"][3]
    case_actions.answer(db, c4, "已解决", accounts.find_user(db, "dangban"))
    dangban = _november(db).row("党办")
    assert (dangban.awaiting, dangban.unrated, dangban.rate("satisfaction").due) == (1, 0, 3)
    _on(monkeypatch, D(2026, 12, 2))  # 5 working days later
    dangban = _november(db).row("党办")
    assert (dangban.awaiting, dangban.unrated, dangban.followup_due) == (0, 1, 1)


def test_definitions_are_policy_data(db, university, monkeypatch):
    strict = policy().model_copy(
        update={
            "kpis": policy().kpis.model_copy(update={"counts_as_satisfied": ["满意"], "respond_within": 3})
        }
    )
    monkeypatch.setattr(kpis, "policy", lambda: strict)
    dangban = _november(db).row("党办")
    assert dangban.rate("satisfaction").text == "33.3%（1/3）"  # 基本满意 no longer counts
    assert dangban.rate("respond").text == "66.7%（2/3）"  # c2 referred on the 3rd working day


def test_deadlines_follow_the_working_day_calendar(db, monkeypatch):
    """A case raised before National Day and answered on 10-09 responded within its 2 working days (10-08,
    10-09) and answered within its 5 (to 10-13); Monday to Friday alone would have made both late."""
    clerk = accounts.create_user(
        db, "dangban", "dangban", "Passw0rd!x", [Role(role="department", department="党办")]
    )
    _on(monkeypatch, D(2026, 9, 30))
    made = case_opening.open_case(
        db, source="reception", content="x", responsible_dept="党办", contact_date=D(2026, 9, 30)
    )
    _on(monkeypatch, D(2026, 10, 9))
    case_actions.answer(db, made.id, "已解决", clerk)
    _on(monkeypatch, D(2026, 11, 24))
    row = kpis.compute(db, since=D(2026, 9, 1), until=D(2026, 9, 30)).row("党办")
    assert row.rate("on_time").text == "100.0%（1/1）"
    assert row.rate("respond").text == "100.0%（1/1）"


def test_bad_ranges_are_refused(db):
    with pytest.raises(ValidationError):
        kpis.compute(db, since=D(2026, 2, 1), until=D(2026, 1, 1))
    with pytest.raises(ValidationError):
        kpis.compute(db, by="weather", since=D(2026, 1, 1), until=D(2026, 2, 1))
    assert kpis.period_range(db, "2026-2027-1", None, None) == (D(2026, 9, 1), D(2027, 1, 31))
    assert kpis.period_range(db, "2026-11", None, None) == (D(2026, 11, 1), D(2026, 11, 30))
    with pytest.raises(ValidationError):
        kpis.period_range(db, "2026", D(2026, 1, 1), None)


# --- on the demo university: the API and the workbooks (item 5) ------------------------------------


def test_the_api_answers_the_same_figures_with_their_counts(demo_db):
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from portal import api_tokens, server

    admin = accounts.find_user(demo_db, "admin")
    token = api_tokens.issue(demo_db, "数据中心", ["kpis"], 30, admin.id)[1]
    other = api_tokens.issue(demo_db, "接待前台", ["cases"], 30, admin.id)[1]
    client = TestClient(Starlette(routes=server.routes()))
    auth = {"Authorization": f"Bearer {token}"}
    r = client.get("/api/v1/kpis?period=2026", headers=auth)
    assert r.status_code == 200, r.text
    body = r.json()
    expected = kpis.compute(demo_db, since=D(2026, 1, 1), until=D(2026, 12, 31))
    assert (body["by"], body["from"], body["to"]) == ("department", "2026-01-01", "2026-12-31")
    assert [row["name"] for row in body["rows"]] == [r.label for r in expected.rows]
    assert body["total"] == expected.total.as_dict()
    first = body["rows"][0]
    assert (
        first["counts"]["rated"]
        == first["counts"]["satisfied"] + first["counts"]["basic"] + first["counts"]["unsatisfied"]
    )
    assert set(body["definitions"]) == set(kpis.RATES)
    by_unit = client.get(
        "/api/v1/kpis?by=unit&from=2026-09-01&to=2026-11-24&department=党办", headers=auth
    ).json()
    assert (
        by_unit["department"] == "党办"
        and by_unit["total"]["cases"]
        == kpis.compute(demo_db, since=D(2026, 9, 1), until=D(2026, 11, 24), department="党办").total.cases
    )
    for bad in (
        "by=weather",
        "period=2026-13",
        "from=2026-02-01&to=2026-01-01",
        "department=食堂",
        "year=2026",
        "period=2026&from=2026-01-01",
    ):
        r = client.get(f"/api/v1/kpis?{bad}", headers=auth)
        assert r.status_code == 400 and r.json()["error"], bad
    assert client.get("/api/v1/kpis", headers={"Authorization": f"Bearer {other}"}).status_code == 403
    assert client.get("/api/v1/kpis").status_code == 401
    assert "/api/v1/kpis" in client.get("/api/v1/openapi.json").json()["paths"]


def test_the_ledger_and_assessment_workbooks_carry_the_rates(demo_db):
    import io

    from openpyxl import load_workbook

    from portal import assessment, ledger

    dangban = accounts.find_user(demo_db, "dangban")
    book = ledger.build(demo_db, dangban, department="党办", since=D(2025, 11, 24), until=D(2026, 11, 24))
    wb = load_workbook(io.BytesIO(ledger.export_xlsx(demo_db, book)))
    report = kpis.compute(demo_db, since=book.since, until=book.until, department="党办")
    ws = wb["三率按责任部门"]
    assert [c.value for c in ws[3]][:5] == ["责任部门", "受理", "应响应", "按期响应", "按期响应率"]
    (row, total) = list(ws.iter_rows(min_row=4, max_row=5, values_only=True))
    assert row[0] == "党办" and row[1] == report.total.cases
    assert row[4] == pytest.approx(report.total.rate("respond").value)
    assert total[0] == "合计"
    trend = wb["三率按月趋势"]
    months = [r[0] for r in trend.iter_rows(min_row=4, values_only=True) if r[0] and r[0].endswith("月")]
    assert months == [
        r.label
        for r in kpis.compute(demo_db, by="month", since=book.since, until=book.until, department="党办").rows
    ]

    result = assessment.assess(demo_db, 2026)
    wb = load_workbook(io.BytesIO(assessment.export_xlsx(result)))
    header = [c.value for c in wb["单位排名"][3]]
    assert header[-4:] == ["承办意见建议", "办结率", "按期办结率", "满意率"]
    handled = next(u for u in result.units if u.handled and u.handled.rated)
    row = next(r for r in wb["单位排名"].iter_rows(min_row=4, values_only=True) if r[1] == handled.unit)
    assert row[-4] == handled.handled.cases
    assert row[-1] == pytest.approx(handled.handled.rate("satisfaction").value)
    assert [c.value for c in wb["干部汇总"][3]][-4] == "联系中反映的意见建议"
    assert wb["意见建议办理"]["A4"].value == result.departments.rows[0].label


def test_the_unit_report_says_how_the_unit_handled_cases(demo_db):
    import io

    from docx import Document

    from portal import assessment

    result = assessment.assess(demo_db, 2026)
    unit = next(u for u in result.units if u.responsible is not None)
    doc = Document(io.BytesIO(assessment.unit_report_docx(result, unit.unit)))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "四、意见建议办理情况" in text
    table = next(t for t in doc.tables if t.rows[0].cells[0].text == "指标")
    rates = {row.cells[0].text: row.cells[1].text for row in table.rows[1:]}
    assert rates["满意率"] == unit.responsible.rate("satisfaction").percent
