"""Cases (意见建议办理): every opinion or request raised in a contact, until it is answered.

A case is opened for each opinion raised in an activity (``open_for_activity``: the one way in,
for the activities service and — through it — the reception day, whose hand-overs are opinions
of the duty leader's 接待日 activity that name their visitor). It carries a number people can quote (``2026-0001``), the department
that must act (docs/rules.md §4–5) and, once referred, the unit that handles it; a deadline in
working days after the contact (``policy().deadlines``, counted with ``portal.workdays``).

States, in order::

    registered 已登记 → referred 已转办 → in_progress 办理中 → answered 已答复 → closed 已办结

Who may do what:

* staff of the case's responsible department, and administrators: refer, start, record
  progress, answer (from any open state: a question answered on the spot), close, reopen;
* the visitor who raised it: read each answer and rate it (``portal.ratings``: 满意 closes it, 不满意
  sends it back or to 督办 by the policy's rule); the department records a 回访 when he has not;
* the cadre whose contact raised it: read it, its answers and their ratings;
* the department supervising it (督办, after repeated 不满意): read it and add 督办意见.

Every answer is kept whole and numbered (``answers``); the row holds the latest.

Every change appends a row to ``case_events`` (append-only: triggers refuse updates and
deletes). A reopened case is due ``deadline_days`` working days after the day it reopened.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TypedDict, Unpack

from pydantic import BaseModel
from sqlite_utils import Database

from . import case_messages, dates, hooks, states, text, workdays
from .accounts import User
from .db import inserted_id, write
from .errors import Conflict, NotFound, PermissionDenied, ValidationError
from .policy import policy

# the states and their labels live in portal.states (one vocabulary for every page)
STATES = states.CASE_STATES
OPEN_STATES = states.CASE_OPEN_STATES
LIVE_STATES = states.CASE_LIVE_STATES
STATE_LABELS = states.CASE_STATE_LABELS
SOURCES = ("reception", "symposium", "other")
SOURCE_LABELS = {"reception": "接待日", "symposium": "座谈", "other": "其他联系"}
ACTION_LABELS = {
    "opened": "登记",
    "referred": "转办",
    "transferred": "移交责任部门",
    "started": "开始办理",
    "progress": "办理进展",
    "answered": "答复",
    "closed": "办结",
    "satisfied": "提出人表示满意",  # before m020; now ``rated``
    "rated": "提出人评价",
    "followed_up": "回访",
    "supervised": "转督办",
    "urged": "督办意见",
    "reopened": "重新办理",
    "read": "已阅答复",
    "due_changed": "办理期限调整",
    "withdrawn": "撤销",
    "flagged": "来源变动提醒",
    "acknowledged": "已核实来源变动",
    "relinked": "关联新的联系活动记录",
    "noted": "内部备注",  # portal/case_notes.py: the departments' and administrators' only
    "merged": "合并至他件办理",  # portal/case_merge.py
    "merged_with": "合并重复件",
    "unmerged": "撤销合并",
}
# steps only those who handle the case read: never its raiser, its cadre or a supervising department
PRIVATE_ACTIONS = ("noted",)
CONTENT_MAX = 2000
ANSWER_MAX = 5000
NOTE_MAX = 1000


class Case(BaseModel):
    id: int
    number: str
    source: str
    activity_id: int | None = None
    booking_id: int | None = None
    cadre_id: int | None = None
    cadre_name: str = ""
    raised_by: int | None = None
    raiser_name: str = ""
    content: str
    system: str = ""
    responsible_dept: str
    handling_unit_id: int | None = None
    handling_unit_name: str = ""
    state: str
    contact_date: dt.date
    deadline_days: int
    due_date: dt.date
    answer: str = ""
    answered_at: str | None = None
    closed_at: str | None = None
    reopen_count: int = 0
    withdrawn_at: str | None = None
    withdraw_reason: str = ""
    alert: str = ""  # a change at the source the department should look at (activity voided or edited)
    supervisor: str = ""  # the department supervising it (督办) after repeated 不满意
    merged_into: int | None = None  # a duplicate handled with that case (portal/case_merge.py)
    created_at: str
    updated_at: str
    # as of the day the case was read (``on``); None once answered
    days_left: int | None = None
    at_risk: bool = False

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def overdue(self) -> bool:
        return self.days_left is not None and self.days_left < 0

    @property
    def answered_late(self) -> bool:
        return self.answered_at is not None and self.answered_at[:10] > self.due_date.isoformat()

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]

    @property
    def source_label(self) -> str:
        return SOURCE_LABELS[self.source]

    @property
    def flag(self) -> str:
        """逾期 / 临期 / '' — what supervision shows beside the deadline."""
        if self.days_left is not None and self.days_left < 0:  # overdue
            return f"逾期 {-self.days_left} 个工作日"
        if self.at_risk:
            return "今日到期" if self.days_left == 0 else f"临期（剩 {self.days_left} 个工作日）"
        return ""


class CaseEvent(BaseModel):
    id: int
    case_id: int
    at: str
    user_id: int | None = None
    user_name: str = ""
    action: str
    from_state: str | None = None
    to_state: str | None = None
    note: str = ""

    @property
    def action_label(self) -> str:
        return ACTION_LABELS.get(self.action, self.action)


class Answer(BaseModel):
    """One answer the case was given, whole: the first, then one after each reopen (``seq`` 1, 2 …)."""

    id: int
    case_id: int
    seq: int
    body: str
    at: str
    user_id: int | None = None
    user_name: str = ""
    truncated: bool = False  # from before m019: the history had kept only its first 1,000 characters

    @property
    def title(self) -> str:
        return f"第 {self.seq} 次答复"


# --- reading --------------------------------------------------------------------------------

_SQL = (
    "SELECT c.*, COALESCE(p.name, '') AS cadre_name, COALESCE(u.name, '') AS handling_unit_name "
    "FROM cases c LEFT JOIN people p ON p.id = c.cadre_id LEFT JOIN units u ON u.id = c.handling_unit_id "
)


class _DaysLeft:
    """``workdays.working_days_left`` for many cases on one calendar read: a running count of
    working days over the range makes each answer a subtraction."""

    def __init__(self, cal: workdays.WorkCalendar, lo: dt.date, hi: dt.date) -> None:
        self.lo = lo
        self.upto: list[int] = []  # working days in (lo, lo + i]
        total, day = 0, lo
        for _ in range((hi - lo).days + 1):
            self.upto.append(total)
            day += dt.timedelta(days=1)
            total += cal.is_working(day)

    def count(self, start: dt.date, end: dt.date) -> int:  # working days in (start, end]
        return self.upto[(end - self.lo).days] - self.upto[(start - self.lo).days]

    def __call__(self, today: dt.date, due: dt.date) -> int:
        if today == due:
            return 0
        if today < due:
            return self.count(today, due)
        return -max(1, self.count(due, today))


def _cases(db: Database, rows: list[dict], on: dt.date | None = None) -> list[Case]:
    today = on or dates.today()
    out = [Case(**r) for r in rows]
    live = [c for c in out if c.is_open]
    if live:
        lo = min(today, *(c.due_date for c in live))
        hi = max(today, *(c.due_date for c in live))
        days_left = _DaysLeft(workdays.calendar(db, lo, hi), lo, hi)
        risk = policy().deadlines.at_risk
        for c in live:
            c.days_left = days_left(today, c.due_date)
            c.at_risk = 0 <= c.days_left <= risk
    return out


def _row(db: Database, case_id: int) -> dict:
    rows = list(db.query(_SQL + "WHERE c.id = ?", [case_id]))
    if not rows:
        raise NotFound("意见建议不存在")
    return rows[0]


def can_handle(user: User, case: Case | dict) -> bool:
    """Staff of the responsible department, and administrators."""
    dept = case["responsible_dept"] if isinstance(case, dict) else case.responsible_dept
    return user.has("admin") or dept in user.departments


def supervises(user: User, case: Case | dict) -> bool:
    """Staff of the department supervising the case (督办)."""
    supervisor = case["supervisor"] if isinstance(case, dict) else case.supervisor
    return bool(supervisor) and supervisor in user.departments


def can_view(user: User, case: Case | dict) -> bool:
    get = case.get if isinstance(case, dict) else lambda k: getattr(case, k)
    return (
        can_handle(user, case)
        or supervises(user, case)
        or (user.person_id is not None and get("cadre_id") == user.person_id)
        or get("raised_by") == user.id
    )


def get_case(db: Database, case_id: int, viewer: User, on: dt.date | None = None) -> Case:
    row = _row(db, case_id)
    if not can_view(viewer, row):
        raise NotFound("意见建议不存在")  # not telling others' cases apart from missing ones
    return _cases(db, [row], on)[0]


def find_by_number(db: Database, number: str, viewer: User) -> Case:
    found = db.execute("SELECT id FROM cases WHERE number = ?", [number.strip()]).fetchone()
    if found is None:
        raise NotFound(f"没有编号为 {number.strip()[:20]} 的意见建议")
    return get_case(db, found[0], viewer)


def visibility_clause(viewer: User, scope: str = "all", alias: str = "c") -> tuple[str | None, list]:
    """Which cases ``viewer`` sees, as an SQL condition on ``cases`` (aliased ``alias``); None: none.

    ``scope``: ``handle`` — the viewer's departments' cases, and those they supervise (all for an
    administrator);
    ``cadre`` — cases raised in the viewer's own contacts; ``mine`` — cases the viewer raised;
    ``all`` — the union of the three (what ``can_view`` allows).
    """
    if scope not in ("handle", "cadre", "mine", "all"):
        raise ValueError(scope)
    clauses: list[str] = []
    params: list[object] = []
    if scope in ("handle", "all"):
        if viewer.has("admin"):
            clauses.append("1")
        elif viewer.departments:
            marks = ",".join("?" * len(viewer.departments))
            clauses.append(f"({alias}.responsible_dept IN ({marks}) OR {alias}.supervisor IN ({marks}))")
            params += [*viewer.departments, *viewer.departments]
    if scope in ("cadre", "all") and viewer.person_id is not None:
        clauses.append(f"{alias}.cadre_id = ?")
        params.append(viewer.person_id)
    if scope in ("mine", "all"):
        clauses.append(f"{alias}.raised_by = ?")
        params.append(viewer.id)
    if not clauses:
        return None, []
    return "(" + " OR ".join(clauses) + ")", params


class CaseFilter(TypedDict, total=False):
    """Which cases a list holds: the keyword arguments ``filter_clause`` and ``list_cases`` share
    (each one optional). ``scope`` as in ``visibility_clause`` (default ``handle``); withdrawn
    cases (已撤销) only when ``states`` names them, or with ``include_withdrawn`` when no state is
    named; ``since``/``until`` bound the contact date; ``on`` is the day ``overdue_only`` counts from;
    ``followup_cutoff``: only answered cases awaiting a 回访 — the latest answer not rated and given on or
    before that day, or on any day when the raiser has no account (``portal.ratings.followup_cutoff``)."""

    scope: str
    states: list[str] | None
    include_withdrawn: bool
    source: str | None
    handling_unit_id: int | None
    department: str | None
    cadre_id: int | None
    system: str | None
    since: dt.date | None
    until: dt.date | None
    overdue_only: bool
    on: dt.date | None
    followup_cutoff: dt.date | None
    include_merged: bool


# an answered case whose latest answer has no rating (``case_ratings``, portal/ratings.py)
UNRATED = (
    "c.state IN ('answered', 'closed') AND NOT EXISTS (SELECT 1 FROM case_ratings r WHERE r.answer_id = "
    "(SELECT max(a.id) FROM case_answers a WHERE a.case_id = c.id))"
)


def filter_clause(viewer: User, **filters: Unpack[CaseFilter]) -> tuple[str | None, list]:
    """The WHERE clause of what the viewer sees and the filters, on ``cases c``: the one place the
    lists and the search turn case filters into SQL. None: the viewer sees no case."""
    unknown = set(filters) - set(CaseFilter.__annotations__)
    if unknown:  # a TypedDict checks nothing at run time; a misspelt filter must not widen the list
        raise TypeError(f"unknown case filters: {', '.join(sorted(unknown))}")
    visible, params = visibility_clause(viewer, filters.get("scope", "handle"))
    if visible is None:
        return None, []
    where = [visible]
    if named := filters.get("states"):
        bad = [s for s in named if s not in STATES]
        if bad:
            raise ValidationError(f"未知的办理状态：{'、'.join(bad)}")
        where.append(f"c.state IN ({','.join('?' * len(named))})")
        params += named
    elif not filters.get("include_withdrawn"):  # withdrawn cases are shown only when asked for
        where.append("c.state != 'withdrawn'")
    if filters.get("scope", "handle") == "handle" and not filters.get("include_merged"):
        # a duplicate merged into another is no work of its own until it is answered with it
        where.append(f"NOT (c.merged_into IS NOT NULL AND c.state IN ({','.join('?' * len(OPEN_STATES))}))")
        params += OPEN_STATES
    if filters.get("overdue_only"):
        where.append(f"c.state IN ({','.join('?' * len(OPEN_STATES))})")
        params += OPEN_STATES
        where.append("c.due_date < ?")
        params.append((filters.get("on") or dates.today()).isoformat())
    if (cutoff := filters.get("followup_cutoff")) is not None:
        where.append(f"{UNRATED} AND (c.raised_by IS NULL OR substr(c.answered_at, 1, 10) <= ?)")
        params.append(cutoff.isoformat())
    since, until = filters.get("since"), filters.get("until")
    for condition, value in (
        ("c.source = ?", filters.get("source") or None),
        ("c.handling_unit_id = ?", filters.get("handling_unit_id")),
        ("c.responsible_dept = ?", filters.get("department") or None),
        ("c.cadre_id = ?", filters.get("cadre_id")),
        ("c.system = ?", filters.get("system") or None),
        ("c.contact_date >= ?", since and since.isoformat()),
        ("c.contact_date <= ?", until and until.isoformat()),
    ):
        if value is not None:
            where.append(condition)
            params.append(value)
    return " AND ".join(where), params


def list_cases(db: Database, viewer: User, **filters: Unpack[CaseFilter]) -> list[Case]:
    """Cases the viewer may see under the filters, by deadline (earliest first)."""
    where, params = filter_clause(viewer, **filters)
    if where is None:
        return []
    sql = _SQL + "WHERE " + where + " ORDER BY c.due_date, c.number"
    found = _cases(db, list(db.query(sql, params)), filters.get("on"))
    if filters.get("overdue_only"):
        found = [c for c in found if c.overdue]
    return found


def of_activity(db: Database, activity_id: int) -> list[Case]:
    """The cases opened from one activity's opinions, in the order raised (what its logger sees
    right after saving; callers have checked the activity's visibility)."""
    return _cases(db, list(db.query(_SQL + "WHERE c.activity_id = ? ORDER BY c.id", [activity_id])))


