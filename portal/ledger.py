"""Department ledgers (工作台账, 第四、五条): what each responsible department keeps.

For a department, the systems it runs (``policy().systems_of_department``): every activity of
those systems in a date range (voided records left out), and the same counted by month,
semester, unit and cadre; then the institution-level duties it owns (docs/rules.md §3: reception
days held, 党外人士座谈会, retiree briefings, party branches without a contact, contact points
shared or kept under a year), judged by ``portal.quota.compute_institutional``.

``export_xlsx`` lays it out as a paper 台账 would be: a title row, the department and range,
a bold frozen header, set column widths; one sheet per system, then the summaries.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from sqlite_utils import Database

from . import dates, periods, sheets
from .accounts import User
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


DUTIES_TAB, SUMMARY_TAB = "学校层面制度落实", "汇总"


@dataclass
class Ledger:
    department: str  # '' for the whole university (an administrator's view)
    systems: list[str]
    since: dt.date
    until: dt.date
    rows: list[LedgerRow]
    duties: list[DutyRow]

    @property
    def name(self) -> str:
        return self.department or "全校"

    @property
    def opening_tab(self) -> str:
        """Where the page opens: a department on its own systems (the one with the most records,
        so 教务处 lands on 听课, not on an empty tab); the whole university on the summary."""
        if not self.department or not self.systems:
            return SUMMARY_TAB
        sizes = {s: 0 for s in self.systems}
        for r in self.rows:
            sizes[r.system] = sizes.get(r.system, 0) + 1
        return max(self.systems, key=lambda s: sizes[s])  # the first in policy order on a tie

    def by_system(self) -> dict[str, list[LedgerRow]]:
        out: dict[str, list[LedgerRow]] = {s: [] for s in self.systems}
        for r in self.rows:
            out[r.system].append(r)
        return out

    def counts(self, key: str) -> dict[str, Counter]:
        """Activities per ``key`` (month / semester / unit / cadre) and system: {key: Counter(system)}."""
        out: dict[str, Counter] = defaultdict(Counter)
        for r in self.rows:
            k = f"{r.cadre_name}（{r.staff_no}）" if key == "cadre" else getattr(r, key)
            out[k][r.system] += 1
        return dict(sorted(out.items()))


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


def build(db: Database, viewer: User, *, department: str = "", since: dt.date, until: dt.date) -> Ledger:
    """The ledger of ``department`` ('' = all systems, administrators only) for [since, until]."""
    allowed = departments_for(viewer)
    if department not in allowed:
        raise PermissionDenied(f"您无权查看{department or '全校'}的工作台账")
    if since > until:
        raise ValidationError("起始日期不能晚于截止日期")
    systems = policy().systems_of_department(department) if department else policy().system_names
    posts = _posts(db)
    semester_of: dict[str, str] = {}
    rows = []
    marks = ",".join("?" * len(systems))
    for r in db.query(
        "SELECT a.id, a.date, a.system, a.subtype, a.counterpart_text, a.place, a.hours, a.content, "
        "a.opinions, a.followup, a.cadre_id, p.staff_no, p.name, COALESCE(u.name, '') AS person_unit "
        "FROM activities a JOIN people p ON p.id = a.cadre_id LEFT JOIN units u ON u.id = p.unit_id "
        f"WHERE a.voided_at IS NULL AND a.system IN ({marks}) AND a.date BETWEEN ? AND ? "
        "ORDER BY a.date, p.staff_no, a.id",
        [*systems, since.isoformat(), until.isoformat()],
    ):
        title, unit = _post_on(posts.get(r["cadre_id"], []), r["date"])
        if r["date"] not in semester_of:
            semester_of[r["date"]] = periods.semester_containing(db, dt.date.fromisoformat(r["date"])).key
        rows.append(
            LedgerRow(
                activity_id=r["id"],
                date=dt.date.fromisoformat(r["date"]),
                staff_no=r["staff_no"],
                cadre_name=r["name"],
                title=title,
                unit=unit or r["person_unit"],
                system=r["system"],
                subtype=r["subtype"],
                counterpart=r["counterpart_text"],
                place=r["place"],
                hours=r["hours"],
                content=r["content"],
                opinions=r["opinions"],
                followup=r["followup"],
                month=r["date"][:7],
                semester=semester_of[r["date"]],
            )
        )
    return Ledger(department, list(systems), since, until, rows, _duties(db, department, since, until))


def _duties(db: Database, department: str, since: dt.date, until: dt.date) -> list[DutyRow]:
    from . import quota

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


def export_xlsx(ledger: Ledger) -> bytes:
    wb = sheets.new_workbook()
    span = f"{ledger.name}　{dates.format_date(ledger.since, weekday=False)} 至 {dates.format_date(ledger.until, weekday=False)}"
    for system, rows in ledger.by_system().items():
        ws = sheets.add_sheet(wb, system, f"领导干部联系师生工作台账（{system}）", ACTIVITY_COLUMNS, span)
        for i, r in enumerate(rows, start=1):
            ws.append(
                sheets.safe_row(
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
            )
    for key, label, width in (
        ("unit", "单位", 24),
        ("cadre", "领导干部", 22),
        ("semester", "学期", 14),
        ("month", "月份", 10),
    ):
        table = ledger.counts(key)
        columns = [(label, width), *((s, max(8, len(s) * 2.2)) for s in ledger.systems), ("合计", 8)]
        ws = sheets.add_sheet(wb, f"按{label}汇总", f"联系活动按{label}汇总", columns, span)
        for k, counter in table.items():
            ws.append(
                sheets.safe_row([k, *(counter.get(s, 0) for s in ledger.systems), sum(counter.values())])
            )
        totals = Counter()
        for counter in table.values():
            totals.update(counter)
        ws.append(["合计", *(totals.get(s, 0) for s in ledger.systems), sum(totals.values())])
    ws = sheets.add_sheet(
        wb, "学校层面制度落实", f"{ledger.name}负责的学校层面制度落实情况", DUTY_COLUMNS, span
    )
    for d in ledger.duties:
        ws.append(
            sheets.safe_row(
                [
                    d.article,
                    d.title,
                    d.period_label,
                    _number(d.required),
                    _number(d.done),
                    d.status_label,
                    "\n".join(d.details[:50])
                    + (f"\n……共 {len(d.details)} 项" if len(d.details) > 50 else ""),
                ]
            )
        )
    return sheets.to_bytes(wb)
