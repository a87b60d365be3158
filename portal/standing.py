"""Who is behind: every cadre in the viewer's scope against every rule of the current periods.

The overview a department or 组织部 needs instead of opening one cadre's dashboard at a time:
one row per cadre, one cell per (rule, period), filterable by unit, level and state, sorted by
how far behind the cadre is. The judgement is the quota engine's (``quota.compute``); this module
only arranges it. Beside the rules, this year's KPIs of the cases raised in each cadre's contacts
(portal/kpis.py; a department sees those of the cases it handles).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlite_utils import Database

from . import dates, kpis, periods, quota
from .accounts import User
from .errors import PermissionDenied

# What a filter on the state keeps: any cadre, those behind the pace, those who missed a task.
STATE_FILTERS = {"": "全部", "behind": "进度滞后", "missed": "未完成", "attention": "滞后或未完成"}
LEVELS = ("校级", "正处", "副处")


@dataclass
class Cell:
    rule: str
    period_kind: str
    label: str  # 听课（本学期）
    state: str  # 已完成 / 进行中 / 进度滞后 / 未完成 / 不考核
    done: float
    required: float
    shortfall: float  # 0–1: how much of the task is missing against the pace (or the whole, if missed)

    @property
    def text(self) -> str:
        return f"{self.state} {self.done:g}/{self.required:g}"


@dataclass
class Row:
    person_id: int
    staff_no: str
    name: str
    units: str
    levels: frozenset[str]
    cells: dict[str, Cell] = field(default_factory=dict)  # by column label
    contacts: kpis.Figures | None = None  # this year's cases raised in his or her contacts

    @property
    def behind(self) -> int:
        return sum(c.state == "进度滞后" for c in self.cells.values())

    @property
    def missed(self) -> int:
        return sum(c.state == "未完成" for c in self.cells.values())

    @property
    def shortfall(self) -> float:
        """How far behind, summed over the cells (a missed task counts whole)."""
        return round(sum(c.shortfall for c in self.cells.values()), 3)


@dataclass
class Standing:
    on: dt.date
    columns: list[str]  # cell labels, in the policy's order
    rows: list[Row]
    systems: list[str] | None  # None: every system


def _shortfall(result: quota.QuotaResult) -> float:
    if result.required <= 0 or result.status in ("met", "not_assessed"):
        return 0.0
    if result.status == "missed":
        return max(0.0, 1 - result.done / result.required)
    return max(0.0, (result.expected - result.done) / result.required)


def standing(
    db: Database,
    viewer: User,
    *,
    on: dt.date | None = None,
    unit_id: int | None = None,
    level: str | None = None,
    state: str = "",
) -> Standing:
    """The overview as ``viewer`` may see it: administrators every rule, a department its systems."""
    if not viewer.has("admin", "department"):
        raise PermissionDenied("只有责任部门和管理员可以查看干部任务总览")
    if state not in STATE_FILTERS:
        raise ValueError(state)
    on = on or dates.today()
    systems = quota.dashboard_systems(viewer, person_id=-1)
    current = periods.current_periods(db, on)
    since = min(p.start for p in current.values())
    wanted = {(p.kind, p.key) for p in current.values()}
    kind_titles = {"month": "本月", "semester": "本学期", "academic_year": "本学年", "year": "本年度"}

    holders: dict[int, tuple[set[str], set[str]]] = {}
    for post in quota.load_posts(db):
        if not post.active_on(on.isoformat()):
            continue
        if unit_id is not None and post.unit_id != unit_id:
            continue
        if level and post.level != level:
            continue
        units, levels = holders.setdefault(post.person_id, (set(), set()))
        units.add(post.unit_name)
        levels.add(post.level)

    rows: dict[int, Row] = {}
    columns: dict[str, None] = {}
    for r in quota.compute(db, since=since, on=on, systems=systems):
        if (r.period_kind, r.period) not in wanted or r.person_id not in holders:
            continue
        label = f"{r.title}（{kind_titles[r.period_kind]}）"
        columns[label] = None
        row = rows.get(r.person_id)
        if row is None:
            units, levels = holders[r.person_id]
            row = rows[r.person_id] = Row(
                r.person_id, r.staff_no, r.name, "、".join(sorted(units)), frozenset(levels)
            )
        row.cells[label] = Cell(r.rule, r.period_kind, label, r.state, r.done, r.required, _shortfall(r))

    kept = [
        row
        for row in rows.values()
        if state == ""
        or (state == "behind" and row.behind)
        or (state == "missed" and row.missed)
        or (state == "attention" and (row.behind or row.missed))
    ]
    kept.sort(key=lambda row: (-row.missed, -row.shortfall, -row.behind, row.staff_no))
    year = kpis.compute(
        db,
        by="cadre",
        since=dt.date(on.year, 1, 1),
        until=on,
        department=None if viewer.has("admin") else viewer.departments,
    )
    for row in kept:
        row.contacts = year.row(row.person_id)
    return Standing(on=on, columns=list(columns), rows=kept, systems=systems)


KPI_LABELS = ("意见建议（本年）", "按期办结率", "满意率")


def kpi_cells(row: Row) -> list[object]:
    """The cadre's contacts' cases this year: how many, 按期办结率 and 满意率 (with their counts)."""
    f = row.contacts
    if f is None:
        return [0, "—", "—"]
    return [f.cases, f.rate("on_time").text, f.rate("satisfaction").text]


def workbook(result: Standing) -> bytes:
    """The overview as an .xlsx (text cells; the sheet a department prints or forwards)."""
    # here: openpyxl loads only for a workbook, not for every importer
    from . import sheets

    columns = [("工号", 12), ("姓名", 10), ("单位", 24), ("滞后项", 8), ("未完成项", 8)]
    columns += [(c, 16) for c in result.columns]
    columns += [(c, 14) for c in KPI_LABELS]
    wb, ws = sheets.workbook_sheet(
        "干部任务总览", f"干部任务总览（截至 {dates.format_date(result.on)}）", columns
    )
    for row in result.rows:
        ws.append(
            sheets.safe_row(
                [
                    row.staff_no,
                    row.name,
                    row.units,
                    row.behind,
                    row.missed,
                    *[row.cells[c].text if c in row.cells else "" for c in result.columns],
                    *kpi_cells(row),
                ]
            )
        )
    return sheets.to_bytes(wb)