def events(db: Database, case_id: int, viewer: User) -> list[CaseEvent]:
    """The case's history as ``viewer`` may read it: internal notes (``PRIVATE_ACTIONS``), and the
    raiser and words of a duplicate merged into it (``merged_with``), only for those who handle the case."""
    case = get_case(db, case_id, viewer)  # visibility
    handles = can_handle(viewer, case)
    hidden = () if handles else PRIVATE_ACTIONS
    marks = ",".join("?" * len(hidden)) or "''"
    found = [
        CaseEvent(**r)
        for r in db.query(
            "SELECT e.*, COALESCE(u.display_name, '') AS user_name FROM case_events e "
            "LEFT JOIN users u ON u.id = e.user_id WHERE e.case_id = ? "
            f"AND e.action NOT IN ({marks}) ORDER BY e.id",
            [case_id, *hidden],
        )
    ]
    if not handles:  # a duplicate merged in is named by its number only: its raiser and words are not theirs
        for e in found:
            if e.action == "merged_with":
                e.note = e.note.split("（", 1)[0]
    return found


def answers(db: Database, case_id: int, viewer: User) -> list[Answer]:
    """Every answer of the case, whole, in the order given (whoever may see the case)."""
    get_case(db, case_id, viewer)  # visibility
    return [
        Answer(**r)
        for r in db.query(
            "SELECT a.*, COALESCE(u.display_name, '') AS user_name FROM case_answers a "
            "LEFT JOIN users u ON u.id = a.user_id WHERE a.case_id = ? ORDER BY a.seq",
            [case_id],
        )
    ]


