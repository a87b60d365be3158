"""Charts and bars the pages share, built as data so tests can read them without a browser.

Colours come from the core (``quota.STATE_COLORS``): green met, blue under way, amber behind the
pace, red missed, grey not assessed — on every page.
"""

from __future__ import annotations

from portal import quota

SEGMENTS = 10


def state_color(state: str) -> quota.Colour:
    """Streamlit's colour name for a result's state (for badges and coloured text)."""
    return quota.STATE_COLORS.get(state, ("gray", ""))[0]


def progress_bar(result: quota.QuotaResult) -> str:
    """A bar of ten segments in the colour of the result's state, as markdown text: Streamlit's own
    progress bar always takes the theme colour, which would paint a finished task red."""
    filled = round(result.progress * SEGMENTS)
    if result.progress > 0 and filled == 0:
        filled = 1  # something done shows
    color = state_color(result.state)
    bar = f":{color}[{'▰' * filled}]" if filled else ""
    if filled < SEGMENTS:
        bar += f":gray[{'▱' * (SEGMENTS - filled)}]"
    return bar


def overview_spec(rows: list[dict]) -> dict:
    """Vega-Lite for 我的工作台's bars: one bar per task, coloured by state, the legend below
    (above it was cut off on narrow screens), task names wrapped rather than cut."""
    states = list(quota.STATE_COLORS)
    return {
        "mark": {"type": "bar", "cornerRadiusEnd": 3},
        "encoding": {
            "y": {
                "field": "任务",
                "type": "nominal",
                "sort": None,
                "title": None,
                "axis": {"labelLimit": 260, "labelOverlap": False},
            },
            "x": {
                "field": "完成度",
                "type": "quantitative",
                "scale": {"domain": [0, 100]},
                "title": "完成度（%）",
            },
            "color": {
                "field": "状态",
                "type": "nominal",
                "scale": {"domain": states, "range": [quota.STATE_COLORS[s][1] for s in states]},
                "legend": {"orient": "bottom", "title": None, "columns": 5, "labelLimit": 80},
            },
            "tooltip": [{"field": "任务"}, {"field": "完成"}, {"field": "状态"}],
        },
        "height": {"step": 26},
    }


HEAT_ROW = 22  # pixels per unit: every unit gets its own labelled row


def heatmap_spec(rows: list[dict], units: list[str], systems: list[str]) -> dict:
    """Vega-Lite for 年度考核's heatmap: every unit labelled (no label thinning), horizontal Chinese
    labels on both axes, the height from the number of units, the figures in the tooltip; red
    (low) to green (high) as everywhere else."""
    return {
        "data": {"values": rows},
        "mark": {"type": "rect", "stroke": "white", "strokeWidth": 1},
        "encoding": {
            "x": {
                "field": "制度",
                "type": "nominal",
                "sort": systems,
                "title": None,
                "axis": {"labelAngle": 0, "labelOverlap": False, "labelLimit": 90, "orient": "top"},
            },
            "y": {
                "field": "单位",
                "type": "nominal",
                "sort": units,
                "title": None,
                "axis": {"labelOverlap": False, "labelLimit": 220},
            },
            "color": {
                "field": "完成率",
                "type": "quantitative",
                "scale": {
                    "domain": [0, 0.6, 1],
                    "range": [
                        quota.STATE_COLORS["未完成"][1],
                        quota.STATE_COLORS["进度滞后"][1],
                        quota.STATE_COLORS["已完成"][1],
                    ],
                },
                "legend": {"format": "%", "title": "完成率", "orient": "bottom"},
            },
            "tooltip": [
                {"field": "单位"},
                {"field": "制度"},
                {"field": "完成率", "type": "quantitative", "format": ".0%"},
                {"field": "已完成"},
                {"field": "考核项"},
            ],
        },
        "height": HEAT_ROW * max(1, len(units)),
    }
