"""Department ledgers (工作台账, 第四、五条): what each responsible department keeps.

For a department, the systems it runs (``policy().systems_of_department``): the activities of
those systems in a date range (voided records left out) counted by system, month, semester, unit
and cadre (``build``: counts only, what the page opens on); the records themselves, read when
shown (``latest_rows``) or exported (``iter_rows``); then the institution-level duties it owns (docs/rules.md §3: reception
days held, 党外人士座谈会, retiree briefings, party branches without a contact, contact points
shared or kept under a year), judged by ``portal.quota.compute_institutional``.

The cases its department answers, in the KPIs (三率 and 回访率, portal/kpis.py: ``kpi_reports``), per
department, undertaking unit, cadre and month.

``export_xlsx`` lays it out as a paper 台账 would be: a title row, the department and range,
a bold frozen header, set column widths; one sheet per system, then the summaries and the KPIs.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from sqlite_utils import Database

from . import dates, kpis, periods, quota, sheets
from .accounts import User
from .db import snapshot
from .errors import PermissionDenied, ValidationError
from .policy import policy


@dataclass
class LedgerRow:
    activity_id: int
    date: dt.date
    staff_no: str
    cadre_name: str
    title: str  # the cadre's post on that day
    unit: str  # the unit of that post
    system: str
    subtype: str
    counterpart: str
    place: str
    hours: float
    content: str
    opinions: str
    followup: str
    month: str
    semester: str


@dataclass
class DutyRow:
    rule: str
    title: str
    article: str
    period_label: str
    required: float
    done: float
    status_label: str
    details: list[str] = field(default_factory=list)


DUTIES_TAB, SUMMARY_TAB, KPI_TAB = "学校层面制度落实", "汇总", "意见建议办理（三率）"
KPI_GROUPS = ("department", "unit", "cadre", "month")


@dataclass
class Ledger:
    """A department's ledger for a period, as the page shows it: how many activities each system
    has and the same counted four ways, and the institution-level duties. The activities
    themselves are read when they are shown (``latest_rows``) or exported (``export_xlsx``), not
    held: a whole university's year is 130,000 records."""

    department: str  # '' for the whole university (an administrator's view)
    systems: list[str]
    since: dt.date
    until: dt.date
    sizes: dict[str, int]  # activities per system, every system of the ledger present
    tallies: dict[str, dict[str, Counter]]  # per key (COUNT_KEYS): {key value: Counter(system)}
    duties: list[DutyRow]

    @property
    def name(self) -> str:
        return self.department or "全校"

    @property
    def total(self) -> int:
        return sum(self.sizes.values())

    @property
    def opening_tab(self) -> str:
        """Where the page opens: a department on its own systems (the one with the most records,
        so 教务处 lands on 听课, not on an empty tab); the whole university on the summary."""
        if not self.department or not self.systems:
            return SUMMARY_TAB
        return max(self.systems, key=lambda s: self.sizes[s])  # the first in policy order on a tie

    def counts(self, key: str) -> dict[str, Counter]:
        """Activities per ``key`` (month / semester / unit / cadre) and system: {key: Counter(system)}."""
        return self.tallies[key]


COUNT_KEYS = ("unit", "cadre", "semester", "month")
PROGRESS_EVERY = 500  # rows between two reports of an export's progress


def departments_for(viewer: User) -> list[str]:
    """The ledgers a user may open: his departments'; an administrator every one, and the whole ('')."""
    if viewer.has("admin"):
        return ["", *policy().departments]
    found = [d for d in viewer.departments if policy().systems_of_department(d)]
    if not found:
        raise PermissionDenied("只有责任部门的工作人员和系统管理员可以查看工作台账")
    return found


def _posts(db: Database) -> dict[int, list[tuple[str, str | None, str, str]]]:
    out: dict[int, list] = defaultdict(list)
    for r in db.query(
        "SELECT p.person_id, p.start_date, p.end_date, p.title, u.name AS unit FROM cadre_posts p "
        "JOIN units u ON u.id = p.unit_id ORDER BY p.person_id, p.start_date, p.id"
    ):
        out[r["person_id"]].append((r["start_date"], r["end_date"], r["title"], r["unit"]))
    return out


def _post_on(posts: list[tuple], day: str) -> tuple[str, str]:
    for start, end, title, unit in posts:
        if start <= day and (end is None or end >= day):
            return title, unit
    return (posts[-1][2], posts[-1][3]) if posts else ("", "")