def counts(cases: list[Case]) -> dict[str, int]:
    """Figures supervision shows at the top: open, overdue, at risk, answered, closed, answered late."""
    return {
        "open": sum(c.is_open for c in cases),
        "overdue": sum(c.overdue for c in cases),
        "at_risk": sum(c.at_risk for c in cases),
        "answered": sum(c.state == "answered" for c in cases),
        "closed": sum(c.state == "closed" for c in cases),
        "answered_late": sum(c.answered_late for c in cases),
        "flagged": sum(bool(c.alert) and c.is_open for c in cases),
    }


# --- opening --------------------------------------------------------------------------------


def _event(
    db: Database,
    case_id: int,
    actor_id: int | None,
    action: str,
    from_state: str | None,
    to_state: str | None,
    note: str = "",
    at: str | None = None,
) -> None:
    db.execute(
        "INSERT INTO case_events (case_id, at, user_id, action, from_state, to_state, note) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [case_id, at or dates.stamp(), actor_id, action, from_state, to_state, note],
    )
    case_messages.case_event(db, case_id, action)
    if action in _CARRIED:
        _carry(db, case_id, action, at or dates.stamp(), actor_id)


# the steps of a case that the duplicates merged into it take with it (portal/case_merge.py)
_CARRIED = ("referred", "started", "transferred", "answered", "closed")


