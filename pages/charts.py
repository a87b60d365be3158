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


def readable(spec: dict, description: str) -> dict:
    """A chart spec made readable by everyone: drawn as SVG (crisp, and its text is text), its
    parts not announced one by one in Vega's English ("X-axis titled …", "bar") but the whole
    chart described in Chinese to a screen reader; 显示数据 in its toolbar offers the figures."""
    return {
        **spec,
        "description": description,
        "config": {**spec.get("config", {}), "aria": False},
        "usermeta": {"embedOptions": {"renderer": "svg"}},
    }


TASK_ROW = 46  # pixels per task: its name on one line, its bar under it


def overview_spec(rows: list[dict]) -> dict:
    """Vega-Lite for 我的工作台's bars: one bar per task, coloured by state, the task's name written
    above its bar (not beside it: on a phone the names took two thirds of the width), the bars
    the whole width, the legend below."""
    states = list(quota.STATE_COLORS)
    return readable(
        {
            "height": {"step": TASK_ROW},
            "encoding": {"y": {"field": "任务", "type": "nominal", "sort": None, "axis": None}},
            "layer": [
                {
                    "mark": {"type": "bar", "cornerRadiusEnd": 3, "height": 14, "yOffset": 9, "aria": False},
                    "encoding": {
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
                            "legend": {"orient": "bottom", "title": None, "columns": 3, "labelLimit": 120},
                        },
                        "tooltip": [{"field": "任务"}, {"field": "完成"}, {"field": "状态"}],
                    },
                },
                {
                    "mark": {
                        "type": "text",
                        "aria": False,
                        "align": "left",
                        "baseline": "bottom",
                        "yOffset": -1,
                        "fontSize": 13,
                        "limit": {"expr": "width"},
                    },
                    "encoding": {"x": {"datum": 0}, "text": {"field": "任务"}},
                },
            ],
        },
        "各项任务的完成度：" + "；".join(f"{r['任务']}，{r['状态']}，{r['完成']}" for r in rows),
    )


def month_label(month: str) -> str:
    """2026-09 → 2026年9月"""
    year, number = month.split("-")
    return f"{year}年{int(number)}月"


MONTH_ROW = 24  # pixels per month
# One colour per contact system, the same on every chart (the policy's order): eleven systems
# need more than Vega's ten default colours, which gave two systems the same blue.
SYSTEM_COLORS = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948",
    "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac", "#1b3a5c", "#8cd17d",
]  # fmt: skip


def system_colors(systems: list[str], present: list[str]) -> list[str]:
    """The colours of ``present`` (systems of the policy keep theirs; others follow)."""
    extra = iter(SYSTEM_COLORS[len(systems) :] or SYSTEM_COLORS)
    return [
        SYSTEM_COLORS[systems.index(s) % len(SYSTEM_COLORS)] if s in systems else next(extra) for s in present
    ]


def monthly_spec(rows: list[dict], systems: list[str]) -> dict:
    """Vega-Lite for 我的工作台's activities per month: a row per month (its name in full, on a phone
    too), the systems stacked in it in the policy's order, and a legend below that names every
    system present, in as many columns as the width holds."""
    present = [s for s in systems if any(r["system"] == s for r in rows)]
    present += sorted({r["system"] for r in rows} - set(present))
    months = sorted({r["month"] for r in rows})
    values = [{"月份": month_label(r["month"]), "制度": r["system"], "活动数": r["count"]} for r in rows]
    per_month = {m: sum(r["count"] for r in rows if r["month"] == m) for m in months}
    described = "还没有联系活动。"
    if months:
        busiest = max(months, key=per_month.__getitem__)
        described = (
            f"各月联系活动：{month_label(months[0])}至{month_label(months[-1])}共 {sum(per_month.values())} 条，"
            f"最多的是{month_label(busiest)}（{per_month[busiest]} 条）。"
        )
    return readable(
        {
            "data": {"values": values},
            "mark": {"type": "bar", "aria": False},
            "height": {"step": MONTH_ROW},
            "encoding": {
                "y": {
                    "field": "月份",
                    "type": "ordinal",
                    "sort": [month_label(m) for m in months],
                    "title": None,
                    "axis": {"labelLimit": 0},
                },
                "x": {
                    "field": "活动数",
                    "type": "quantitative",
                    "aggregate": "sum",
                    "title": "活动数（条）",
                    "axis": {"tickMinStep": 1, "format": "d"},
                },
                "color": {
                    "field": "制度",
                    "type": "nominal",
                    "sort": present,
                    "scale": {"domain": present, "range": system_colors(systems, present)},
                    "legend": {
                        "orient": "bottom",
                        "title": None,
                        "direction": "horizontal",
                        "columns": {"expr": "max(2, floor(width / 150))"},
                        "labelLimit": 150,
                    },
                },
                "order": {"field": "制度", "sort": "ascending"},
                "tooltip": [
                    {"field": "月份"},
                    {"field": "制度"},
                    {"field": "活动数", "type": "quantitative", "title": "活动数（条）"},
                ],
            },
        },
        described,
    )


HEAT_ROW = 22  # pixels per unit: every unit gets its own labelled row
HEAT_LABEL_CHARS = 4  # a column's name, four characters a line: 联系党外 / 代表人士
HEAT_LABEL_LINE = 15


def heatmap_spec(rows: list[dict], units: list[str], systems: list[str]) -> dict:
    """Vega-Lite for 年度考核's heatmap (a desktop's width: a phone gets a table, pages/assessment.py):
    every unit labelled (no label thinning), the systems' names horizontal and wrapped four
    characters a line so that neighbours never overlap, the height from the number of units, the
    figures in the tooltip; red (low) to green (high) as everywhere else."""
    n = HEAT_LABEL_CHARS
    return readable(
        {
            "data": {"values": rows},
            "mark": {"type": "rect", "stroke": "white", "strokeWidth": 1, "aria": False},
            "encoding": {
                "x": {
                    "field": "制度",
                    "type": "nominal",
                    "sort": systems,
                    "title": None,
                    "axis": {
                        "labelAngle": 0,
                        "labelOverlap": False,
                        "labelLimit": 0,
                        "orient": "top",
                        # two lines each, bottom-aligned: a short name on the second
                        "labelExpr": f"length(datum.label) > {n} ? [substring(datum.label, 0, {n}), substring(datum.label, {n})] : ['', datum.label]",
                        "labelLineHeight": HEAT_LABEL_LINE,
                        "labelPadding": HEAT_LABEL_LINE + 4,
                    },
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
        },
        f"各单位各项制度的完成率热力图：{len(units)} 个单位、{len(systems)} 项制度，"
        "按单位排名自上而下；各单位的完成率见“单位排名”。",
    )
