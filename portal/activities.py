"""Contact activities (联系活动): logging, editing with history, voiding, and who may see what.

One row of ``activities`` is one contact of one cadre under one of the eleven systems
(第三条). The services here are the only writers of ``activities``, ``activity_targets``
and ``activity_history``:

* ``log_activity`` (``activity_recording``) validates in Chinese, keeps who entered it, names the targets or
  counterparts in ``activity_targets`` (what the per-target quota rules read), writes the
  first history entry, and opens one case per opinion item raised (docs/rules.md §5).
* ``update_activity`` keeps a history snapshot of every change; ``void_activity`` marks a
  row void with a reason — nothing is ever hard-deleted. Both keep the cases consistent: an
  opinion removed (or the whole activity voided) withdraws its case if no department acted on
  it yet, else flags it to the department (``case_opening.withdraw_for_activity``).
* Row-level scope: a cadre sees and edits only his or her own; department staff see and
  log on behalf of cadres only for the systems their department runs (第四条); admins all.

This module holds what an activity is, who may see which, and the reading (``get_activity``,
``list_activities``, ``page_activities``, ``history``). Beside it: ``activity_validation`` (every problem
of an input, in Chinese; the targets of imported rows), ``activity_recording`` (the writers: ``log_activity``,
``update_activity``, ``void_activity``, ``insert_activity``), ``activity_export`` (the list as a workbook).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass
from typing import ClassVar, TypedDict, Unpack

from pydantic import BaseModel, Field
from sqlite_utils import Database

from . import states
from .accounts import User
from .errors import NotFound, PermissionDenied
from .periods import period_from_key
from .policy import policy

# Which assignment kind a subtype's targets come from (docs/rules.md §3: "visits name the target").
TARGET_KINDS: dict[tuple[str, str], str] = {
    ("联系基层", "联系学院"): "联系学院",
    ("联系基层", "联系点"): "联系点",
    ("联系基层", "结对子"): "结对子",
    ("联系师生党支部", "组织生活"): "党支部",
    ("联系师生党支部", "主题党日"): "党支部",
    ("联系高层次人才", "走访"): "高层次人才",
    ("联系党外代表人士", "交流谈心"): "党外代表人士",
    ("联系离退休老同志", "走访"): "离退休老同志",
}
# Systems whose activities name counterparts (people, by 工号) rather than assigned targets.
COUNTERPART_SYSTEMS = {"谈心谈话"}
HOURS_SUBTYPE = ("讲思政课", "思政课授课")
MIN_HOURS, MAX_HOURS = 0.5, 8.0
EARLIEST = dt.date(2000, 1, 1)
MAX_OPINIONS = 20
# A record naming more targets than this is saved only after the person confirms the list: the
# record and its Word form are official, and one tap once named every college of a cadre.
MANY_TARGETS = 3
LIMITS = {
    "place": 100,
    "counterpart_text": 500,
    "participants": 500,
    "content": 5000,
    "opinion": 2000,
    "followup": 5000,
}
FIELD_LABELS = {
    "cadre_id": "领导干部",
    "system": "制度",
    "subtype": "类别",
    "date": "日期",
    "place": "地点",
    "counterpart_text": "联系对象",
    "target_codes": "对象编号",
    "hours": "课时",
    "participants": "参加人员",
    "content": "开展情况",
    "opinions": "意见建议",
    "followup": "落实情况",
}
SOURCES = ("form", "import", "reception")
_ITEM = re.compile(r"^(\d{1,2})[.、．]\s?", re.MULTILINE)


class ActivityInput(BaseModel):
    """What a person fills in: the record form's fields plus targets, hours and opinions."""

    cadre_id: int
    system: str
    subtype: str
    date: dt.date
    place: str = ""
    counterpart_text: str = ""  # 联系对象 as printed; derived from the targets when left empty
    target_codes: list[str] = Field(default_factory=list)  # assignments' codes, or counterparts' 工号
    hours: float = 0
    participants: str = ""
    content: str = ""  # 联系工作开展情况
    opinions: list[str] = Field(default_factory=list)  # one item per opinion raised
    followup: str = ""  # 落实情况
    source: str = "form"


class Activity(BaseModel):
    id: int
    cadre_id: int
    cadre_staff_no: str
    cadre_name: str
    system: str
    subtype: str
    date: dt.date
    place: str = ""
    counterpart_text: str = ""
    target_codes: list[str] = []
    hours: float = 0
    participants: str = ""
    content: str = ""
    opinions_text: str = ""
    followup: str = ""
    source: str = "form"
    import_key: str | None = None
    entered_by: int | None = None
    entered_by_name: str = ""
    created_at: str
    updated_at: str
    voided_at: str | None = None
    void_reason: str | None = None

    @property
    def opinions(self) -> list[str]:
        return split_opinions(self.opinions_text)

    @property
    def voided(self) -> bool:
        return self.voided_at is not None

    def as_input(self) -> ActivityInput:
        return ActivityInput(
            cadre_id=self.cadre_id,
            system=self.system,
            subtype=self.subtype,
            date=self.date,
            place=self.place,
            counterpart_text=self.counterpart_text,
            target_codes=self.target_codes,
            hours=self.hours,
            participants=self.participants,
            content=self.content,
            opinions=self.opinions,
            followup=self.followup,
            source=self.source,
        )