def _carry(db: Database, case_id: int, action: str, at: str, actor_id: int | None) -> None:
    """The duplicates merged into ``case_id`` follow its step: while open they take its state, unit
    and department; its answer answers each (their raisers are told, as by ``answer``); its 办结
    closes those answered with it. Their own history says so."""
    followers = list(db.query("SELECT * FROM cases WHERE merged_into = ? ORDER BY id", [case_id]))
    if not followers:
        return
    lead = _row(db, case_id)
    note = f"随 {lead['number']} {ACTION_LABELS[action]}"
    for dup in followers:
        if action == "answered" and dup["state"] in OPEN_STATES:
            answer_duplicate(db, dup, lead, at, actor_id)
        elif action == "closed" and dup["state"] == "answered":
            _set(db, dup["id"], state="closed", closed_at=at)
            _quiet_event(db, dup["id"], actor_id, "closed", "answered", "closed", note, at)
        elif action in ("referred", "started", "transferred") and dup["state"] in OPEN_STATES:
            follows = {"state": lead["state"], "handling_unit_id": lead["handling_unit_id"]}
            follows["responsible_dept"] = lead["responsible_dept"]
            _set(db, dup["id"], **follows)
            _quiet_event(db, dup["id"], actor_id, action, dup["state"], lead["state"], note, at)


def answered_as_duplicate(text: str, lead: dict, dup: dict) -> str:
    """The answer of ``lead`` as the raiser of ``dup``, merged into it, reads it: where it names the
    lead's number or its raiser (a 常用答复's {编号} and {提出人}, or typed), it names the duplicate's own,
    so that one raiser is never shown another's name, nor a number he cannot open. A one-character name
    is left alone (it would change other words)."""
    text = text.replace(lead["number"], dup["number"])
    name = lead["raiser_name"] or ""
    if len(name) > 1 and name != dup["raiser_name"]:
        text = text.replace(name, dup["raiser_name"] or "提出人")
    return text


def answer_duplicate(db: Database, dup: dict, lead: dict, at: str, actor_id: int | None) -> None:
    """Answer the open duplicate ``dup`` with the answer of ``lead``, the case it was merged into
    (its raiser is told, as by ``answer``), inside the caller's transaction."""
    text = answered_as_duplicate(lead["answer"], lead, dup)
    _set(db, dup["id"], state="answered", answer=text, answered_at=at)
    record_history(db, dup["id"], "answered", dup["state"], "answered", at, actor_id, text)


def _quiet_event(
    db: Database,
    case_id: int,
    actor_id: int | None,
    action: str,
    from_state: str,
    to_state: str,
    note: str,
    at: str,
) -> None:
    """A step in the history that tells nobody (a duplicate following the case it was merged into)."""
    db.execute(
        "INSERT INTO case_events (case_id, at, user_id, action, from_state, to_state, note) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [case_id, at, actor_id, action, from_state, to_state, note],
    )


def record_history(
    db: Database,
    case_id: int,
    action: str,
    from_state: str | None,
    to_state: str | None,
    at: str,
    actor_id: int | None = None,
    note: str = "",
) -> None:
    """Append one past step, dated ``at``, to a case's history, as the services would have
    recorded it then: for histories written elsewhere (the demo's backdated cases, a migration).
    An answer (``answered``, its text the note) is numbered among the case's answers as ``answer``
    does. It checks the step's vocabulary only; the caller keeps the case row in step with it."""
    if action not in ACTION_LABELS:
        raise ValidationError(f"未知的办理动作：{action}")
    for s in (from_state, to_state):
        if s is not None and s not in STATES:
            raise ValidationError(f"未知的办理状态：{s}")
    if db.execute("SELECT 1 FROM cases WHERE id = ?", [case_id]).fetchone() is None:
        raise NotFound("意见建议不存在")
    if action == "answered":
        db.execute(
            "INSERT INTO case_answers (case_id, seq, body, at, user_id) VALUES (?, "
            "(SELECT COALESCE(max(seq), 0) + 1 FROM case_answers WHERE case_id = ?), ?, ?, ?)",
            [case_id, case_id, note, at, actor_id],
        )
    _event(db, case_id, actor_id, action, from_state, to_state, note, at)


def _next_number(db: Database, year: int) -> str:
    prefix = f"{year:04d}-"
    last = db.execute(
        "SELECT max(CAST(substr(number, 6) AS INTEGER)) FROM cases WHERE number LIKE ?", [prefix + "%"]
    ).fetchone()[0]
    return f"{prefix}{(last or 0) + 1:04d}"


def _check_unit(db: Database, unit_id: int | None) -> str:
    if unit_id is None:
        return ""
    found = db.execute("SELECT name FROM units WHERE id = ?", [unit_id]).fetchone()
    if found is None:
        raise ValidationError("承办单位不存在")
    return found[0]


