"""What leadership reads, measured in Chromium at 1366×900 and at 390×844: 我的工作台's monthly chart
names every system in its legend, inside the chart; on a phone its completion bars use the
width; 年度考核's heatmap columns are named in full without overlapping on a desktop, and a phone
gets a table that fits in its place."""

from __future__ import annotations

import pytest

from portal import accounts, quota
from portal.db import open_db
from tests.browser.conftest import PHONE, fits, login, open_page, phone_login

DESKTOP = {"width": 1366, "height": 900}
LEADER = "10000001"  # 党委书记: activities under all eleven systems in the past twelve months


@pytest.fixture
def desktop(browser, request):
    from tests.browser.conftest import _tab

    yield from _tab(browser, request, viewport=DESKTOP)


def chart(page, described: str):
    """The chart whose Chinese description (its accessible name) starts with ``described``."""
    found = page.locator(f"[data-testid=stVegaLiteChart][aria-label^='{described}']").first
    found.wait_for()
    found.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    return found


def texts(element, selector: str) -> list[dict]:
    """The SVG texts under ``selector`` with their boxes on screen."""
    return element.evaluate(
        """(c, selector) => [...c.querySelectorAll(selector + ' text')].map((t) => {
            const r = t.getBoundingClientRect();
            return {text: t.textContent, left: r.left, right: r.right, top: r.top, bottom: r.bottom};
        })""",
        selector,
    )


def inside(label: dict, box: dict) -> bool:
    return (
        label["left"] >= box["x"] - 1
        and label["right"] <= box["x"] + box["width"] + 1
        and label["bottom"] <= box["y"] + box["height"] + 1
    )


def monthly_systems(db_path) -> set[str]:
    with open_db(db_path) as db:
        user = accounts.find_user(db, LEADER)
        return {m["system"] for m in quota.dashboard(db, user.person_id).monthly}


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_the_monthly_legend_names_every_system_inside_the_chart(server, browser, request, size):
    systems = monthly_systems(server["db"])
    assert len(systems) == 11
    page = request.getfixturevalue(size)
    (login if size == "desktop" else phone_login)(page, server["url"], LEADER)
    open_page(page, server["url"], "dashboard", "我的工作台")
    monthly = chart(page, "各月联系活动")
    box = monthly.bounding_box()
    labels = texts(monthly, "g.role-legend-label")
    assert {label["text"] for label in labels} == systems  # none cut, none missing
    assert all(inside(label, box) for label in labels), [label for label in labels if not inside(label, box)]
    months = texts(monthly, "g.role-axis-label")
    assert any(label["text"] == "2026年11月" for label in months)  # months named in Chinese, in full


def test_the_completion_bars_use_a_phones_width(server, phone):
    phone_login(phone, server["url"], LEADER)
    open_page(phone, server["url"], "dashboard", "我的工作台")
    bars = chart(phone, "各项任务的完成度")
    width = bars.bounding_box()["width"]
    widest = bars.evaluate(
        "(c) => Math.max(...[...c.querySelectorAll('g.mark-rect path')].map((p) => p.getBoundingClientRect().width))"
    )
    # this month's one task is done: its bar spans the chart, not the third beside a long name
    assert widest >= 0.8 * width, (widest, width)
    names = texts(bars, "g.mark-text")
    assert names and all(inside(label, bars.bounding_box()) for label in names)


def test_the_heatmaps_columns_are_named_in_full_without_overlap(server, desktop):
    from portal import assessment

    with open_db(server["db"]) as db:
        systems = assessment.assess(db, 2026).systems
    login(desktop, server["url"], "zuzhi")
    open_page(desktop, server["url"], "assessment", "年度考核")
    heat = chart(desktop, "各单位各项制度的完成率")
    top = heat.evaluate(
        "(c) => Math.min(...[...c.querySelectorAll('g.mark-rect path')].map((p) => p.getBoundingClientRect().top))"
    )
    labels = [
        label for label in texts(heat, "g.role-axis-label") if label["bottom"] <= top
    ]  # the column heads
    # each name whole (a long one on two lines of the same label), none cut short with "…"
    assert sorted(label["text"] for label in labels) == sorted(systems)
    labels.sort(key=lambda label: label["left"])
    overlaps = [
        (a["text"], b["text"]) for a, b in zip(labels, labels[1:], strict=False) if b["left"] < a["right"]
    ]
    assert not overlaps, overlaps


def test_a_phone_gets_the_heatmap_as_a_table_of_one_unit(server, phone):
    phone_login(phone, server["url"], "zuzhi")
    open_page(phone, server["url"], "assessment", "年度考核")
    assert (
        phone.locator("[data-testid=stVegaLiteChart]").count() == 0
        or not phone.locator("[data-testid=stVegaLiteChart]").first.is_visible()
    )
    table = phone.locator(".st-key-phone_only_heat [data-testid=stDataFrame]")
    table.wait_for()
    assert table.is_visible()
    assert PHONE["width"] >= table.bounding_box()["x"] + table.bounding_box()["width"]
    fits(phone, "年度考核")
