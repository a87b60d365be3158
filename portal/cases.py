"""Cases (意见建议办理): every opinion or request raised in a contact, until it is answered — the model
and the queries.

A case is opened for each opinion raised in an activity (``case_opening.open_for_activity``: the one way in,
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

This module holds what a case is and who sees which (``get_case``, ``list_cases``, ``events`` …). Beside it:
``case_history`` (writing a case's row and its steps, carried to the duplicates merged into it),
``case_opening`` (``open_case``; opening from an activity's opinions; withdrawing or flagging when the
activity changes), ``case_actions`` (what the departments do: refer, answer, close, reopen …; deadlines after
a calendar change), ``case_export`` (the supervision workbook and JSON).
"""

from __future__ import annotations

import datetime as dt
from typing import TypedDict, Unpack

from pydantic import BaseModel
from sqlite_utils import Database

from . import dates, states, workdays
from .accounts import User
from .errors import NotFound, ValidationError
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


def from_rows(db: Database, rows: list[dict], on: dt.date | None = None) -> list[Case]:
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


def read_row(db: Database, case_id: int) -> dict:
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
    row = read_row(db, case_id)
    if not can_view(viewer, row):
        raise NotFound("意见建议不存在")  # not telling others' cases apart from missing ones
    return from_rows(db, [row], on)[0]


def find_by_number(db: Database, number: str, viewer: User) -> Case:
    """The case numbered ``number`` if the viewer may see it; one that exists but is not the viewer's
    is answered as one that does not (the merge form shows the message: no way to learn which numbers
    other departments' cases carry)."""
    missing = NotFound(f"没有编号为 {number.strip()[:20]} 的意见建议")
    found = db.execute("SELECT id FROM cases WHERE number = ?", [number.strip()]).fetchone()
    if found is None:
        raise missing
    try:
        return get_case(db, found[0], viewer)
    except NotFound:
        raise missing from None


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
    found = from_rows(db, list(db.query(sql, params)), filters.get("on"))
    if filters.get("overdue_only"):
        found = [c for c in found if c.overdue]
    return found


def of_activity(db: Database, activity_id: int) -> list[Case]:
    """The cases opened from one activity's opinions, in the order raised (what its logger sees
    right after saving; callers have checked the activity's visibility)."""
    return from_rows(db, list(db.query(_SQL + "WHERE c.activity_id = ? ORDER BY c.id", [activity_id])))


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


def unit_name(db: Database, unit_id: int | None) -> str:
    """The name of the handling unit ``unit_id`` ('' for none); ValidationError when there is no such unit."""
    if unit_id is None:
        return ""
    found = db.execute("SELECT name FROM units WHERE id = ?", [unit_id]).fetchone()
    if found is None:
        raise ValidationError("承办单位不存在")
    return found[0]


def row_for_change(db: Database, case_id: int, actor: User) -> dict:
    """The case's row for a change ``actor`` makes inside his transaction (NotFound unless he may see
    it): for the modules that act on cases (portal/case_actions.py, portal/ratings.py)."""
    row = read_row(db, case_id)
    if not can_view(actor, row):
        raise NotFound("意见建议不存在")
    return row


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