def open_case(
    db: Database,
    *,
    source: str,
    content: str,
    responsible_dept: str,
    contact_date: dt.date,
    cadre_id: int | None = None,
    system: str = "",
    activity_id: int | None = None,
    booking_id: int | None = None,
    raised_by: int | None = None,
    raiser_name: str = "",
    handling_unit_id: int | None = None,
    actor_id: int | None = None,
    deadline_days: int | None = None,
) -> Case:
    """Register one opinion or request raised in a contact; due ``deadline_days`` working days
    after ``contact_date`` (default: docs/rules.md §5 by source). Given a handling unit, the case
    is referred to it at once."""
    if source not in SOURCES:
        raise ValidationError(f"未知的来源：{source}")
    content = text.free_text(content, "意见建议内容", max_len=CONTENT_MAX, required=True)
    pol = policy()
    if responsible_dept not in pol.departments:
        raise ValidationError(f"责任部门“{responsible_dept}”不在部门列表中")
    if system and system not in pol.system_names:
        raise ValidationError(f"制度“{system}”不存在")
    raiser_name = text.name(raiser_name, "提出人", required=False) if raiser_name else ""
    if deadline_days is None:
        deadline_days = pol.deadlines.for_source(source)
    if not 0 <= deadline_days <= 60:
        raise ValidationError("办理期限须在 0～60 个工作日之间")
    if isinstance(contact_date, str):
        contact_date = dates.parse_date(contact_date, "联系日期")
    if contact_date > dates.today():
        raise ValidationError(
            f"联系日期 {dates.format_date(contact_date)} 晚于今天：意见建议只能来自已经开展的联系"
        )
    due = workdays.due_date(db, contact_date, deadline_days)
    with write(db):
        unit_name = _check_unit(db, handling_unit_id)
        now = dates.stamp()
        number = _next_number(db, contact_date.year)
        case_id = inserted_id(
            db.execute(
                "INSERT INTO cases (number, source, activity_id, booking_id, cadre_id, raised_by, raiser_name, "
                "content, system, responsible_dept, handling_unit_id, state, contact_date, deadline_days, "
                "due_date, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    number,
                    source,
                    activity_id,
                    booking_id,
                    cadre_id,
                    raised_by,
                    raiser_name,
                    content,
                    system,
                    responsible_dept,
                    handling_unit_id,
                    "referred" if handling_unit_id else "registered",
                    contact_date.isoformat(),
                    deadline_days,
                    due.isoformat(),
                    now,
                    now,
                ],
            )
        )
        _event(db, case_id, actor_id, "opened", None, "registered", f"责任部门：{responsible_dept}", now)
        if handling_unit_id:
            _event(db, case_id, actor_id, "referred", "registered", "referred", f"转办至{unit_name}", now)
        return _cases(db, [_row(db, case_id)])[0]


# --- opinions raised in a contact --------------------------------------------------------------


class Raiser(BaseModel):
    """Who raised one opinion, when the contact knows it (a reception's visitor), and who answers."""

    booking_id: int | None = None  # a booking hands over one case at most
    user_id: int | None = None
    name: str = ""
    department: str | None = None  # None: the system's responsible department


def case_source(system: str) -> str:
    return {"座谈": "symposium", "接待日": "reception"}.get(system, "other")


def responsible_department(system: str, subtype: str) -> str:
    """Who answers an opinion raised (docs/rules.md §4, §5)."""
    if system == "座谈":
        return "学工部" if subtype == "学生座谈" else "宣传部"
    if system == "接待日":
        return "党办"
    return policy().system(system).departments[0]


def open_for_activity(
    db: Database,
    activity_id: int,
    items: list[str],
    actor_id: int | None,
    raisers: dict[str, Raiser] | None = None,
) -> list[int]:
    """Open a case for each opinion item raised in activity ``activity_id`` (its system, date and
    cadre); ``raisers`` names who raised an item. An item whose booking already has its case
    opens none (a reception recorded again); that case moves to this activity when its own was
    voided (``_follow_new_record``). Returns the ids of the cases opened."""
    if not items:
        return []
    activity = db.execute(
        "SELECT system, subtype, date, cadre_id FROM activities WHERE id = ?", [activity_id]
    ).fetchone()
    if activity is None:
        raise NotFound("联系活动不存在")
    system, subtype, day, cadre_id = activity
    raisers = raisers or {}
    opened: list[int] = []
    with write(db):
        for item in items:
            raiser = raisers.get(item, Raiser())
            if raiser.booking_id is not None:
                existing = db.execute(
                    "SELECT id FROM cases WHERE booking_id = ?", [raiser.booking_id]
                ).fetchone()
                if existing is not None:
                    _follow_new_record(db, existing[0], activity_id, cadre_id, actor_id)
                    continue
            case = open_case(
                db,
                source=case_source(system),
                content=item,
                responsible_dept=raiser.department or responsible_department(system, subtype),
                contact_date=dt.date.fromisoformat(day),
                cadre_id=cadre_id,
                system=system,
                activity_id=activity_id,
                booking_id=raiser.booking_id,
                raised_by=raiser.user_id,
                raiser_name=raiser.name,
                actor_id=actor_id,
            )
            opened.append(case.id)
    return opened


def _follow_new_record(
    db: Database, case_id: int, activity_id: int, cadre_id: int, actor_id: int | None
) -> None:
    """A visitor's request already has its case (one per booking); the reception is recorded again
    in a new activity because the one the case came from was voided: the case follows the live
    record, its 来源变动 flag (raised by the void) is lifted, and its history says so."""
    row = db.execute(
        "SELECT c.activity_id, c.alert, c.state, a.voided_at FROM cases c "
        "LEFT JOIN activities a ON a.id = c.activity_id WHERE c.id = ?",
        [case_id],
    ).fetchone()
    old_activity, alert, state, old_voided = row
    if (
        state == "withdrawn"
        or old_activity == activity_id
        or (old_activity is not None and old_voided is None)
    ):
        return  # withdrawn, or still on a live record: nothing moves
    note = (
        f"原联系活动记录（#{old_activity}）已作废，接待情况重新记录为联系活动 #{activity_id}，本件改为关联新记录"
        if old_activity is not None
        else f"接待情况记录为联系活动 #{activity_id}，本件关联该记录"
    )
    if alert:
        note += "；来源变动提醒已解除"
    _set(db, case_id, activity_id=activity_id, cadre_id=cadre_id, alert="")
    _event(db, case_id, actor_id, "relinked", state, state, note)


# --- the source changed: withdraw or flag -------------------------------------------------------

# events that are not a department acting on the case
_PASSIVE = ("opened", "due_changed", "read", "flagged", "relinked")
# a case_events row ``e`` that flagged the case since it was linked to its present activity (a case
# that followed a re-recorded reception is flagged afresh if its new record changes in turn)
FLAGGED_ON_ITS_RECORD = (
    "e.action = 'flagged' AND e.id > COALESCE((SELECT max(r.id) FROM case_events r "
    "WHERE r.case_id = e.case_id AND r.action = 'relinked'), 0)"
)