class HistoryEntry(BaseModel):
    at: str
    user_name: str
    action: str  # created / edited / voided
    snapshot: dict


# --- opinions as text ----------------------------------------------------------------------


def join_opinions(items: list[str]) -> str:
    """The 意见建议 cell: one item as typed; several numbered 1. 2. … one per line."""
    items = [i for i in items if i.strip()]
    if len(items) == 1:
        return items[0]
    return "\n".join(f"{n}. {item}" for n, item in enumerate(items, start=1))


def split_opinions(text: str) -> list[str]:
    """The items of a 意见建议 cell (the inverse of ``join_opinions``)."""
    text = (text or "").strip()
    if not text:
        return []
    marks = list(_ITEM.finditer(text))
    numbered = (
        len(marks) >= 2
        and marks[0].start() == 0
        and [int(m.group(1)) for m in marks] == list(range(1, len(marks) + 1))
    )
    if not numbered:
        return [text]
    bounds = [m.start() for m in marks] + [len(text)]
    return [text[m.end() : bounds[i + 1]].rstrip("\n").strip() for i, m in enumerate(marks)]


def import_key(
    staff_no: str, day: dt.date | str, system: str, subtype: str, codes: list[str], content: str
) -> str:
    """The key of docs/formats.md: 工号 + 日期 + 制度 + 类别 + 对象编号 + 开展情况 (hashed: content is long)."""
    day = day.isoformat() if isinstance(day, dt.date) else str(day)
    raw = "\x1f".join([staff_no.strip(), day, system, subtype, ";".join(sorted(codes)), content.strip()])
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]


def period_range(db: Database, key: str) -> tuple[dt.date, dt.date]:
    """First and last day of a period key (``portal.periods``: 2026, 2026-03, 2026-2027, 2026-2027-1)."""
    period = period_from_key(db, key)
    return period.start, period.end


# --- scope ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """What a user may see: everything, some systems (department staff), his own (a cadre)."""

    everything: bool
    systems: frozenset[str]
    person_id: int | None

    @property
    def empty(self) -> bool:
        return not self.everything and not self.systems and self.person_id is None

    def covers(self, cadre_id: int, system: str) -> bool:
        return (
            self.everything
            or system in self.systems
            or (self.person_id is not None and cadre_id == self.person_id)
        )


def scope_of(user: User) -> Scope:
    systems: set[str] = set()
    for dept in user.departments:
        systems.update(policy().systems_of_department(dept))
    return Scope(
        everything=user.has("admin"),
        systems=frozenset(systems),
        person_id=user.person_id if user.has("cadre") else None,
    )


def systems_for(user: User) -> list[str]:
    """The systems the user may log or see, in the policy's order."""
    scope = scope_of(user)
    if scope.everything or scope.person_id is not None:
        return policy().system_names
    return [s for s in policy().system_names if s in scope.systems]


def can_log_for_others(user: User) -> bool:
    scope = scope_of(user)
    return scope.everything or bool(scope.systems)


def scope_clause(scope: Scope, alias: str = "a") -> tuple[str, list]:
    """The scope as an SQL condition on ``activities`` (aliased ``alias``) and its parameters."""
    if scope.everything:
        return "1 = 1", []
    parts: list[str] = []
    params: list[object] = []
    if scope.systems:
        parts.append(f"{alias}.system IN ({', '.join('?' * len(scope.systems))})")
        params.extend(sorted(scope.systems))
    if scope.person_id is not None:
        parts.append(f"{alias}.cadre_id = ?")
        params.append(scope.person_id)
    return "(" + (" OR ".join(parts) or "0") + ")", params


def require_scope(scope: Scope, cadre_id: int, system: str, what: str) -> None:
    if not scope.covers(cadre_id, system):
        raise PermissionDenied(f"您无权{what}此联系活动：只能处理本人的记录，或本部门负责的制度的记录")


# --- reading -------------------------------------------------------------------------------

_SQL = (
    "SELECT a.*, p.staff_no AS cadre_staff_no, p.name AS cadre_name, "
    "COALESCE(u.display_name, '') AS entered_by_name, "
    "(SELECT json_group_array(t.target_code) FROM activity_targets t WHERE t.activity_id = a.id) AS codes "
    "FROM activities a JOIN people p ON p.id = a.cadre_id LEFT JOIN users u ON u.id = a.entered_by "
)


def _activity(row: dict) -> Activity:
    row = dict(row)
    row["target_codes"] = sorted(json.loads(row.pop("codes") or "[]"))
    row["opinions_text"] = row.pop("opinions")
    return Activity(**row)


