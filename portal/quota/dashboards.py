"""What 我的工作台 shows of one cadre: the quotas of this month, semester, academic year and year, the
past periods, the activities behind a result and activity per month; who may see whose."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlite_utils import Database

from .. import dates, periods
from ..accounts import User
from ..errors import PermissionDenied
from ..periods import Period
from ..policy import policy
from .engine import STATUSES, QuotaResult, compute
from .records import load_posts


@dataclass
class CountedActivity:
    id: int
    date: dt.date
    system: str
    subtype: str
    place: str
    counterpart_text: str
    hours: float


def counted_activities(
    db: Database, ids: Iterable[int], person_id: int | None = None
) -> list[CountedActivity]:
    """The activities behind a result (only the cadre's own when ``person_id`` is given)."""
    ids = sorted(set(ids))
    if not ids:
        return []
    out = []
    for chunk in range(0, len(ids), 500):
        part = ids[chunk : chunk + 500]
        sql = (
            "SELECT id, date, system, subtype, place, counterpart_text, hours FROM activities "
            f"WHERE voided_at IS NULL AND id IN ({','.join('?' * len(part))})"
        )
        params: list = list(part)
        if person_id is not None:
            sql += " AND cadre_id = ?"
            params.append(person_id)
        out += [
            CountedActivity(**{**r, "date": dt.date.fromisoformat(r["date"])}) for r in db.query(sql, params)
        ]
    return sorted(out, key=lambda a: (a.date, a.id))


def monthly_activity(db: Database, person_id: int, since: dt.date, on: dt.date) -> list[dict]:
    """Activities per month and system, for a chart: [{"month": "2026-09", "system": "听课", "count": 2}]."""
    rows = db.query(
        "SELECT substr(date, 1, 7) AS month, system, count(*) AS count FROM activities "
        "WHERE cadre_id = ? AND voided_at IS NULL AND date BETWEEN ? AND ? GROUP BY 1, 2 ORDER BY 1, 2",
        [person_id, since.isoformat(), on.isoformat()],
    )
    return list(rows)


@dataclass
class Dashboard:
    """Everything 我的工作台 shows for one cadre: this month, semester, academic year and year, the
    past periods since the previous academic year began, and activity per month for a chart."""

    person_id: int
    staff_no: str
    name: str
    on: dt.date
    current: dict[str, Period]
    results: list[QuotaResult]
    monthly: list[dict]

    def of(self, period: Period) -> list[QuotaResult]:
        return [r for r in self.results if r.period == period.key and r.period_kind == period.kind]

    @property
    def running(self) -> list[QuotaResult]:
        """Not done yet in a period still running, soonest due first."""
        return sorted(
            (r for r in self.results if r.status == "in_progress"),
            key=lambda r: (r.end, not r.behind, r.rule),
        )

    @property
    def behind(self) -> list[QuotaResult]:
        return [r for r in self.running if r.behind]

    @property
    def past(self) -> list[QuotaResult]:
        return sorted(
            (r for r in self.results if r.end < self.on), key=lambda r: (r.end, r.rule), reverse=True
        )

    def counts(self, results: Iterable[QuotaResult]) -> dict[str, int]:
        out = dict.fromkeys(STATUSES, 0)
        for r in results:
            out[r.status] += 1
        return out


def dashboard(
    db: Database, person_id: int, *, on: dt.date | None = None, systems: Iterable[str] | None = None
) -> Dashboard:
    """One cadre's dashboard data (``systems`` limits it to a department's systems)."""
    on = on or dates.today()
    this_year = periods.academic_year_of(db, on)
    previous = periods.academic_year_of(db, this_year.start - dt.timedelta(days=1))
    since = min(previous.start, dt.date(previous.start.year, 1, 1))
    systems = list(systems) if systems is not None else None
    results = compute(db, person_id=person_id, since=since, on=on, systems=systems)
    row = db.execute("SELECT staff_no, name FROM people WHERE id = ?", [person_id]).fetchone()
    monthly = monthly_activity(db, person_id, since, on)
    if systems is not None:
        monthly = [m for m in monthly if m["system"] in systems]
    return Dashboard(
        person_id=person_id,
        staff_no=row[0],
        name=row[1],
        on=on,
        current=periods.current_periods(db, on),
        results=results,
        monthly=monthly,
    )


def dashboard_systems(viewer: User, person_id: int) -> list[str] | None:
    """Which systems' rules ``viewer`` may see on ``person_id``'s dashboard (None: all of them).

    A cadre sees all of his or her own; an administrator anyone's; department staff anyone's,
    limited to the systems their department runs (第四条). Anyone else: PermissionDenied.
    """
    if viewer.has("admin") or (viewer.has("cadre") and viewer.person_id == person_id):
        return None
    if viewer.has("department"):
        systems = {s for d in viewer.departments for s in policy().systems_of_department(d)}
        return [s for s in policy().system_names if s in systems]
    raise PermissionDenied("您只能查看本人的工作台")


def dashboard_for(db: Database, viewer: User, person_id: int, *, on: dt.date | None = None) -> Dashboard:
    """A cadre's dashboard as ``viewer`` may see it (row-level scope checked here, not in the page)."""
    return dashboard(db, person_id, on=on, systems=dashboard_systems(viewer, person_id))


def dashboard_choices(db: Database, viewer: User, on: dt.date | None = None) -> list[tuple[int, str]]:
    """(person id, label) of the cadres whose dashboard ``viewer`` may open, his or her own first."""
    on = on or dates.today()
    own = viewer.person_id if viewer.has("cadre") else None
    if not viewer.has("admin", "department"):
        if own is None:
            return []
        return [(own, viewer.display_name)]
    posts = [p for p in load_posts(db) if p.active_on(on.isoformat())]
    seen: dict[int, str] = {}
    for p in posts:
        if p.person_id in seen:
            seen[p.person_id] += f"、{p.unit_name}"
        else:
            seen[p.person_id] = f"{p.name}（{p.staff_no}）{p.unit_name}"
    out = sorted(seen.items(), key=lambda kv: kv[0] != own)
    return out