def _untouched(db: Database, row: dict) -> bool:
    """No department has acted on it yet: still 已登记 and nothing in its history but its opening."""
    if row["state"] != "registered":
        return False
    acted = db.execute(
        f"SELECT 1 FROM case_events WHERE case_id = ? AND action NOT IN ({','.join('?' * len(_PASSIVE))}) LIMIT 1",
        [row["id"], *_PASSIVE],
    ).fetchone()
    return acted is None


def _withdrawable(db: Database, row: dict) -> bool:
    # a visitor's own request (from a booking) stands whatever becomes of the record: flag it
    return row["booking_id"] is None and _untouched(db, row)


def withdrawal_preview(db: Database, activity_id: int) -> tuple[int, int]:
    """What voiding the activity would do to its cases: (how many withdrawn, how many flagged)."""
    rows = list(db.query("SELECT * FROM cases WHERE activity_id = ? AND state != 'withdrawn'", [activity_id]))
    withdrawn = sum(_withdrawable(db, r) for r in rows)
    return withdrawn, len(rows) - withdrawn


def withdraw_for_activity(
    db: Database, activity_id: int, actor_id: int | None, why: str, *, contents: list[str] | None = None
) -> tuple[list[int], list[int]]:
    """The activity's cases lost their source (``why``: the activity was voided, or the opinion was
    removed from it): those no department has acted on become 已撤销 with the reason and who did it;
    those already in hand, and a visitor's request made through a booking, keep their state and
    get an alert the department sees on its list.
    ``contents``: only the cases of these opinion items. Returns (withdrawn ids, flagged ids).
    Runs inside the caller's transaction (nested ``write`` is a savepoint)."""
    withdrawn: list[int] = []
    flagged: list[int] = []
    with write(db):
        rows = list(
            db.query(
                "SELECT * FROM cases WHERE activity_id = ? AND state != 'withdrawn' ORDER BY id",
                [activity_id],
            )
        )
        now = dates.stamp()
        for row in rows:
            if contents is not None and row["content"] not in contents:
                continue
            if _withdrawable(db, row):
                _set(db, row["id"], state="withdrawn", withdrawn_at=now, withdraw_reason=why)
                _event(db, row["id"], actor_id, "withdrawn", row["state"], "withdrawn", why, now)
                withdrawn.append(row["id"])
            elif row["state"] in OPEN_STATES or row["state"] in ("answered", "closed"):
                alert = f"{why}（{now[:10]}）：请核实是否继续办理"
                if db.execute(  # told once per record: the department may have checked and cleared it since
                    f"SELECT 1 FROM case_events e WHERE e.case_id = ? AND {FLAGGED_ON_ITS_RECORD}",
                    [row["id"]],
                ).fetchone():
                    continue
                _set(db, row["id"], alert=alert)
                _event(db, row["id"], actor_id, "flagged", row["state"], row["state"], alert, now)
                flagged.append(row["id"])
    return withdrawn, flagged


# --- transitions ----------------------------------------------------------------------------


def _load_for_change(db: Database, case_id: int, actor: User) -> dict:
    row = _row(db, case_id)
    if not can_view(actor, row):
        raise NotFound("意见建议不存在")
    return row


def row_for_change(db: Database, case_id: int, actor: User) -> dict:
    """The case's row for a change ``actor`` makes inside his transaction (NotFound unless he may see
    it): for the modules that act on cases (portal/ratings.py)."""
    return _load_for_change(db, case_id, actor)


def set_fields(db: Database, case_id: int, **fields) -> None:
    """Change columns of the case's row (and its ``updated_at``) inside the caller's transaction; the
    caller writes the step into the history (``record_history``)."""
    _set(db, case_id, **fields)


def _require_handler(actor: User, row: dict) -> None:
    if not can_handle(actor, row):
        raise PermissionDenied(f"只有{row['responsible_dept']}的工作人员或系统管理员可以办理此件")


def _require_state(row: dict, allowed: tuple[str, ...], what: str) -> None:
    if row["state"] not in allowed:
        names = "、".join(STATE_LABELS[s] for s in allowed)
        raise Conflict(f"此件当前为“{STATE_LABELS[row['state']]}”，只有{names}的件可以{what}")


def _set(db: Database, case_id: int, **fields) -> None:
    fields["updated_at"] = dates.stamp()
    cols = ", ".join(f"{k} = ?" for k in fields)
    db.execute(f"UPDATE cases SET {cols} WHERE id = ?", [*fields.values(), case_id])


def _note(value: str, what: str = "说明", required: bool = False, max_len: int = NOTE_MAX) -> str:
    return text.free_text(value, what, max_len=max_len, required=required)


def refer(db: Database, case_id: int, handling_unit_id: int, actor: User, note: str = "") -> Case:
    """Hand the case to the unit that must act (again, to another unit, while it is open)."""
    note = _note(note)
    with write(db):
        row = _load_for_change(db, case_id, actor)
        _require_handler(actor, row)
        _require_state(row, OPEN_STATES, "转办")
        name = _check_unit(db, handling_unit_id)
        if not name:
            raise ValidationError("请选择承办单位")
        to_state = "referred" if row["state"] == "registered" else row["state"]
        _set(db, case_id, handling_unit_id=handling_unit_id, state=to_state)
        _event(
            db,
            case_id,
            actor.id,
            "referred",
            row["state"],
            to_state,
            "；".join(filter(None, [f"转办至{name}", note])),
        )
    return get_case(db, case_id, actor)


