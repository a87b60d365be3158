"""Contact activities (联系活动): logging, editing with history, voiding, and who may see what.

One row of ``activities`` is one contact of one cadre under one of the eleven systems
(第三条). The services here are the only writers of ``activities``, ``activity_targets``
and ``activity_history``:

* ``log_activity`` validates in Chinese, keeps who entered it, names the targets or
  counterparts in ``activity_targets`` (what the per-target quota rules read), writes the
  first history entry, and opens one case per opinion item raised (docs/rules.md §5).
* ``update_activity`` keeps a history snapshot of every change; ``void_activity`` marks a
  row void with a reason — nothing is ever hard-deleted. Both keep the cases consistent: an
  opinion removed (or the whole activity voided) withdraws its case if no department acted on
  it yet, else flags it to the department (``case_opening.withdraw_for_activity``).
* Row-level scope: a cadre sees and edits only his or her own; department staff see and
  log on behalf of cadres only for the systems their department runs (第四条); admins all.
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

from . import audit, case_opening, dates, states, text
from .accounts import User
from .db import inserted_id, write
from .errors import NotFound, PermissionDenied, Problem, ValidationError
from .org import unit_by_ref
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


def _require(scope: Scope, cadre_id: int, system: str, what: str) -> None:
    if not scope.covers(cadre_id, system):
        raise PermissionDenied(f"您无权{what}此联系活动：只能处理本人的记录，或本部门负责的制度的记录")


# --- validation ----------------------------------------------------------------------------


def _clean(text: str) -> str:
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def problems(
    db: Database, data: ActivityInput, today: dt.date | None = None, *, targets: bool = True
) -> list[tuple[str, str]]:
    """Every problem of an input as (field, Chinese message); empty when it may be saved.

    ``targets`` False leaves out whether the targets fit the cadre's assignments: an imported
    row is history, and ``TargetResolver`` reports those as warnings instead."""
    today = today or dates.today()
    out: list[tuple[str, str]] = []
    pol = policy()
    cadre = db.execute("SELECT staff_no FROM people WHERE id = ?", [data.cadre_id]).fetchone()
    if cadre is None:
        out.append(("cadre_id", "领导干部不存在"))
    elif not db.execute("SELECT 1 FROM cadre_posts WHERE person_id = ? LIMIT 1", [data.cadre_id]).fetchone():
        out.append(("cadre_id", "此人没有干部职务记录，不能记录联系活动"))
    if data.system not in pol.system_names:
        out.append(("system", f"未知的制度“{data.system[:20]}”，应为：{'、'.join(pol.system_names)}"))
    elif data.subtype not in pol.system(data.system).subtypes:
        out.append(
            (
                "subtype",
                f"“{data.system}”没有类别“{data.subtype[:20]}”，应为：{'、'.join(pol.system(data.system).subtypes)}",
            )
        )
    if data.date > today:
        out.append(("date", f"日期 {data.date.isoformat()} 在今天之后：只能记录已经开展的联系活动"))
    elif data.date < EARLIEST:
        out.append(("date", f"日期 {data.date.isoformat()} 过早"))
    if data.source not in SOURCES:
        out.append(("source", f"未知来源“{data.source}”"))
    # texts: control characters and lengths
    for name in ("place", "counterpart_text", "participants", "content", "followup"):
        try:
            text.free_text(getattr(data, name), FIELD_LABELS[name], LIMITS[name])
        except ValidationError as exc:
            out.append((name, exc.message))
    if data.source == "form" and not _clean(data.content):
        out.append(("content", "请填写联系工作开展情况"))
    items = [_clean(o) for o in data.opinions if _clean(o)]
    if len(items) > MAX_OPINIONS:
        out.append(("opinions", f"意见建议最多 {MAX_OPINIONS} 条"))
    for n, item in enumerate(items, start=1):
        try:
            text.free_text(item, f"第 {n} 条意见建议", LIMITS["opinion"])
        except ValidationError as exc:
            out.append(("opinions", exc.message))
    # class hours only for 思政课授课
    if (data.system, data.subtype) == HOURS_SUBTYPE:
        if not (MIN_HOURS <= data.hours <= MAX_HOURS) or not float(data.hours * 2).is_integer():
            out.append(("hours", f"思政课授课的课时应在 {MIN_HOURS:g}–{MAX_HOURS:g} 之间，以 0.5 为单位"))
    elif data.hours:
        out.append(("hours", "只有“讲思政课—思政课授课”填写课时"))
    if targets and data.system in pol.system_names:
        out.extend(_target_problems(db, data))
    return out


class TargetResolver:
    """The 对象编号 of imported rows matched to the cadre's assignments, with a warning for each
    one that does not fit (history is imported as it was; see ``portal.imports``).

    A code matches an assignment by its code or by the 对象编号 the assignments sheet used
    (``source_code``); a 联系学院 may also be named by its 单位编码 or name."""

    def __init__(self, db: Database):
        self.db = db
        self.assigned: dict[tuple[int, str], list[tuple]] = {}
        for cadre_id, kind, code, source, name, start, end in db.execute(
            "SELECT cadre_id, kind, target_code, source_code, target_name, start_date, end_date FROM assignments"
        ):
            self.assigned.setdefault((cadre_id, kind), []).append((code, source, name, start, end))
        self.people = {staff_no: pid for pid, staff_no in db.execute("SELECT id, staff_no FROM people")}
        self.units: dict[str, str | None] = {}

    def _college(self, code: str) -> str | None:
        if code not in self.units:
            unit = unit_by_ref(self.db, code)
            self.units[code] = unit.name if unit is not None and unit.kind == "college" else None
        return self.units[code]

    def resolve(self, data: ActivityInput) -> tuple[list[str], list[str]]:
        """(codes to store, warnings) for one row."""
        codes = list(dict.fromkeys(c.strip() for c in data.target_codes if c.strip()))
        warnings: list[str] = []
        if len(codes) != len([c for c in data.target_codes if c.strip()]):
            warnings.append("对象编号有重复，已合并")
        if data.system in COUNTERPART_SYSTEMS:
            if not codes:
                warnings.append("未填写谈话对象的工号：已导入，计入次数，不计入逐人谈心谈话的要求")
            for code in codes:
                pid = self.people.get(code)
                if pid is None:
                    warnings.append(f"谈话对象工号“{code[:30]}”不存在：已导入，不计入逐人谈心谈话的要求")
                elif pid == data.cadre_id:
                    warnings.append("谈话对象是本人：已导入，不计入逐人谈心谈话的要求")
            return codes, warnings
        kind = TARGET_KINDS.get((data.system, data.subtype))
        if kind is None:
            if codes:
                warnings.append(f"“{data.system}—{data.subtype}”不需要对象编号，已忽略")
            return [], warnings
        if not codes:
            warnings.append(f"未填写对象编号：已导入，计入次数类要求，不计入逐个{kind}的要求")
        day = data.date.isoformat()
        out = []
        for code in codes:
            mine = self.assigned.get((data.cadre_id, kind), [])
            hit = next((a for a in mine if code in (a[0], a[1])), None)
            if hit is None and kind == "联系学院" and (college := self._college(code)) is not None:
                hit = next((a for a in mine if a[0] == college), None)
                code = college
            if hit is None:
                warnings.append(f"“{code[:30]}”不是该干部的{kind}：已导入，不计入逐个{kind}的要求")
                out.append(code)
                continue
            out.append(hit[0])
            if not (hit[3] <= day and (hit[4] is None or day <= hit[4])):
                period = f"{hit[3]} 至 {hit[4]}" if hit[4] else f"{hit[3]} 起"
                warnings.append(
                    f"{day} 时“{hit[2]}”不是该干部的{kind}（联系期 {period}）：已导入，不计入逐个{kind}的要求"
                )
        return out, warnings


def _target_problems(db: Database, data: ActivityInput) -> list[tuple[str, str]]:
    codes = [c.strip() for c in data.target_codes if c.strip()]
    if len(set(codes)) != len(codes):
        return [("target_codes", "对象编号重复")]
    kind = TARGET_KINDS.get((data.system, data.subtype))
    if data.system in COUNTERPART_SYSTEMS:
        if not codes:
            return [("target_codes", "请选择谈话对象（按工号）")]
        out = []
        for code in codes:
            row = db.execute("SELECT id FROM people WHERE staff_no = ?", [code]).fetchone()
            if row is None:
                out.append(("target_codes", f"谈话对象工号“{code[:30]}”不存在"))
            elif row[0] == data.cadre_id:
                out.append(("target_codes", "谈话对象不能是本人"))
        return out
    if kind is None:
        return [("target_codes", f"“{data.system}—{data.subtype}”不需要选择联系对象编号")] if codes else []
    if not codes:
        return [("target_codes", f"请选择本次{data.subtype}的{kind}（须为本人的联系对象）")]
    day = data.date.isoformat()
    out = []
    for code in codes:
        row = db.execute(
            "SELECT start_date, end_date, target_name FROM assignments "
            "WHERE cadre_id = ? AND kind = ? AND target_code = ?",
            [data.cadre_id, kind, code],
        ).fetchone()
        if row is None:
            out.append(("target_codes", f"“{code[:30]}”不是该干部的{kind}"))
        elif not (row[0] <= day and (row[1] is None or day <= row[1])):
            period = f"{row[0]} 至 {row[1]}" if row[1] else f"{row[0]} 起"
            out.append(("target_codes", f"{day} 时“{row[2]}”不是该干部的{kind}（联系期 {period}）"))
    return out


def normalised(db: Database, data: ActivityInput) -> tuple[dict, list[str]]:
    """The ``activities`` row of an input and its target codes (imports write them in bulk)."""
    return _normalised(db, data)


def _normalised(db: Database, data: ActivityInput) -> tuple[dict, list[str]]:
    """The row's values (clean texts, 联系对象 derived from the targets when left empty) and the
    target codes."""
    codes = [c.strip() for c in data.target_codes if c.strip()]
    counterpart = _clean(data.counterpart_text)
    if not counterpart and codes:
        counterpart = "、".join(_target_names(db, data, codes))
    return {
        "cadre_id": data.cadre_id,
        "system": data.system,
        "subtype": data.subtype,
        "date": data.date.isoformat(),
        "place": _clean(data.place),
        "counterpart_text": counterpart,
        "hours": float(data.hours),
        "participants": _clean(data.participants),
        "content": _clean(data.content),
        "opinions": join_opinions([_clean(o) for o in data.opinions if _clean(o)]),
        "followup": _clean(data.followup),
        "source": data.source,
    }, codes


def _target_names(db: Database, data: ActivityInput, codes: list[str]) -> list[str]:
    names = []
    kind = TARGET_KINDS.get((data.system, data.subtype))
    for code in codes:
        if data.system in COUNTERPART_SYSTEMS:
            row = db.execute("SELECT name FROM people WHERE staff_no = ?", [code]).fetchone()
        else:
            row = db.execute(
                "SELECT target_name FROM assignments WHERE cadre_id = ? AND kind = ? AND target_code = ?",
                [data.cadre_id, kind, code],
            ).fetchone()
        names.append(row[0] if row else code)
    return names


def _raise(found: list[tuple[str, str]]) -> None:
    """Refuse an input with every problem found, each under its field (the form shows them beside it)."""
    if found:
        raise ValidationError(problems=[Problem(f, m) for f, m in dict.fromkeys(found)])


# --- cases for opinions raised -------------------------------------------------------------


def _case_contents(db: Database, activity_id: int) -> list[str]:
    """The opinion items the activity's cases stand for (not a withdrawn case, nor one flagged when
    its item was removed: it is the department's to finish, no longer the activity's item)."""
    return [
        r[0]
        for r in db.execute(
            "SELECT content FROM cases c WHERE activity_id = ? AND state != 'withdrawn' AND NOT EXISTS "
            f"(SELECT 1 FROM case_events e WHERE e.case_id = c.id AND {case_opening.FLAGGED_ON_ITS_RECORD}) ORDER BY id",
            [activity_id],
        )
    ]


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


def _load(db: Database, activity_id: int) -> Activity:
    rows = list(db.query(_SQL + "WHERE a.id = ?", [activity_id]))
    if not rows:
        raise NotFound("联系活动记录不存在")
    return _activity(rows[0])


def get_activity(db: Database, activity_id: int, viewer: User) -> Activity:
    activity = _load(db, activity_id)
    _require(scope_of(viewer), activity.cadre_id, activity.system, "查看")
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


# --- writing -------------------------------------------------------------------------------


def _snapshot(db: Database, activity_id: int) -> str:
    row = dict(next(iter(db.query("SELECT * FROM activities WHERE id = ?", [activity_id]))))
    row["target_codes"] = [
        r[0]
        for r in db.execute(
            "SELECT target_code FROM activity_targets WHERE activity_id = ? ORDER BY target_code",
            [activity_id],
        )
    ]
    return json.dumps(row, ensure_ascii=False)


def record_history(
    db: Database, ids: list[int], actor_id: int | None, action: str, *, as_live: bool = False
) -> None:
    """History entries for many activities in one statement (imports): the same snapshot as
    ``_snapshot`` — every column and the sorted target codes — built by SQLite. ``as_live``: the
    rows are staged (hidden until their import commits) and are recorded as they will then be."""
    if not ids:
        return
    columns = [r[1] for r in db.execute("PRAGMA table_info(activities)")]
    live = {"voided_at", "void_reason"} if as_live else set()
    pairs = ", ".join(f"'{c}', NULL" if c in live else f"'{c}', a.{c}" for c in columns)
    db.execute(
        "INSERT INTO activity_history (activity_id, at, user_id, action, snapshot) "
        f"SELECT a.id, ?, ?, ?, json_object({pairs}, 'target_codes', json((SELECT json_group_array(target_code) "
        "FROM (SELECT target_code FROM activity_targets t WHERE t.activity_id = a.id ORDER BY target_code)))) "
        "FROM activities a WHERE a.id IN (SELECT value FROM json_each(?)) ORDER BY a.id",
        [dates.stamp(), actor_id, action, json.dumps(ids)],
    )


def _record(db: Database, activity_id: int, actor_id: int | None, action: str) -> None:
    db.execute(
        "INSERT INTO activity_history (activity_id, at, user_id, action, snapshot) VALUES (?, ?, ?, ?, ?)",
        [activity_id, dates.stamp(), actor_id, action, _snapshot(db, activity_id)],
    )


def insert_activity(
    db: Database,
    data: ActivityInput,
    actor_id: int | None,
    *,
    key: str | None = None,
    open_cases: bool = True,
    raisers: dict[str, case_opening.Raiser] | None = None,
) -> int:
    """Validate and insert without a permission check (imports and other services use it).
    Each opinion item opens a case (``case_opening.open_for_activity``), except in imported history."""
    _raise(problems(db, data))
    row, codes = _normalised(db, data)
    now = dates.stamp()
    with write(db):
        activity_id = inserted_id(
            db.execute(
                "INSERT INTO activities (cadre_id, system, subtype, date, place, counterpart_text, hours, participants, "
                "content, opinions, followup, source, import_key, entered_by, created_at, updated_at) "
                "VALUES (:cadre_id, :system, :subtype, :date, :place, :counterpart_text, :hours, :participants, "
                ":content, :opinions, :followup, :source, :key, :entered_by, :now, :now)",
                {**row, "key": key, "entered_by": actor_id, "now": now},
            )
        )
        for code in codes:
            db.execute(
                "INSERT INTO activity_targets (activity_id, target_code) VALUES (?, ?)", [activity_id, code]
            )
        _record(db, activity_id, actor_id, "created")
        if open_cases:
            case_opening.open_for_activity(
                db, activity_id, split_opinions(row["opinions"]), actor_id, raisers
            )
    return activity_id


def log_activity(
    db: Database, data: ActivityInput, actor: User, *, raisers: dict[str, case_opening.Raiser] | None = None
) -> Activity:
    """Record one contact activity: the cadre himself, or staff of a department that runs the system.

    Each opinion item raised becomes its own case (``case_opening.open_for_activity``); ``raisers``
    names who raised an item when the contact knows it (a reception's visitor and booking).
    """
    _require(scope_of(actor), data.cadre_id, data.system, "记录")
    activity_id = insert_activity(db, data, actor.id, raisers=raisers)
    return _load(db, activity_id)


def update_activity(
    db: Database,
    activity_id: int,
    changes: dict,
    actor: User,
    *,
    raisers: dict[str, case_opening.Raiser] | None = None,
) -> Activity:
    """Change fields of an activity (any of ActivityInput's but the cadre); history keeps each version.

    An opinion item removed or rewritten withdraws its case (or flags it when the department has
    acted on it: ``case_opening.withdraw_for_activity``); new items open new cases
    (``case_opening.open_for_activity``, with ``raisers`` as in ``log_activity``).
    """
    current = _load(db, activity_id)
    scope = scope_of(actor)
    _require(scope, current.cadre_id, current.system, "修改")
    if current.voided:
        raise ValidationError("该记录已作废，不能修改")
    unknown = set(changes) - (set(ActivityInput.model_fields) - {"source"})
    if unknown:
        raise ValidationError(f"不能修改的字段：{'、'.join(sorted(unknown))}")
    if "cadre_id" in changes and changes["cadre_id"] != current.cadre_id:
        raise ValidationError("不能更改联系活动所属的领导干部；请作废后重新记录")
    data = ActivityInput.model_validate({**current.as_input().model_dump(), **changes})
    _require(scope, data.cadre_id, data.system, "修改")
    _raise(problems(db, data))
    row, codes = _normalised(db, data)
    new_items = split_opinions(row["opinions"])
    registered = _case_contents(db, activity_id)
    # an item taken out (or rewritten) loses its case: withdrawn if untouched, else flagged
    removed = [c for c in registered if c not in new_items]
    old_items = set(current.opinions) | set(registered)
    with write(db):
        db.execute(
            "UPDATE activities SET system = :system, subtype = :subtype, date = :date, place = :place, "
            "counterpart_text = :counterpart_text, hours = :hours, participants = :participants, "
            "content = :content, opinions = :opinions, followup = :followup, updated_at = :now WHERE id = :id",
            {**row, "now": dates.stamp(), "id": activity_id},
        )
        db.execute("DELETE FROM activity_targets WHERE activity_id = ?", [activity_id])
        for code in codes:
            db.execute(
                "INSERT INTO activity_targets (activity_id, target_code) VALUES (?, ?)", [activity_id, code]
            )
        _record(db, activity_id, actor.id, "edited")
        if removed:
            case_opening.withdraw_for_activity(
                db, activity_id, actor.id, "联系活动修改时删除了此条意见建议", contents=removed
            )
        fresh = [i for i in new_items if i not in old_items]
        case_opening.open_for_activity(db, activity_id, fresh, actor.id, raisers)
    return _load(db, activity_id)


def void_activity(db: Database, activity_id: int, reason: str, actor: User) -> Activity:
    """Mark an activity void with a reason: it stops counting, stays in the records and history."""
    current = _load(db, activity_id)
    _require(scope_of(actor), current.cadre_id, current.system, "作废")
    reason = _clean(reason)
    if not reason:
        raise ValidationError("请填写作废原因")
    text.free_text(reason, "作废原因", 500)
    if current.voided:
        raise ValidationError("该记录已经作废")
    with write(db):
        db.execute(
            "UPDATE activities SET voided_at = ?, void_reason = ?, updated_at = ? WHERE id = ?",
            [dates.stamp(), reason, dates.stamp(), activity_id],
        )
        _record(db, activity_id, actor.id, "voided")
        case_opening.withdraw_for_activity(db, activity_id, actor.id, f"联系活动已作废：{reason}")
        audit.record(db, actor.id, "activity.void", f"{activity_id}: {reason[:100]}")
    return _load(db, activity_id)


EXPORT_COLUMNS = [
    ("编号", 8),
    ("日期", 12),
    ("领导干部", 10),
    ("工号", 11),
    ("制度", 12),
    ("类别", 14),
    ("地点", 16),
    ("联系对象", 22),
    ("参加人员", 18),
    ("联系工作开展情况", 40),
    ("意见和建议", 40),
    ("落实情况", 30),
    ("录入人", 10),
    ("状态", 8),
]


def export_xlsx(found: list[Activity], title: str = "联系活动记录") -> bytes:
    """The listed activities as a workbook, every text exactly as typed (text cells: a value such
    as ``=HYPERLINK(…)`` is shown, never run); the safe replacement for a table's CSV download."""
    # here: openpyxl loads only for a workbook, not for every importer
    from . import sheets

    wb, ws = sheets.workbook_sheet("联系活动", title, EXPORT_COLUMNS, subtitle=f"共 {len(found)} 条")
    for a in found:
        ws.append(
            sheets.safe_row(
                [
                    a.id,
                    a.date.isoformat(),
                    a.cadre_name,
                    a.cadre_staff_no,
                    a.system,
                    a.subtype,
                    a.place,
                    a.counterpart_text,
                    a.participants,
                    a.content,
                    a.opinions_text,
                    a.followup,
                    a.entered_by_name,
                    states.activity_label(True) if a.voided else "",
                ]
            )
        )
    return sheets.to_bytes(wb)