class _Labels:
    """What a ledger row says of an activity beyond the activity itself: the cadre's post and unit
    on that day, his name as the summaries list him, the activity's semester and month."""

    def __init__(self, db: Database):
        self.db = db
        self.posts = _posts(db)
        self.people: dict[int, tuple[str, str, str]] = {}  # id -> (staff_no, name, unit)
        self.semesters: dict[str, str] = {}

    def person(self, person_id: int) -> tuple[str, str, str]:
        found = self.people.get(person_id)
        if found is None:
            row = self.db.execute(
                "SELECT p.staff_no, p.name, COALESCE(u.name, '') FROM people p "
                "LEFT JOIN units u ON u.id = p.unit_id WHERE p.id = ?",
                [person_id],
            ).fetchone()
            found = self.people[person_id] = tuple(row) if row else ("", "", "")
        return found

    def load_people(self, ids: Iterable[int]) -> None:
        """Everyone in ``ids`` in one query (a whole university's cadres), not one per person."""
        wanted = [i for i in set(ids) if i not in self.people]
        for chunk in range(0, len(wanted), 500):
            part = wanted[chunk : chunk + 500]
            for pid, staff_no, name, unit in self.db.execute(
                "SELECT p.id, p.staff_no, p.name, COALESCE(u.name, '') FROM people p "
                f"LEFT JOIN units u ON u.id = p.unit_id WHERE p.id IN ({','.join('?' * len(part))})",
                part,
            ):
                self.people[pid] = (staff_no, name, unit)

    def post(self, person_id: int, day: str) -> tuple[str, str]:
        """(title, unit) of the post held that day; the person's own unit if no post says."""
        title, unit = _post_on(self.posts.get(person_id, []), day)
        return title, unit or self.person(person_id)[2]

    def cadre(self, person_id: int) -> str:
        staff_no, name, _ = self.person(person_id)
        return f"{name}（{staff_no}）"

    def semester(self, day: str) -> str:
        found = self.semesters.get(day)
        if found is None:
            found = self.semesters[day] = periods.semester_containing(self.db, dt.date.fromisoformat(day)).key
        return found


def _check(viewer: User, department: str, since: dt.date, until: dt.date) -> list[str]:
    allowed = departments_for(viewer)
    if department not in allowed:
        raise PermissionDenied(f"您无权查看{department or '全校'}的工作台账")
    if since > until:
        raise ValidationError("起始日期不能晚于截止日期")
    return policy().systems_of_department(department) if department else policy().system_names


def build(db: Database, viewer: User, *, department: str = "", since: dt.date, until: dt.date) -> Ledger:
    """The ledger of ``department`` ('' = all systems, administrators only) for [since, until]."""
    systems = _check(viewer, department, since, until)
    labels = _Labels(db)
    sizes = {s: 0 for s in systems}
    tallies: dict[str, dict[str, Counter]] = {k: defaultdict(Counter) for k in COUNT_KEYS}
    by_unit, by_cadre, by_semester, by_month = (tallies[k] for k in COUNT_KEYS)
    # Counted in SQL from an index holding just date, system and cadre (m017), never reading the
    # records themselves: a whole university's year is 130,000 of them. A cadre's unit is the
    # post's on the day, so only cadres who changed posts are counted day by day.
    where = (
        "FROM activities a INDEXED BY activities_live_ledger WHERE a.voided_at IS NULL "
        f"AND a.system IN ({','.join('?' * len(systems))}) AND a.date BETWEEN ? AND ?"
    )
    params = [*systems, since.isoformat(), until.isoformat()]
    for day, system, n in db.execute(f"SELECT a.date, a.system, count(*) {where} GROUP BY 1, 2", params):
        sizes[system] += n
        by_semester[labels.semester(day)][system] += n
        by_month[day[:7]][system] += n
    per_cadre = db.execute(f"SELECT a.cadre_id, a.system, count(*) {where} GROUP BY 1, 2", params).fetchall()
    labels.load_people({r[0] for r in per_cadre})
    moved = {pid for pid, posts in labels.posts.items() if len(posts) > 1}
    for cadre_id, system, n in per_cadre:
        by_cadre[labels.cadre(cadre_id)][system] += n
        if cadre_id not in moved:  # one post (or none): the same unit every day
            by_unit[labels.post(cadre_id, "")[1]][system] += n
    moved_ids = sorted(moved & {r[0] for r in per_cadre})
    for chunk in range(0, len(moved_ids), 500):
        part = moved_ids[chunk : chunk + 500]
        for cadre_id, day, system, n in db.execute(
            f"SELECT a.cadre_id, a.date, a.system, count(*) {where} "
            f"AND a.cadre_id IN ({','.join('?' * len(part))}) GROUP BY 1, 2, 3",
            [*params, *part],
        ):
            by_unit[labels.post(cadre_id, day)[1]][system] += n
    return Ledger(
        department,
        list(systems),
        since,
        until,
        sizes,
        {k: dict(sorted(v.items())) for k, v in tallies.items()},
        _duties(db, department, since, until),
    )