def transfer(db: Database, case_id: int, department: str, actor: User, note: str = "") -> Case:
    """Hand an open case to another responsible department (e.g. 党办 → 校办, or a symposium
    opinion that is really about teaching → 教务处); the deadline stays."""
    note = _note(note)
    if department not in policy().departments:
        raise ValidationError(f"责任部门“{department}”不在部门列表中")
    with write(db):
        row = _load_for_change(db, case_id, actor)
        _require_handler(actor, row)
        _require_state(row, OPEN_STATES, "移交")
        if department == row["responsible_dept"]:
            raise ValidationError(f"此件已由{department}负责")
        _set(db, case_id, responsible_dept=department)
        text_ = f"由{row['responsible_dept']}移交{department}"
        _event(
            db,
            case_id,
            actor.id,
            "transferred",
            row["state"],
            row["state"],
            "；".join(filter(None, [text_, note])),
        )
    return _cases(db, [_row(db, case_id)])[0]  # the actor may no longer see it


def acknowledge(db: Database, case_id: int, actor: User, note: str = "") -> Case:
    """The department has looked at a flagged case (its activity was voided or the item removed)
    and goes on with it: the alert leaves its list and 待办, the history keeps both."""
    note = _note(note)
    with write(db):
        row = _load_for_change(db, case_id, actor)
        _require_handler(actor, row)
        if not row["alert"]:
            raise Conflict("此件没有需要核实的来源变动")
        _set(db, case_id, alert="")
        _event(db, case_id, actor.id, "acknowledged", row["state"], row["state"], note or "已核实，继续办理")
    return get_case(db, case_id, actor)


def start(db: Database, case_id: int, actor: User, note: str = "") -> Case:
    """The handling unit has taken it up (已转办 → 办理中)."""
    note = _note(note)
    with write(db):
        row = _load_for_change(db, case_id, actor)
        _require_handler(actor, row)
        _require_state(row, ("referred",), "开始办理")
        _set(db, case_id, state="in_progress")
        _event(db, case_id, actor.id, "started", "referred", "in_progress", note)
    return get_case(db, case_id, actor)


def add_progress(db: Database, case_id: int, note: str, actor: User) -> Case:
    """A progress note on an open case (no change of state)."""
    note = _note(note, "办理进展", required=True)
    with write(db):
        row = _load_for_change(db, case_id, actor)
        _require_handler(actor, row)
        _require_state(row, OPEN_STATES, "记录办理进展")
        _set(db, case_id)
        _event(db, case_id, actor.id, "progress", row["state"], row["state"], note)
    return get_case(db, case_id, actor)


def answer(db: Database, case_id: int, answer_text: str, actor: User) -> Case:
    """Record the answer; it reaches the cadre and the person who raised it (已答复)."""
    answer_text = _note(answer_text, "答复内容", required=True, max_len=ANSWER_MAX)
    with write(db):
        row = _load_for_change(db, case_id, actor)
        _require_handler(actor, row)
        _require_state(row, OPEN_STATES, "答复")
        now = dates.stamp()
        _set(db, case_id, state="answered", answer=answer_text, answered_at=now)
        # every answer whole and numbered (case_answers), the row keeps the latest (issue 19 item 13)
        record_history(db, case_id, "answered", row["state"], "answered", now, actor.id, answer_text)
    return get_case(db, case_id, actor)


def close(db: Database, case_id: int, actor: User, note: str = "") -> Case:
    """办结 an answered case (the raiser may still reopen it within the set time)."""
    note = _note(note)
    with write(db):
        row = _load_for_change(db, case_id, actor)
        _require_handler(actor, row)
        _require_state(row, ("answered",), "办结")
        _set(db, case_id, state="closed", closed_at=dates.stamp())
        _event(db, case_id, actor.id, "closed", "answered", "closed", note)
    return get_case(db, case_id, actor)


def reopen_deadline(db: Database, case: Case) -> dt.date | None:
    """The last day the raiser may ask for the case to be handled again (None: not answered)."""
    if case.answered_at is None or case.state not in ("answered", "closed"):
        return None
    answered = dt.date.fromisoformat(case.answered_at[:10])
    return workdays.due_date(db, answered, policy().deadlines.reopen_within)


def can_reopen(db: Database, case: Case, on: dt.date | None = None) -> bool:
    last = reopen_deadline(db, case)
    return last is not None and (on or dates.today()) <= last


def reopen_row(db: Database, row: dict, actor_id: int | None, reason: str, at: str | None = None) -> dt.date:
    """Reopen the case ``row`` (办理中, due ``deadline_days`` working days from the day it reopens: today,
    or that of ``at`` for a backdated history), inside the caller's transaction; the reason goes into
    its history. Returns the new deadline. For ``reopen`` and for a 不满意 (``portal.ratings``)."""
    today = dt.date.fromisoformat(at[:10]) if at else dates.today()
    due = workdays.due_date(db, today, row["deadline_days"])
    if row.get("merged_into"):  # reopened on its own: a merged duplicate is handled by itself again
        lead = db.execute("SELECT number FROM cases WHERE id = ?", [row["merged_into"]]).fetchone()
        _set(db, row["id"], merged_into=None)
        _quiet_event(
            db,
            row["id"],
            actor_id,
            "unmerged",
            row["state"],
            row["state"],
            f"不再随 {lead[0]} 办理",
            at=at or dates.stamp(),
        )
    _set(
        db,
        row["id"],
        state="in_progress",
        closed_at=None,
        reopen_count=row["reopen_count"] + 1,
        due_date=due.isoformat(),
    )
    _event(
        db,
        row["id"],
        actor_id,
        "reopened",
        row["state"],
        "in_progress",
        f"{reason}（新的办理期限：{due.isoformat()}）",
        at,
    )
    return due


def reopen(db: Database, case_id: int, reason: str, actor: User) -> Case:
    """The department reopens an answered case on its own account (the answer proved wrong or
    incomplete) within ``deadlines.reopen_within`` working days of the answer. A raiser who is not
    satisfied says so by his rating, or through the department's 回访 (``portal.ratings``)."""
    reason = _note(reason, "重新办理原因", required=True)
    with write(db):
        row = _load_for_change(db, case_id, actor)
        _require_handler(actor, row)
        _require_state(row, ("answered", "closed"), "重新办理")
        if not can_reopen(db, _cases(db, [row])[0]):
            raise Conflict(f"已超过答复后 {policy().deadlines.reopen_within} 个工作日的重新办理期限")
        reopen_row(db, row, actor.id, reason)
    return get_case(db, case_id, actor)


