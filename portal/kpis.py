"""The department KPIs (三率 and 回访率, 第五、三十二、三十三条): how each responsible department,
undertaking unit (承办单位) and cadre handles what teachers and students raise.

Each rate is defined once, in docs/rules.md §10, with its numbers in the policy data (``[kpis]``,
``[deadlines]``, ``[satisfaction]``); all working days are those of the deadlines (portal/workdays.py).
The cases counted are those raised (contact date) in the period, withdrawn ones left out; what
became of them is counted as it stands today:

* 按期响应率 = responded on time ÷ due for a response. A case is responded to when the department
  first refers it to an undertaking unit, records progress or answers it; on time: by the end of the
  ``kpis.respond_within``-th working day after the contact. Due: responded, or its time has passed.
* 办结率 = answered (已答复 or 已办结) ÷ cases.
* 按期办结率 = first answered by the deadline (``deadline_days`` working days after the contact) ÷
  due (answered, or the deadline has passed).
* 满意率 = ratings counted as satisfied (``kpis.counts_as_satisfied``: 满意, 基本满意) ÷ ratings, over
  every answer rated (a reopened case's answers are each rated). Unrated answers are 待评价 while
  their window runs and 未评价 after it — never satisfied.
* 回访率 = answers rated through a 回访 ÷ answers due for one (their window ended without the raiser's
  rating: the raiser's window of ``satisfaction.followup_after`` working days, none without an account).

Everything is counted in SQL (two grouped queries); the working-day deadlines enter as a small table of
dates computed once per call from the calendar. ``compute`` groups by department, unit, cadre or month.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlite_utils import Database

from . import dates, periods, workdays
from .errors import ValidationError
from .policy import policy

GROUPS = ("department", "unit", "cadre", "month", "total")
GROUP_LABELS = {
    "department": "责任部门",
    "unit": "承办单位",
    "cadre": "干部",
    "month": "月份",
    "total": "合计",
}
RATES = ("respond", "resolve", "on_time", "satisfaction", "followup")
RATE_LABELS = {
    "respond": "按期响应率",
    "resolve": "办结率",
    "on_time": "按期办结率",
    "satisfaction": "满意率",
    "followup": "回访率",
}
_GROUP_SQL = {
    "department": "c.responsible_dept",
    "unit": "c.handling_unit_id",
    "cadre": "c.cadre_id",
    "month": "substr(c.contact_date, 1, 7)",
    "total": "''",
}
# the department's first act on a case that counts as its response
RESPONSE_ACTIONS = ("referred", "progress", "answered")


@dataclass
class Rate:
    done: int
    due: int

    @property
    def value(self) -> float | None:
        return self.done / self.due if self.due else None

    @property
    def text(self) -> str:
        """95.2%（40/42）, or — when nothing was due."""
        return "—" if self.value is None else f"{self.value:.1%}（{self.done}/{self.due}）"

    @property
    def percent(self) -> str:
        return "—" if self.value is None else f"{self.value:.1%}"


@dataclass
class Figures:
    """The counts behind the rates of one group (a department, a unit, a cadre, a month)."""

    key: str | int | None
    label: str
    cases: int = 0  # raised in the period, not withdrawn
    respond_due: int = 0
    responded_on_time: int = 0
    resolved: int = 0  # answered or closed now
    resolve_due: int = 0
    resolved_on_time: int = 0
    satisfied: int = 0  # ratings 满意
    basic: int = 0  # 基本满意
    unsatisfied: int = 0  # 不满意
    counted_satisfied: int = 0  # those of them ``kpis.counts_as_satisfied`` counts
    awaiting: int = 0  # 待评价: unrated, window still open
    unrated: int = 0  # 未评价: unrated after the window
    followup_due: int = 0
    followed_up: int = 0

    @property
    def rated(self) -> int:
        return self.satisfied + self.basic + self.unsatisfied

    @property
    def rates(self) -> dict[str, Rate]:
        return {
            "respond": Rate(self.responded_on_time, self.respond_due),
            "resolve": Rate(self.resolved, self.cases),
            "on_time": Rate(self.resolved_on_time, self.resolve_due),
            "satisfaction": Rate(self.counted_satisfied, self.rated),
            "followup": Rate(self.followed_up, self.followup_due),
        }

    def rate(self, name: str) -> Rate:
        return self.rates[name]

    def as_dict(self) -> dict:
        """The JSON shape of the API and ``portal`` exports: the counts and each rate (None: nothing due)."""
        return {
            "key": self.key,
            "name": self.label,
            "cases": self.cases,
            "counts": {
                "respond_due": self.respond_due,
                "responded_on_time": self.responded_on_time,
                "resolved": self.resolved,
                "resolve_due": self.resolve_due,
                "resolved_on_time": self.resolved_on_time,
                "rated": self.rated,
                "satisfied": self.satisfied,
                "basic": self.basic,
                "unsatisfied": self.unsatisfied,
                "counted_satisfied": self.counted_satisfied,
                "awaiting": self.awaiting,
                "unrated": self.unrated,
                "followup_due": self.followup_due,
                "followed_up": self.followed_up,
            },
            "rates": {
                name: (None if r.value is None else round(r.value, 4)) for name, r in self.rates.items()
            },
        }


@dataclass
class Report:
    by: str
    since: dt.date
    until: dt.date
    on: dt.date
    rows: list[Figures]
    total: Figures
    filters: dict[str, object] = field(default_factory=dict)

    def row(self, key: str | int | None) -> Figures | None:
        return next((r for r in self.rows if r.key == key), None)


# --- the working-day deadlines as a table -------------------------------------------------------


def _deadline_tables(db: Database, since: dt.date, until: dt.date, on: dt.date) -> tuple[str, str, str]:
    """JSON objects SQL joins on: the response deadline of each contact day; the answer deadline of each
    (contact day, deadline_days) present; the end of the 回访 window of each answer day up to ``on``."""
    kp, sat = policy().kpis, policy().satisfaction
    spans = [
        r[0]
        for r in db.execute(
            "SELECT DISTINCT deadline_days FROM cases WHERE contact_date BETWEEN ? AND ?",
            [since.isoformat(), until.isoformat()],
        )
    ]
    longest = max([kp.respond_within, sat.followup_after, *spans])
    hi = max(until, on) + dt.timedelta(days=longest * 3 + 60)
    cal = workdays.calendar(db, since, hi)
    # the working days after ``since``, in order: the n-th one after a day is a look-up, not a walk
    days = [since + dt.timedelta(days=i) for i in range(1, (hi - since).days + 1)]
    working = [d.isoformat() for d in days if cal.is_working(d)]

    def after(day: dt.date, n: int) -> str:
        return day.isoformat() if n == 0 else working[bisect.bisect_right(working, day.isoformat()) + n - 1]

    respond, due, followup = {}, {}, {}
    for i in range((max(until, on) - since).days + 1):
        day = since + dt.timedelta(days=i)
        key = day.isoformat()
        if day <= until:
            respond[key] = after(day, kp.respond_within)
            for n in spans:
                due[f"{key}|{n}"] = after(day, n)
        if day <= on:
            followup[key] = after(day, sat.followup_after)
    return json.dumps(respond), json.dumps(due), json.dumps(followup)


# --- computing ------------------------------------------------------------------------------------


def compute(
    db: Database,
    *,
    by: str = "department",
    since: dt.date,
    until: dt.date,
    department: str | list[str] | None = None,
    unit_id: int | None = None,
    cadre_id: int | None = None,
) -> Report:
    """The KPIs of the cases raised in [since, until], grouped ``by`` (GROUPS), as they stand today;
    optionally only the cases of one responsible department (or of a list of them), one undertaking
    unit or one cadre. Callers check rights."""
    return reports(
        db, (by,), since=since, until=until, department=department, unit_id=unit_id, cadre_id=cadre_id
    )[by]


def reports(
    db: Database,
    groups: Sequence[str],
    *,
    since: dt.date,
    until: dt.date,
    department: str | list[str] | None = None,
    unit_id: int | None = None,
    cadre_id: int | None = None,
) -> dict[str, Report]:
    """``compute`` for several groupings at once (one pass over the cases: the 工作台账's four)."""
    bad = [g for g in groups if g not in GROUPS]
    if bad or not groups:
        raise ValidationError(f"未知的统计方式：{'、'.join(bad)[:40]}（{'、'.join(GROUPS)}）")
    if since > until:
        raise ValidationError("起始日期不能晚于截止日期")
    if (until - since).days > 3700:
        raise ValidationError("统计期间不能超过十年")
    on = dates.today()
    respond, due, followup = _deadline_tables(db, since, until, on)
    where = ["c.state != 'withdrawn'", "c.contact_date BETWEEN :since AND :until"]
    params: dict[str, object] = {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "today": on.isoformat(),
        "respond": respond,
        "due": due,
        "followup": followup,
    }
    filters: dict[str, object] = {"department": department, "unit_id": unit_id, "cadre_id": cadre_id}
    if isinstance(department, list):  # a department's staff holding several departments
        marks = ", ".join(f":dept{i}" for i in range(len(department)))
        where.append(f"c.responsible_dept IN ({marks or 'NULL'})")
        params.update({f"dept{i}": d for i, d in enumerate(department)})
        department = None
    for column, name, value in (
        ("c.responsible_dept", "department", department),
        ("c.handling_unit_id", "unit_id", unit_id),
        ("c.cadre_id", "cadre_id", cadre_id),
    ):
        if value is not None:
            where.append(f"{column} = :{name}")
            params[name] = value
    satisfied = policy().kpis.satisfied
    for i, rating in enumerate(satisfied):
        params[f"sat{i}"] = rating
    counted = ", ".join(f":sat{i}" for i in range(len(satisfied)))
    keys = ", ".join(f"{_GROUP_SQL[g]} AS g_{g}" for g in groups)

    def grouped(sums: str) -> str:  # the facts summed once per grouping, in one statement
        return " UNION ALL ".join(f"SELECT '{g}', g_{g}, {sums} FROM facts GROUP BY g_{g}" for g in groups)

    case_sums = grouped(
        "count(*), "
        "sum(responded IS NOT NULL OR respond_by < :today), "
        "sum(responded IS NOT NULL AND responded <= respond_by), "
        "sum(state IN ('answered', 'closed')), "
        "sum(first_answer IS NOT NULL OR due_by < :today), "
        "sum(first_answer IS NOT NULL AND first_answer <= due_by)"
    )
    answer_sums = grouped(
        "sum(rating = 'satisfied'), sum(rating = 'basic'), sum(rating = 'unsatisfied'), "
        f"sum(rating IN ({counted})), "
        "sum(rating IS NULL AND standing AND NOT passed), "
        "sum(rating IS NULL AND standing AND passed), "
        "sum(via = 'followup' OR (rating IS NULL AND standing AND passed)), "
        "sum(via = 'followup')"
    )
    # the earliest response: the earliest of each kind of step, each one seek in case_events_case_action.
    # Not min(at) … WHERE action IN (…): SQLite 3.40 answers that from the first action's rows of the
    # index alone (the earliest 答复, when a 转办 came before it).
    first_response = " UNION ALL ".join(
        f"SELECT min(e.at) AS t FROM case_events e WHERE e.case_id = c.id AND e.action = '{a}'"
        for a in RESPONSE_ACTIONS
    )
    # Each CTE is MATERIALIZED: a fact read through a correlated subquery is computed once per case (a
    # flattened subquery would run again for each sum and grouping that names it). CROSS JOIN keeps the
    # period's cases the outer loop (SQLite's planner would otherwise scan every case for each day of the
    # deadline tables, which get an automatic index for the lookup instead).
    cases_sql = f"""
        WITH respond AS MATERIALIZED (SELECT key AS day, value AS by FROM json_each(:respond)),
             due AS MATERIALIZED (SELECT key AS k, value AS by FROM json_each(:due)),
             facts AS MATERIALIZED (
                SELECT {keys}, c.state, r.by AS respond_by, d.by AS due_by,
                    (SELECT substr(min(t), 1, 10) FROM ({first_response})) AS responded,
                    (SELECT substr(min(a.at), 1, 10) FROM case_answers a WHERE a.case_id = c.id) AS first_answer
                FROM cases c
                CROSS JOIN respond r ON r.day = c.contact_date
                CROSS JOIN due d ON d.k = c.contact_date || '|' || c.deadline_days
                WHERE {" AND ".join(where)}
             )
        {case_sums}
    """
    answers_sql = f"""
        WITH followup AS MATERIALIZED (SELECT key AS day, value AS by FROM json_each(:followup)),
             facts AS MATERIALIZED (
                SELECT {keys}, r.rating, r.via,
                    (c.state IN ('answered', 'closed') AND a.seq = (SELECT max(l.seq) FROM case_answers l
                     WHERE l.case_id = a.case_id)) AS standing,
                    (c.raised_by IS NULL OR f.by < :today) AS passed
                FROM cases c
                CROSS JOIN case_answers a ON a.case_id = c.id
                LEFT JOIN case_ratings r ON r.answer_id = a.id
                LEFT JOIN followup f ON f.day = substr(a.at, 1, 10)
                WHERE {" AND ".join(where)}
             )
        {answer_sums}
    """
    found: dict[str, dict[str | int | None, Figures]] = {g: {} for g in groups}

    def figures(by: str, key: str | int | None) -> Figures:
        if key not in found[by]:
            found[by][key] = Figures(key=key, label="")
        return found[by][key]

    for by, g, *counts in db.execute(cases_sql, params):
        f = figures(by, g)
        (
            f.cases,
            f.respond_due,
            f.responded_on_time,
            f.resolved,
            f.resolve_due,
            f.resolved_on_time,
        ) = (n or 0 for n in counts)
    for by, g, *counts in db.execute(answers_sql, params):
        f = figures(by, g)
        (
            f.satisfied,
            f.basic,
            f.unsatisfied,
            f.counted_satisfied,
            f.awaiting,
            f.unrated,
            f.followup_due,
            f.followed_up,
        ) = (n or 0 for n in counts)
    out = {}
    for by in groups:
        labels = _labels(db, by, list(found[by]))
        rows = list(found[by].values())
        for row in rows:
            row.label = labels.get(row.key, "")
        rows.sort(key=functools.partial(_order, by))
        total = Figures(key=None, label="合计")
        for row in rows:
            for name in _COUNT_FIELDS:
                setattr(total, name, getattr(total, name) + getattr(row, name))
        out[by] = Report(
            by, since, until, on, rows, total, {k: v for k, v in filters.items() if v is not None}
        )
    return out


_COUNT_FIELDS = (
    "cases",
    "respond_due",
    "responded_on_time",
    "resolved",
    "resolve_due",
    "resolved_on_time",
    "satisfied",
    "basic",
    "unsatisfied",
    "counted_satisfied",
    "awaiting",
    "unrated",
    "followup_due",
    "followed_up",
)


def _labels(db: Database, by: str, keys: list) -> dict:
    if by == "department":
        return {k: k for k in keys}
    if by == "month":
        return {k: f"{k[:4]}年{int(k[5:])}月" for k in keys}
    if by == "total":
        return {k: "合计" for k in keys}
    ids = [k for k in keys if k is not None]
    out: dict = {None: "未转办" if by == "unit" else "（未关联干部）"}
    for chunk in range(0, len(ids), 500):
        part = ids[chunk : chunk + 500]
        marks = ",".join("?" * len(part))
        sql = (
            f"SELECT id, name FROM units WHERE id IN ({marks})"
            if by == "unit"
            else f"SELECT id, name || '（' || staff_no || '）' FROM people WHERE id IN ({marks})"
        )
        out.update(dict(db.execute(sql, part).fetchall()))
    return out


def _order(by: str, row: Figures) -> tuple:
    if by == "department":
        order = policy().departments
        return (order.index(row.key) if row.key in order else len(order), str(row.key))
    if by == "month":
        return (str(row.key),)
    return (row.key is None, -row.cases, row.label)


# --- periods --------------------------------------------------------------------------------------


def period_range(
    db: Database, key: str | None, since: dt.date | None, until: dt.date | None
) -> tuple[dt.date, dt.date]:
    """[since, until] of a period key (2026-11, 2026-2027-1, 2026-2027, 2026) or of explicit dates (both);
    default: this calendar year up to today."""
    if key:
        if since or until:
            raise ValidationError("期间（period）与起止日期（from/to）只能二选一")
        period = periods.period_from_key(db, key)
        return period.start, period.end
    today = dates.today()
    since = since or dt.date(today.year, 1, 1)
    until = until or (today if since.year == today.year else dt.date(since.year, 12, 31))
    return since, until


# --- in workbooks ------------------------------------------------------------------------------

# (header, width, the figure): a rate column holds its value as a percentage, its counts beside it
SHEET_COLUMNS: list[tuple[str, float, str]] = [
    ("受理", 7, "cases"),
    ("应响应", 7, "respond_due"),
    ("按期响应", 8, "responded_on_time"),
    ("按期响应率", 9, "respond"),
    ("已办结", 7, "resolved"),
    ("办结率", 8, "resolve"),
    ("应按期办结", 9, "resolve_due"),
    ("按期办结", 8, "resolved_on_time"),
    ("按期办结率", 9, "on_time"),
    ("已评价", 7, "rated"),
    ("满意", 6, "satisfied"),
    ("基本满意", 8, "basic"),
    ("不满意", 7, "unsatisfied"),
    ("满意率", 8, "satisfaction"),
    ("待评价", 7, "awaiting"),
    ("未评价", 7, "unrated"),
    ("应回访", 7, "followup_due"),
    ("已回访", 7, "followed_up"),
    ("回访率", 8, "followup"),
]


def sheet_values(row: Figures) -> list[object]:
    """One row's cells in ``SHEET_COLUMNS`` order: counts as numbers, rates as fractions (None: nothing due)."""
    rates = row.rates
    return [rates[name].value if name in rates else getattr(row, name) for _, _, name in SHEET_COLUMNS]


def add_sheet(wb, report: Report, name: str, title: str, subtitle: str) -> None:
    """``report`` as a sheet of ``wb`` (portal/sheets.py layout): one row per group, then 合计."""
    # here: openpyxl loads only for a workbook, not for every importer
    from . import sheets

    ws = sheets.add_sheet(
        wb,
        name,
        title,
        [
            (GROUP_LABELS[report.by], 24 if report.by != "month" else 12),
            *((h, w) for h, w, _ in SHEET_COLUMNS),
        ],
        subtitle,
    )
    percent = {i + 2: "0.0%" for i, (_, _, n) in enumerate(SHEET_COLUMNS) if n in RATES}
    for row in [*report.rows, report.total]:
        ws.append([row.label, *sheet_values(row)], formats=percent)
    ws.append_plain([])
    for line in definitions().values():  # what each rate counts, under the table
        ws.append_plain([line])


def definitions() -> dict[str, str]:
    """Each rate in one line, with the policy's numbers (the API's ``definitions``, workbook notes)."""
    kp, sat, dl = policy().kpis, policy().satisfaction, policy().deadlines
    return {
        "respond": f"按期响应率 = 联系后 {kp.respond_within} 个工作日内转办、记录办理进展或答复的件数 ÷ 已到响应期限或已响应的件数",
        "resolve": "办结率 = 已答复或已办结的件数 ÷ 受理件数",
        "on_time": f"按期办结率 = 在办理期限（接待日 {dl.reception}、座谈 {dl.symposium}、其他 {dl.other} 个工作日）内首次答复的件数 ÷ 已到期限或已答复的件数",
        "satisfaction": f"满意率 = 评价为{'、'.join(kp.counts_as_satisfied)}的次数 ÷ 评价次数（每次答复各评价一次）",
        "followup": f"回访率 = 经回访评价的答复 ÷ 答复后 {sat.followup_after} 个工作日提出人未评价的答复",
    }