_ROW_SQL = (
    "SELECT a.id, a.date, a.system, a.subtype, a.counterpart_text, a.place, a.hours, a.content, "
    "a.opinions, a.followup, a.cadre_id FROM activities a JOIN people p ON p.id = a.cadre_id "
    "WHERE a.voided_at IS NULL AND a.system = ? AND a.date BETWEEN ? AND ? "
)


def _row(labels: _Labels, r: tuple) -> LedgerRow:
    aid, day, system, subtype, counterpart, place, hours, content, opinions, followup, cadre_id = r
    title, unit = labels.post(cadre_id, day)
    staff_no, name, _ = labels.person(cadre_id)
    return LedgerRow(
        activity_id=aid,
        date=dt.date.fromisoformat(day),
        staff_no=staff_no,
        cadre_name=name,
        title=title,
        unit=unit,
        system=system,
        subtype=subtype,
        counterpart=counterpart,
        place=place,
        hours=hours,
        content=content,
        opinions=opinions,
        followup=followup,
        month=day[:7],
        semester=labels.semester(day),
    )


def iter_rows(db: Database, book: Ledger, system: str, labels: _Labels | None = None) -> Iterator[LedgerRow]:
    """Every activity of ``system`` in the ledger's period, in ledger order (date, 工号), one at a time.
    ``labels``: shared by the callers that read several systems (posts and people read once)."""
    if labels is None:
        labels = _Labels(db)
        labels.load_people(labels.posts)  # every cadre in one query, not one per cadre met
    for r in db.execute(
        _ROW_SQL + "ORDER BY a.date, p.staff_no, a.id",
        [system, book.since.isoformat(), book.until.isoformat()],
    ):
        yield _row(labels, r)


def latest_rows(
    db: Database, book: Ledger, system: str, limit: int, labels: _Labels | None = None
) -> list[LedgerRow]:
    """The ``limit`` most recent activities of ``system`` in the ledger's period, newest first."""
    labels = labels or _Labels(db)
    found = db.execute(
        _ROW_SQL + "ORDER BY a.date DESC, p.staff_no DESC, a.id DESC LIMIT ?",
        [system, book.since.isoformat(), book.until.isoformat(), limit],
    ).fetchall()
    labels.load_people({r[-1] for r in found})
    return [_row(labels, r) for r in found]


def latest(db: Database, book: Ledger, limit: int) -> dict[str, list[LedgerRow]]:
    """``latest_rows`` of every system of the ledger (what its tabs show), the posts read once."""
    labels = _Labels(db)
    return {s: latest_rows(db, book, s, limit, labels) for s in book.systems}


def _duties(db: Database, department: str, since: dt.date, until: dt.date) -> list[DutyRow]:
    found = quota.compute_institutional(
        db, since=since, on=until, departments=[department] if department else None
    )
    return [
        DutyRow(
            rule=r.rule,
            title=r.title,
            article=r.article,
            period_label=r.period_label,
            required=r.required,
            done=r.done,
            status_label=r.status_label,
            details=list(r.details),
        )
        for r in found
    ]


def kpi_reports(db: Database, book: Ledger) -> dict[str, kpis.Report]:
    """The ledger's cases in the KPIs (portal/kpis.py): those of its department (every department for
    the whole university) raised in its period, per department, undertaking unit, cadre and month."""
    return kpis.reports(
        db, KPI_GROUPS, since=book.since, until=book.until, department=book.department or None
    )


# --- the workbook ---------------------------------------------------------------------------

