"""Charts that can be read: one colour per state everywhere, every heatmap row labelled."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

from pages import charts
from portal import accounts, assessment, quota
from portal.policy import policy
from tests.conftest import goto, login

GREEN, BLUE, AMBER, RED, GREY = (
    quota.STATE_COLORS[s][1] for s in ("已完成", "进行中", "进度滞后", "未完成", "不考核")
)


def _result(**changes) -> quota.QuotaResult:
    base = quota.QuotaResult(
        person_id=1, staff_no="1", name="甲", unit="学院", rule="lecture.base", title="听课", system="听课",
        article="第七条", kind="count", period="2026", period_kind="year", period_label="2026 年",
        start=dt.date(2026, 1, 1), end=dt.date(2026, 12, 31), required=1, done=1, max=None,
        status="met", expected=1, behind=False,
    )  # fmt: skip
    return dataclasses.replace(base, **changes)


def test_one_colour_per_state():
    assert [quota.STATE_COLORS[s][0] for s in ("已完成", "进行中", "进度滞后", "未完成", "不考核")] == [
        "green", "blue", "orange", "red", "gray",
    ]  # fmt: skip
    assert len({hex for _, hex in quota.STATE_COLORS.values()}) == len(quota.STATE_COLORS)


def test_a_finished_task_is_a_green_bar_and_a_missed_one_red():
    done = _result()
    assert done.state == "已完成"
    assert charts.progress_bar(done) == ":green[▰▰▰▰▰▰▰▰▰▰]"
    missed = _result(done=0, status="missed")
    assert charts.progress_bar(missed) == ":gray[▱▱▱▱▱▱▱▱▱▱]" and missed.state == "未完成"
    late = _result(required=4, done=1, status="in_progress", expected=3, behind=True)
    assert late.state == "进度滞后"
    assert charts.progress_bar(late).startswith(":orange[▰▰")  # 25 % in amber
    going = _result(required=4, done=2, status="in_progress", expected=2)
    assert charts.progress_bar(going).startswith(":blue[▰▰▰▰▰]")


def test_the_overview_chart_uses_the_same_colours_and_keeps_its_legend_in_view():
    spec = charts.overview_spec([])
    bars, names = spec["layer"]
    scale = bars["encoding"]["color"]["scale"]
    assert dict(zip(scale["domain"], scale["range"], strict=True)) == {
        s: hex for s, (_, hex) in quota.STATE_COLORS.items()
    }
    assert bars["encoding"]["color"]["legend"]["orient"] == "bottom"
    # the task's name is written above its bar, not on an axis beside it: the bar keeps the width
    assert spec["encoding"]["y"]["axis"] is None and names["encoding"]["text"]["field"] == "任务"


def test_a_chart_describes_itself_in_chinese_and_keeps_vegas_english_quiet():
    spec = charts.readable({"mark": "bar"}, "各月联系活动：……")
    assert spec["description"] == "各月联系活动：……"
    assert spec["config"]["aria"] is False  # no "X-axis titled …", "bar" read out
    assert spec["usermeta"]["embedOptions"]["renderer"] == "svg"


def test_the_monthly_chart_names_every_system_in_its_own_colour_and_months_in_chinese():
    systems = policy().system_names
    rows = [
        {"month": f"2026-{m:02d}", "system": s, "count": 1 + i % 3}
        for m in (1, 2)
        for i, s in enumerate(systems)
    ]
    spec = charts.monthly_spec(rows, systems)
    color = spec["encoding"]["color"]
    assert color["scale"]["domain"] == systems  # all eleven, in the policy's order
    assert len(set(color["scale"]["range"])) == len(systems) == 11  # no two systems share a colour
    assert color["legend"]["labelLimit"] >= 8 * 14  # 联系离退休老同志 whole
    assert spec["encoding"]["y"]["sort"] == ["2026年1月", "2026年2月"]
    assert spec["description"].startswith("各月联系活动：2026年1月至2026年2月共")
    # a cadre who has not recorded every system gets the same colour for a system as everyone
    some = charts.monthly_spec([r for r in rows if r["system"] in systems[3:5]], systems)
    assert some["encoding"]["color"]["scale"]["range"] == color["scale"]["range"][3:5]


def test_every_unit_of_the_heatmap_has_a_horizontal_label(demo_db):
    result = assessment.assess(demo_db, 2026)
    units = [u.unit for u in result.units]
    spec = charts.heatmap_spec(assessment.heat_rows(result), units, result.systems)
    assert spec["height"] == charts.HEAT_ROW * len(units)
    assert spec["encoding"]["y"]["axis"]["labelOverlap"] is False  # no unit left unlabelled
    assert spec["encoding"]["x"]["axis"]["labelAngle"] == 0
    assert spec["encoding"]["x"]["axis"]["labelLimit"] == 0  # never cut short …
    assert "substring(datum.label, 0, 4)" in spec["encoding"]["x"]["axis"]["labelExpr"]  # … but wrapped
    assert [t["field"] for t in spec["encoding"]["tooltip"]] == ["单位", "制度", "完成率", "已完成", "考核项"]
    assert spec["encoding"]["color"]["scale"]["range"] == [RED, AMBER, GREEN]


def test_the_dashboard_paints_each_task_in_its_state(demo_db):
    at = login("10010001")
    goto(at, "pages/dashboard.py").run()
    assert not at.exception, at.exception
    bars = [m.value for m in at.markdown if "▰" in m.value or "▱" in m.value]
    assert bars
    user = accounts.find_user(demo_db, "10010001")
    board = quota.dashboard(demo_db, user.person_id)
    for r in (
        r for r in board.results if r.end >= board.on and r.period in {p.key for p in board.current.values()}
    ):
        assert any(charts.progress_bar(r) in b for b in bars), r.title
    chart = json.loads(at.get("vega_lite_chart")[0].proto.spec)
    assert chart["layer"][0]["encoding"]["color"]["legend"]["orient"] == "bottom"