def mark_read(db: Database, case_id: int, reader: User) -> bool:
    """The cadre or the raiser has read the answer (once; True when this is the first time)."""
    row = _load_for_change(db, case_id, reader)
    if row["answered_at"] is None or not (
        row["raised_by"] == reader.id
        or (reader.person_id is not None and row["cadre_id"] == reader.person_id)
    ):
        return False
    with write(db):
        seen = db.execute(
            "SELECT 1 FROM case_events WHERE case_id = ? AND user_id = ? AND action = 'read' AND id > "
            "(SELECT max(id) FROM case_events WHERE case_id = ? AND action = 'answered')",
            [case_id, reader.id, case_id],
        ).fetchone()
        if seen:
            return False
        _event(db, case_id, reader.id, "read", row["state"], row["state"])
    return True


def unread_answers(db: Database, reader: User) -> list[Case]:
    """Answered cases the reader raised, or that came from his contacts, not read since the answer."""
    mine = list_cases(db, reader, scope="mine", states=["answered", "closed"])
    theirs = list_cases(db, reader, scope="cadre", states=["answered", "closed"]) if reader.person_id else []
    found = {c.id: c for c in [*mine, *theirs]}
    if not found:
        return []
    read = {
        r[0]
        for r in db.execute(
            f"SELECT e.case_id FROM case_events e "
            f"WHERE e.user_id = ? AND e.action = 'read' AND e.id > (SELECT max(a.id) FROM case_events a "
            f"WHERE a.case_id = e.case_id AND a.action = 'answered') "
            f"AND e.case_id IN ({','.join('?' * len(found))})",
            [reader.id, *found],
        )
    }
    return [c for c in found.values() if c.id not in read]


# --- deadlines after a calendar change ---------------------------------------------------------


def _deadline_base(db: Database, row: dict) -> dt.date:
    """A reopened case counts from the day it was reopened; others from the contact."""
    if row["reopen_count"]:
        at = db.execute(
            "SELECT at FROM case_events WHERE case_id = ? AND action = 'reopened' ORDER BY id DESC LIMIT 1",
            [row["id"]],
        ).fetchone()
        if at:
            return dt.date.fromisoformat(at[0][:10])
    return dt.date.fromisoformat(row["contact_date"])


@hooks.on_calendar_change
def recompute_due_dates(db: Database) -> int:
    """Recompute the due dates of open cases (after the working-day calendar changed).
    Returns how many changed; each change is recorded in the case's history."""
    changed = 0
    with write(db):
        rows = list(
            db.query(
                f"SELECT id, state, contact_date, deadline_days, due_date, reopen_count FROM cases "
                f"WHERE state IN ({','.join('?' * len(OPEN_STATES))})",
                OPEN_STATES,
            )
        )
        for row in rows:
            due = workdays.due_date(db, _deadline_base(db, row), row["deadline_days"]).isoformat()
            if due != row["due_date"]:
                _set(db, row["id"], due_date=due)
                _event(
                    db,
                    row["id"],
                    None,
                    "due_changed",
                    row["state"],
                    row["state"],
                    f"工作日安排调整：{row['due_date']} → {due}",
                )
                changed += 1
    return changed


# --- export -----------------------------------------------------------------------------------

EXPORT_COLUMNS = [
    ("编号", 12),
    ("来源", 10),
    ("制度", 14),
    ("联系日期", 12),
    ("干部", 10),
    ("提出人", 10),
    ("意见建议", 50),
    ("责任部门", 10),
    ("承办单位", 22),
    ("状态", 9),
    ("办理期限", 12),
    ("提醒", 18),
    ("答复", 50),
    ("答复时间", 18),
    ("重新办理次数", 8),
    ("来源变动", 30),
]


def export_rows(cases: list[Case]) -> list[list]:
    return [
        [
            c.number,
            c.source_label,
            c.system,
            c.contact_date.isoformat(),
            c.cadre_name,
            c.raiser_name,
            c.content,
            c.responsible_dept,
            c.handling_unit_name,
            c.state_label,
            c.due_date.isoformat(),
            c.flag or ("逾期答复" if c.answered_late else ""),
            c.answer,
            dates.format_stamp(c.answered_at) if c.answered_at else "",
            c.reopen_count,
            c.alert,
        ]
        for c in cases
    ]


def export_xlsx(cases: list[Case], title: str = "意见建议办理督办台账", on: dt.date | None = None) -> bytes:
    """The supervision list as a workbook: title row, header, overdue rows in red."""
    # here: openpyxl loads only for a workbook, not for every importer
    from . import sheets

    wb, ws = sheets.workbook_sheet(
        "督办", title, EXPORT_COLUMNS, subtitle=f"截至 {dates.format_date(on or dates.today())}"
    )
    for c, values in zip(cases, export_rows(cases), strict=True):
        ws.append(values, kind="台账逾期" if c.overdue else "台账提醒" if c.at_risk else "台账正文")
    return sheets.to_bytes(wb)


def to_json(cases: list[Case]) -> str:
    return json.dumps(
        [
            {
                "number": c.number,
                "source": c.source,
                "system": c.system,
                "responsible_dept": c.responsible_dept,
                "handling_unit": c.handling_unit_name,
                "state": c.state,
                "contact_date": c.contact_date.isoformat(),
                "due_date": c.due_date.isoformat(),
                "days_left": c.days_left,
                "overdue": c.overdue,
                "at_risk": c.at_risk,
                "cadre": c.cadre_name,
                "content": c.content,
            }
            for c in cases
        ],
        ensure_ascii=False,
        indent=1,
    )