ACTIVITY_COLUMNS = [
    ("序号", 6),
    ("日期", 12),
    ("工号", 11),
    ("领导干部", 10),
    ("职务", 22),
    ("单位", 22),
    ("类别", 12),
    ("联系对象", 20),
    ("地点", 16),
    ("课时", 6),
    ("联系工作开展情况", 48),
    ("意见和建议", 36),
    ("落实情况", 30),
]
DUTY_COLUMNS = [
    ("条款", 8),
    ("制度", 40),
    ("期间", 22),
    ("应完成", 9),
    ("已完成", 9),
    ("状态", 9),
    ("说明", 60),
]


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def export_xlsx(db: Database, ledger: Ledger, progress: Callable[[int, int], None] | None = None) -> bytes:
    """The ledger as a workbook: every activity of each system, the four summaries and the duties.
    Rows are read one at a time in one read transaction, and the summaries counted from the rows
    written, so the sheets agree with each other even while others write. ``progress(done,
    total)`` hears of the rows written (every ``PROGRESS_EVERY``) and of the workbook saved."""
    # the activities, then saving the workbook: about as long as writing a fifth of them
    total = ledger.total + max(1, ledger.total // 5)
    written = 0
    if progress:
        progress(0, total)
    wb = sheets.new_workbook()
    span = f"{ledger.name}　{dates.format_date(ledger.since, weekday=False)} 至 {dates.format_date(ledger.until, weekday=False)}"
    tallies: dict[str, dict[str, Counter]] = {k: defaultdict(Counter) for k in COUNT_KEYS}
    with snapshot(db):
        labels = _Labels(db)
        labels.load_people(labels.posts)  # every cadre in one query
        for system in ledger.systems:
            ws = sheets.add_sheet(wb, system, f"领导干部联系师生工作台账（{system}）", ACTIVITY_COLUMNS, span)
            for i, r in enumerate(iter_rows(db, ledger, system, labels), start=1):
                written += 1
                if progress and written % PROGRESS_EVERY == 0:
                    progress(min(written, ledger.total), total)
                for key in ("unit", "semester", "month"):
                    tallies[key][getattr(r, key)][system] += 1
                tallies["cadre"][f"{r.cadre_name}（{r.staff_no}）"][system] += 1
                ws.append(
                    [
                        i,
                        r.date.isoformat(),
                        r.staff_no,
                        r.cadre_name,
                        r.title,
                        r.unit,
                        r.subtype,
                        r.counterpart,
                        r.place,
                        _number(r.hours) if r.hours else None,
                        r.content,
                        r.opinions,
                        r.followup,
                    ]
                )
    for key, label, width in (
        ("unit", "单位", 24),
        ("cadre", "领导干部", 22),
        ("semester", "学期", 14),
        ("month", "月份", 10),
    ):
        table = dict(sorted(tallies[key].items()))
        columns = [(label, width), *((s, max(8, len(s) * 2.2)) for s in ledger.systems), ("合计", 8)]
        ws = sheets.add_sheet(wb, f"按{label}汇总", f"联系活动按{label}汇总", columns, span)
        for k, counter in table.items():
            ws.append([k, *(counter.get(s, 0) for s in ledger.systems), sum(counter.values())])
        totals: Counter[str] = Counter()
        for counter in table.values():
            totals.update(counter)
        ws.append(["合计", *(totals.get(s, 0) for s in ledger.systems), sum(totals.values())])
    ws = sheets.add_sheet(
        wb, "学校层面制度落实", f"{ledger.name}负责的学校层面制度落实情况", DUTY_COLUMNS, span
    )
    for d in ledger.duties:
        ws.append(
            [
                d.article,
                d.title,
                d.period_label,
                _number(d.required),
                _number(d.done),
                d.status_label,
                "\n".join(d.details[:50]) + (f"\n……共 {len(d.details)} 项" if len(d.details) > 50 else ""),
            ]
        )
    for by, report in kpi_reports(db, ledger).items():
        kpis.add_sheet(
            wb,
            report,
            f"三率按{kpis.GROUP_LABELS[by]}" if by != "month" else "三率按月趋势",
            f"{ledger.name}意见建议办理指标（按{kpis.GROUP_LABELS[by]}；按反映日期统计，截至今日）",
            span,
        )
    if progress:
        progress(ledger.total, total)
    data = sheets.to_bytes(wb)
    if progress:
        progress(total, total)
    return data