def load_activity(db: Database, activity_id: int) -> Activity:
    rows = list(db.query(_SQL + "WHERE a.id = ?", [activity_id]))
    if not rows:
        raise NotFound("联系活动记录不存在")
    return _activity(rows[0])


def get_activity(db: Database, activity_id: int, viewer: User) -> Activity:
    activity = load_activity(db, activity_id)
    require_scope(scope_of(viewer), activity.cadre_id, activity.system, "查看")
    return activity


class ActivityFilter(TypedDict, total=False):
    """What a list of activities is narrowed to besides the viewer's scope: the keyword arguments
    ``filter_clause``, ``list_activities`` and ``page_activities`` share (each one optional)."""

    cadre_id: int | None
    system: str | None
    unit_id: int | None  # cadres holding a post in this unit
    since: dt.date | None
    until: dt.date | None
    include_voided: bool


def filter_clause(viewer: User, **filters: Unpack[ActivityFilter]) -> tuple[str, list]:
    """The WHERE clause of the viewer's scope and the filters (on ``activities a``): the one place
    the lists, the pages and the search turn activity filters into SQL. Raises
    ``PermissionDenied`` for a viewer who sees no activity."""
    unknown = set(filters) - set(ActivityFilter.__annotations__)
    if unknown:  # a TypedDict checks nothing at run time; a misspelt filter must not widen the list
        raise TypeError(f"unknown activity filters: {', '.join(sorted(unknown))}")
    scope = scope_of(viewer)
    if scope.empty:
        raise PermissionDenied("您无权查看联系活动记录")
    visible, params = scope_clause(scope)
    where = [visible]
    since, until = filters.get("since"), filters.get("until")
    for condition, value in (
        ("a.cadre_id = ?", filters.get("cadre_id")),
        ("a.system = ?", filters.get("system") or None),
        ("a.cadre_id IN (SELECT person_id FROM cadre_posts WHERE unit_id = ?)", filters.get("unit_id")),
        ("a.date >= ?", since and since.isoformat()),
        ("a.date <= ?", until and until.isoformat()),
    ):
        if value is not None:
            where.append(condition)
            params.append(value)
    if not filters.get("include_voided"):
        where.append("a.voided_at IS NULL")
    return " AND ".join(where), params


def list_activities(
    db: Database, viewer: User, *, limit: int | None = None, **filters: Unpack[ActivityFilter]
) -> list[Activity]:
    """Activities within the viewer's scope and the filters, newest first, as models."""
    where, params = filter_clause(viewer, **filters)
    sql = _SQL + "WHERE " + where + " ORDER BY a.date DESC, a.id DESC"
    if limit:
        sql += f" LIMIT {int(limit)}"
    return [_activity(r) for r in db.query(sql, params)]


class ActivityPage(BaseModel):
    """One page of a filtered list: how many match in all, and the rows shown (plain tuples, in
    the order of ``COLUMNS`` — a list of 100,000 records never becomes 100,000 models)."""

    COLUMNS: ClassVar[tuple[str, ...]] = (
        "编号",
        "日期",
        "领导干部",
        "制度",
        "类别",
        "联系对象",
        "地点",
        "意见建议",
        "录入人",
        "状态",
    )
    total: int
    offset: int
    rows: list[tuple]


def page_activities(
    db: Database, viewer: User, *, offset: int = 0, limit: int = 100, **filters: Unpack[ActivityFilter]
) -> ActivityPage:
    """The count and one page (newest first) of what ``list_activities`` would list, both in SQL."""
    where, params = filter_clause(viewer, **filters)
    total = db.execute(f"SELECT count(*) FROM activities a WHERE {where}", params).fetchone()[0]
    offset = max(0, min(int(offset), max(0, total - 1)))
    rows = [
        (
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            r[5],
            r[6],
            len(split_opinions(r[7])),
            r[8],
            states.activity_label(True) if r[9] else "",
        )
        for r in db.execute(
            "SELECT a.id, a.date, p.name, a.system, a.subtype, a.counterpart_text, a.place, a.opinions, "
            "COALESCE(u.display_name, ''), a.voided_at IS NOT NULL "
            "FROM activities a JOIN people p ON p.id = a.cadre_id LEFT JOIN users u ON u.id = a.entered_by "
            f"WHERE {where} ORDER BY a.date DESC, a.id DESC LIMIT ? OFFSET ?",
            [*params, int(limit), offset],
        )
    ]
    return ActivityPage(total=total, offset=offset, rows=rows)


def history(db: Database, activity_id: int, viewer: User) -> list[HistoryEntry]:
    get_activity(db, activity_id, viewer)
    rows = db.query(
        "SELECT h.at, COALESCE(u.display_name, '系统') AS user_name, h.action, h.snapshot "
        "FROM activity_history h LEFT JOIN users u ON u.id = h.user_id WHERE h.activity_id = ? ORDER BY h.id",
        [activity_id],
    )
    return [HistoryEntry(**{**r, "snapshot": json.loads(r["snapshot"])}) for r in rows]
