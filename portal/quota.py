"""The quota engine: for each cadre × applicable rule × period, how far he or she is (docs/rules.md §2–3).

``compute`` reads the cadres' posts (``cadre_posts``, ``post_charges``), their assignments and
their activities (voided rows ignored; ``activity_targets`` name the targets and counterparts)
in one pass each, then judges every (cadre, rule, period):

* a rule applies when one of the cadre's posts matches it (``Rule.applies_to`` minus
  ``excludes``) during the period; if those posts were held for less than half of the period
  the rule is ``not_assessed`` there;
* a finished period is ``met`` or ``missed``; a period still running is ``met`` or
  ``in_progress``, with the pace expected by ``on`` (the required amount times the share of the
  period gone, rounded down) and ``behind`` when the cadre is short of it;
* assignment bounds: outside [min, max] on the reference day is ``missed`` (too few while the
  period runs is ``in_progress``).

Each period is judged by the rules in force on the day it starts (``portal.rulesets``).
``compute_institutional`` judges the institution-level duties for the departments' ledgers.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import json
import math
import operator
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from sqlite_utils import Database

from . import dates, periods, rulesets, workdays
from .accounts import User
from .errors import NotFound, PermissionDenied, ValidationError
from .periods import Period
from .policy import InstitutionalRule, Rule, policy

STATUSES = ("met", "in_progress", "missed", "not_assessed")
STATUS_LABELS = {"met": "已完成", "in_progress": "进行中", "missed": "未完成", "not_assessed": "不考核"}
BEHIND_LABEL = "进度滞后"
# One colour per state of a result, the same on every page, chart and sheet: green met, blue under
# way, amber behind the pace, red missed, grey not assessed — (Streamlit colour name, hex).
Colour = Literal["red", "orange", "yellow", "blue", "green", "violet", "gray", "grey", "primary"]
STATE_COLORS: dict[str, tuple[Colour, str]] = {
    "已完成": ("green", "#21a366"),
    "进行中": ("blue", "#1c83e1"),
    BEHIND_LABEL: ("orange", "#f08c00"),
    "未完成": ("red", "#e0403a"),
    "不考核": ("gray", "#a3a8b4"),
}
_DAY = operator.itemgetter(0)
UNIT_LABELS = {
    "hours": "课时",
    "assignment_bounds": "个",
    "each_target": "个",
    "each_counterpart": "人",
    "count": "次",
}


@dataclass(slots=True)
class QuotaResult:
    person_id: int
    staff_no: str
    name: str
    unit: str  # the unit of the post that makes the rule apply
    rule: str  # rule id
    title: str
    system: str
    article: str
    kind: str
    period: str  # period key
    period_kind: str
    period_label: str
    start: dt.date
    end: dt.date
    required: float
    done: float
    max: float | None
    status: str
    expected: float  # the pace: what should be done by ``on``
    behind: bool
    activity_ids: list[int] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # targets / counterparts not yet covered
    note: str = ""

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def state(self) -> str:
        """What a person reads: the status, with 进度滞后 for a task under way behind the pace."""
        return BEHIND_LABEL if self.behind else self.status_label

    @property
    def unit_label(self) -> str:
        return UNIT_LABELS.get(self.kind, "次")

    @property
    def progress(self) -> float:
        """0–1 for a progress bar."""
        if self.required <= 0:
            return 1.0 if self.status == "met" else 0.0
        return max(0.0, min(1.0, self.done / self.required))


# --- what compute reads, once -------------------------------------------------------------


@dataclass(slots=True)
class _Post:
    person_id: int
    staff_no: str
    name: str
    unit_id: int
    unit_name: str
    unit_kind: str
    unit_policy_name: str | None
    level: str
    tags: frozenset[str]
    start: str
    end: str | None
    charges: tuple[int, ...]

    def overlap_days(self, lo: str, hi: str) -> tuple[str, str] | None:
        a = max(lo, self.start)
        b = min(hi, self.end) if self.end else hi
        return (a, b) if a <= b else None

    def active_on(self, day: str) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


def _load_posts(db: Database) -> list[_Post]:
    charges: dict[int, list[int]] = defaultdict(list)
    for post_id, unit_id in db.execute("SELECT post_id, unit_id FROM post_charges"):
        charges[post_id].append(unit_id)
    rows = db.execute(
        "SELECT cp.id, cp.person_id, p.staff_no, p.name, cp.unit_id, u.name, u.kind, u.policy_name, cp.level, "
        "cp.tags, p.cpc_member, cp.start_date, cp.end_date FROM cadre_posts cp "
        "JOIN people p ON p.id = cp.person_id JOIN units u ON u.id = cp.unit_id "
        "ORDER BY CASE cp.level WHEN '校级' THEN 0 WHEN '正处' THEN 1 ELSE 2 END, p.staff_no, cp.id"
    )
    out = []
    for pid, person, staff_no, name, unit_id, unit, kind, pname, level, tags, cpc, start, end in rows:
        t = set(json.loads(tags))
        t.add("school_leader" if level == "校级" else "middle_cadre")
        if cpc:
            t.add("cpc_member")
        out.append(
            _Post(
                person,
                staff_no,
                name,
                unit_id,
                unit,
                kind,
                pname,
                level,
                frozenset(t),
                start,
                end,
                tuple(charges.get(pid, ())),
            )
        )
    return out


class _Matcher:
    """Which posts a rule applies to, with the unit-name matching done once per unit."""

    def __init__(self, db: Database | None = None) -> None:
        from . import unit_names

        self.pol = policy()
        self._units: dict[tuple[int, str], bool] = {}
        # the policy's unit names as this installation maps them (研工部 → 研究生院 when merged)
        self._resolved = unit_names.resolve(db) if db is not None else {}
        self._rule_post: dict[tuple, bool] = {}

    def _unit(self, name: str, post: _Post) -> bool:
        key = (post.unit_id, name)
        found = self._units.get(key)
        if found is None:
            mapped = self._resolved.get(name)
            if mapped is not None and mapped.unit_id is not None:
                found = mapped.unit_id == post.unit_id
            else:
                found = mapped is None and self.pol.unit_matches(name, post.unit_name, post.unit_policy_name)
            self._units[key] = found
        return found

    def _clause(self, clause, post: _Post) -> bool:
        if not post.tags.issuperset(clause.tags):
            return False
        if clause.levels and post.level not in clause.levels:
            return False
        if clause.unit_kind and post.unit_kind != clause.unit_kind:
            return False
        return not clause.units or any(self._unit(u, post) for u in clause.units)

    def applies(self, rule: Rule, post: _Post) -> bool:
        # what a clause reads of a post: its tags, level and unit (the unit's kind and names follow
        # from its id); a thousand cadres' posts come in far fewer such shapes
        key = (id(rule), post.tags, post.level, post.unit_kind, post.unit_id)
        found = self._rule_post.get(key)
        if found is None:
            found = any(self._clause(c, post) for c in rule.applies_to) and not any(
                self._clause(c, post) for c in rule.excludes
            )
            self._rule_post[key] = found
        return found


@dataclass(slots=True)
class _Assignment:
    kind: str
    code: str
    name: str
    start: str
    end: str | None

    def overlaps(self, lo: str, hi: str) -> bool:
        return self.start <= hi and (self.end is None or self.end >= lo)

    def active_on(self, day: str) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


class _Data:
    """A cadre's activities by (cadre, system), sorted by date, and assignments by cadre.

    Entries are ``(day, subtype, n, hours, id)`` (n = 1); for the systems whose rules read
    targets, a second list holds ``(day, subtype, code, n, id)``. For the whole university one
    table scan beats any index (the range covers most rows), and the targets are matched in
    Python rather than by a join; for one cadre the (cadre, date) index does it.
    """

    def __init__(
        self, db: Database, since: dict[str, str], hi: str, person_id: int | None, target_systems: set[str]
    ):
        # each system from the first day a rule reading it needs (a year's visits reach further
        # back than a semester's counts); systems no rule reads are not fetched at all
        since = since or {"": "9999"}  # nothing to read: a condition no row meets
        ranges = " ".join("WHEN ? THEN a.date >= ?" for _ in since)
        where = f"a.voided_at IS NULL AND a.date <= ? AND (CASE a.system {ranges} ELSE 0 END)"
        params: list = [hi, *(v for pair in sorted(since.items()) for v in pair)]
        source = "activities a NOT INDEXED"
        if person_id is not None:
            where += " AND a.cadre_id = ? AND a.date >= ?"
            params += [person_id, min(since.values())]
            source = "activities a"
        grouped: dict[tuple[int, str], list[tuple]] = defaultdict(list)
        info: dict[int, tuple[int, str, str, str]] = {}
        # rows come back as the entries themselves: (day, subtype, 1, hours, id, cadre, system)
        for row in db.execute(
            f"SELECT a.date, a.subtype, 1, a.hours, a.id, a.cadre_id, a.system FROM {source} WHERE {where}",
            params,
        ):
            grouped[(row[5], row[6])].append(row)
            if row[6] in target_systems:
                info[row[4]] = (row[5], row[6], row[0], row[1])
        self.rows = self._sorted(grouped)
        tgrouped: dict[tuple[int, str], list[tuple]] = defaultdict(list)
        if info:
            if person_id is not None:
                marks = ",".join("?" * len(info))
                pairs = db.execute(
                    f"SELECT activity_id, target_code FROM activity_targets WHERE activity_id IN ({marks})",
                    list(info),
                )
            else:
                pairs = db.execute("SELECT activity_id, target_code FROM activity_targets")
            for aid, code in pairs:
                found = info.get(aid)
                if found is not None:
                    tgrouped[(found[0], found[1])].append((found[2], found[3], code, 1, aid))
        self.trows = self._sorted(tgrouped)
        sql = "SELECT cadre_id, kind, target_code, target_name, start_date, end_date FROM assignments"
        aparams: list = []
        if person_id is not None:
            sql += " WHERE cadre_id = ?"
            aparams.append(person_id)
        self.assignments: dict[int, list[_Assignment]] = defaultdict(list)
        for cadre_id, kind, code, name, start, end in db.execute(sql, aparams):
            self.assignments[cadre_id].append(_Assignment(kind, code, name, start, end))

    @staticmethod
    def _sorted(grouped: dict) -> dict[tuple[int, str], list[tuple]]:
        for entries in grouped.values():
            entries.sort()
        return grouped

    @staticmethod
    def _slice(rows: dict, key: tuple[int, str], lo: str, hi: str) -> list[tuple]:
        found = rows.get(key)
        if not found:
            return []
        return found[bisect.bisect_left(found, lo, key=_DAY) : bisect.bisect_right(found, hi, key=_DAY)]

    def between(self, person_id: int, system: str, lo: str, hi: str) -> list[tuple]:
        """(day, subtype, n, hours, id) of a cadre's activities of a system in [lo, hi]."""
        return self._slice(self.rows, (person_id, system), lo, hi)

    def targets_between(self, person_id: int, system: str, lo: str, hi: str) -> list[tuple]:
        """(day, subtype, code, n, id) of the targets a cadre's activities of a system named in [lo, hi]."""
        return self._slice(self.trows, (person_id, system), lo, hi)


# --- judging one (cadre, rule, period) ------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _ordinal(day: str) -> int:
    return dt.date.fromisoformat(day).toordinal()


def _held_days(posts: list[_Post], lo: str, hi: str) -> int:
    """Days of [lo, hi] during which any of the posts was held (overlaps counted once)."""
    if len(posts) == 1:  # the usual case
        span = posts[0].overlap_days(lo, hi)
        return _ordinal(span[1]) - _ordinal(span[0]) + 1 if span else 0
    spans = sorted(s for p in posts if (s := p.overlap_days(lo, hi)))
    total, cur_a, cur_b = 0, None, None
    for a, b in spans:
        if cur_b is not None and a <= cur_b:
            cur_b = max(cur_b, b)
            continue
        if cur_a is not None:
            total += _ordinal(cur_b) - _ordinal(cur_a) + 1
        cur_a, cur_b = a, b
    if cur_a is not None:
        total += _ordinal(cur_b) - _ordinal(cur_a) + 1
    return total


def _floor(value: float, step: float = 1.0) -> float:
    return math.floor(value / step + 1e-9) * step


@dataclass
class _People:
    """Everyone's posts, for the counterparts of 谈心谈话 rules."""

    posts: list[_Post]
    by_unit: dict[int, list[_Post]] = field(default_factory=dict)
    leaders: list[_Post] = field(default_factory=list)

    def __post_init__(self) -> None:
        by_unit: dict[int, list[_Post]] = defaultdict(list)
        for p in self.posts:
            by_unit[p.unit_id].append(p)
            if p.level == "校级":
                self.leaders.append(p)
        self.by_unit = dict(by_unit)

    def counterparts(self, rule: Rule, qualifying: list[_Post], person_id: int, day: str) -> dict[str, str]:
        """staff_no → name of the people the cadre must talk with, as posts stand on ``day``."""
        if rule.counterparts == "school_leaders":
            pool: Iterable[_Post] = self.leaders
        else:
            units: set[int] = set()
            for p in qualifying:
                if not p.active_on(day) and p.end is not None and p.end < day:
                    continue
                units.update(p.charges if rule.counterparts == "charged_units" else (p.unit_id,))
            pool = [q for u in sorted(units) for q in self.by_unit.get(u, [])]
        return {q.staff_no: q.name for q in pool if q.person_id != person_id and q.active_on(day)}


def _judge(
    rule: Rule,
    lo: str,
    hi: str,
    person_id: int,
    qualifying: list[_Post],
    data: _Data,
    people: _People,
) -> tuple[float, float, list[int], list[str], str]:
    """(required, done, activity ids, missing, note) of one rule in one period up to ``hi``."""
    subtypes = set(rule.subtypes)
    if rule.kind in ("count", "hours"):
        rows = [r for r in data.between(person_id, rule.system, lo, hi) if r[1] in subtypes]
        ids = [r[4] for r in rows if r[4] is not None]
        if rule.kind == "count":
            return rule.min, float(sum(r[2] for r in rows)), ids, [], ""
        return (
            rule.min,
            float(sum(r[3] for r in rows)),
            [r[4] for r in rows if r[3] > 0 and r[4] is not None],
            [],
            "",
        )
    if rule.kind == "assignment_bounds":
        held = [
            a for a in data.assignments.get(person_id, ()) if a.kind == rule.target_kind and a.active_on(hi)
        ]
        return rule.min, float(len(held)), [], [], "、".join(a.name for a in held)
    spans: dict[str, list[_Assignment]] | None = None
    if rule.kind == "each_target":
        targets = {}
        spans = defaultdict(list)
        for a in data.assignments.get(person_id, ()):
            if a.kind == rule.target_kind and a.overlaps(lo, hi):
                targets[a.code] = a.name
                spans[a.code].append(a)
        note = "" if targets else f"尚未分配{rule.target_kind}"
    else:  # each_counterpart
        targets = people.counterparts(rule, qualifying, person_id, hi)
        note = "" if targets else "没有需要谈话的对象"
    visits: dict[str, int] = defaultdict(int)
    visit_ids: set[int] = set()
    for day, subtype, code, n, aid in data.targets_between(person_id, rule.system, lo, hi):
        # a visit counts for a target only while it was assigned (history imports keep visits
        # made after an assignment ended: they count for count-type rules, not here)
        if (
            subtype in subtypes
            and code in targets
            and (spans is None or any(a.active_on(day) for a in spans[code]))
        ):
            visits[code] += n
            if aid is not None:
                visit_ids.add(aid)
    covered = sum(1 for c in targets if visits.get(c, 0) >= rule.min)
    missing = [name for c, name in targets.items() if visits.get(c, 0) < rule.min]
    return float(len(targets)), float(covered), sorted(visit_ids), missing, note


def _status(rule: Rule, period: Period, on: dt.date, required: float, done: float) -> tuple[str, float]:
    """(status, expected by ``on``)."""
    finished = period.end <= on
    if rule.kind == "assignment_bounds":
        hi = rule.max if rule.max is not None else math.inf
        if done > hi:
            return "missed", required
        if done >= required:
            return "met", required
        return ("missed" if finished else "in_progress"), required
    if done >= required:
        return "met", required
    if finished:
        return "missed", required
    step = 0.5 if rule.kind == "hours" else 1.0
    return "in_progress", _floor(required * period.elapsed_share(on), step)


# --- the public API -----------------------------------------------------------------------


def _periods(db: Database, kinds: set[str], period: str | None, since: dt.date, on: dt.date) -> list[Period]:
    if period:
        p = periods.period_from_key(db, period)
        if p.start > on:
            raise ValidationError(f"期间 {p.key} 尚未开始（截至 {on.isoformat()}）")
        return [p]
    out: list[Period] = []
    for kind in periods.KINDS:
        if kind in kinds:
            out.extend(periods.periods_overlapping(db, kind, since, on))
    return out


def default_since(db: Database, on: dt.date) -> dt.date:
    """The start of the academic year containing ``on``."""
    return periods.academic_year_of(db, on).start


def applicable_rules(db: Database, on: dt.date, *, person_id: int | None = None) -> dict[int, list[Rule]]:
    """The personal rules that apply to each cadre on ``on`` (person id → rules, in rule-file order).

    The rules are those in force that day (``rulesets.rule_set_on``), matched against the posts
    held that day exactly as ``compute`` matches them (tags, level, unit kind, the policy's unit
    names, ``excludes``). Every cadre holding a post that day is a key, even if no rule applies;
    ``person_id`` limits the answer to one cadre."""
    rules = rulesets.rule_set_on(db, on).rules
    day = on.isoformat()
    by_person: dict[int, list[_Post]] = defaultdict(list)
    for p in _load_posts(db):
        if (person_id is None or p.person_id == person_id) and p.active_on(day):
            by_person[p.person_id].append(p)
    matcher = _Matcher(db)
    return {
        pid: [r for r in rules if any(matcher.applies(r, p) for p in posts)]
        for pid, posts in by_person.items()
    }


def compute(
    db: Database,
    *,
    staff_no: str | None = None,
    period: str | None = None,
    since: dt.date | None = None,
    on: dt.date | None = None,
    systems: Iterable[str] | None = None,
    person_id: int | None = None,
) -> list[QuotaResult]:
    """Every (cadre, applicable rule, period) for the periods overlapping [since, on] (or the one
    ``period`` key), sorted by 工号, rule id, period. ``systems`` limits to those systems' rules
    (a department's view); ``staff_no`` / ``person_id`` to one cadre."""
    on = on or dates.today()
    since = since or default_since(db, on)
    if since > on:
        raise ValidationError("开始日期晚于截止日期")
    wanted_systems = set(systems) if systems is not None else None
    all_posts = _load_posts(db)
    if staff_no is not None:
        staff_no = staff_no.strip()
        mine = [p for p in all_posts if p.staff_no == staff_no]
        if not mine:
            raise NotFound(f"工号 {staff_no} 没有干部职务记录")
        person_id = mine[0].person_id
    elif person_id is not None:
        mine = [p for p in all_posts if p.person_id == person_id]
        if not mine:
            raise NotFound("该人员没有干部职务记录")
    else:
        mine = all_posts
    by_person: dict[int, list[_Post]] = defaultdict(list)
    for p in mine:
        by_person[p.person_id].append(p)

    the_periods = _periods(db, {"month", "semester", "academic_year", "year"}, period, since, on)
    plan: list[tuple[Period, list[Rule]]] = []
    for per in the_periods:
        rules = [
            r
            for r in rulesets.rule_set_on(db, per.start).rules
            if r.period == per.kind and (wanted_systems is None or r.system in wanted_systems)
        ]
        if rules:
            plan.append((per, rules))
    if not plan:
        return []
    hi = min(max(p.end for p, _ in plan), on).isoformat()
    since_of: dict[str, str] = {}
    for per, rules in plan:
        for r in rules:
            if r.kind != "assignment_bounds":
                since_of[r.system] = min(since_of.get(r.system, "9999"), per.start.isoformat())
    target_systems = {
        r.system for _, rules in plan for r in rules if r.kind in ("each_target", "each_counterpart")
    }
    data = _Data(db, since_of, hi, person_id, target_systems)
    people = _People(all_posts)
    matcher = _Matcher(db)

    # period bounds as ISO strings once, not once per cadre
    bounds = [
        (per, rules, per.start.isoformat(), per.end.isoformat(), min(per.end, on).isoformat())
        for per, rules in plan
    ]
    out: list[QuotaResult] = []
    for pid, posts in by_person.items():
        first = posts[0]
        matching: dict[int, list[_Post]] = {}
        for per, rules, p_lo, p_hi, upto in bounds:
            for rule in rules:
                candidates = matching.get(id(rule))
                if candidates is None:
                    candidates = matching[id(rule)] = [p for p in posts if matcher.applies(rule, p)]
                if not candidates:
                    continue
                qualifying = [p for p in candidates if p.overlap_days(p_lo, p_hi)]
                if not qualifying:
                    continue
                unit = qualifying[-1].unit_name
                if _held_days(qualifying, p_lo, p_hi) * 2 < per.days:
                    out.append(
                        _result(
                            first,
                            unit,
                            rule,
                            per,
                            rule.min,
                            0.0,
                            "not_assessed",
                            0.0,
                            [],
                            [],
                            "任职不足该期间的一半，不考核",
                        )
                    )
                    continue
                required, done, ids, missing, note = _judge(rule, p_lo, upto, pid, qualifying, data, people)
                if rule.kind in ("each_target", "each_counterpart") and required == 0:
                    out.append(_result(first, unit, rule, per, 0.0, 0.0, "not_assessed", 0.0, [], [], note))
                    continue
                status, expected = _status(rule, per, on, required, done)
                out.append(
                    _result(first, unit, rule, per, required, done, status, expected, ids, missing, note)
                )
    out.sort(key=lambda r: (r.staff_no, r.rule, r.period))
    return out


def _result(
    post: _Post,
    unit: str,
    rule: Rule,
    per: Period,
    required: float,
    done: float,
    status: str,
    expected: float,
    ids: list[int],
    missing: list[str],
    note: str,
) -> QuotaResult:
    return QuotaResult(
        person_id=post.person_id,
        staff_no=post.staff_no,
        name=post.name,
        unit=unit,
        rule=rule.id,
        title=rule.title,
        system=rule.system,
        article=rule.article,
        kind=rule.kind,
        period=per.key,
        period_kind=per.kind,
        period_label=per.label,
        start=per.start,
        end=per.end,
        required=required,
        done=done,
        max=rule.max if rule.kind == "assignment_bounds" else None,
        status=status,
        expected=expected,
        behind=status == "in_progress" and done < expected,
        activity_ids=ids,
        missing=missing,
        note=note,
    )


def _number(value: float | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else round(value, 2)


def report_json(results: Iterable[QuotaResult]) -> list[dict]:
    """docs/formats.md's quota report: one object per (cadre, rule, period), sorted by 工号, rule, period."""
    out = []
    for r in sorted(results, key=lambda r: (r.staff_no, r.rule, r.period)):
        item = {
            "cadre": r.staff_no,
            "name": r.name,
            "rule": r.rule,
            "period": r.period,
            "required": _number(r.required),
            "done": _number(r.done),
            "status": r.status,
        }
        if r.max is not None:
            item["max"] = _number(r.max)
        out.append(item)
    return out


# --- what the dashboard shows besides the quotas --------------------------------------------


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
    posts = [p for p in _load_posts(db) if p.active_on(on.isoformat())]
    seen: dict[int, str] = {}
    for p in posts:
        if p.person_id in seen:
            seen[p.person_id] += f"、{p.unit_name}"
        else:
            seen[p.person_id] = f"{p.name}（{p.staff_no}）{p.unit_name}"
    out = sorted(seen.items(), key=lambda kv: kv[0] != own)
    return out


# --- institution-level duties ---------------------------------------------------------------


@dataclass
class InstitutionResult:
    rule: str
    title: str
    system: str
    article: str
    owners: list[str]
    period: str
    period_label: str
    start: dt.date
    end: dt.date
    required: float
    done: float
    status: str
    expected: float
    behind: bool
    details: list[str] = field(default_factory=list)  # what is missing, in words
    activity_ids: list[int] = field(default_factory=list)
    warning: str | None = None  # e.g. the working-day calendar of a year is not loaded

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def state(self) -> str:
        """What a person reads: the status, with 进度滞后 for a task under way behind the pace."""
        return BEHIND_LABEL if self.behind else self.status_label


def compute_institutional(
    db: Database,
    *,
    period: str | None = None,
    since: dt.date | None = None,
    on: dt.date | None = None,
    departments: Iterable[str] | None = None,
) -> list[InstitutionResult]:
    """The institution-level duties (docs/rules.md §3) over the periods overlapping [since, on];
    ``departments`` limits to the duties those departments own."""
    on = on or dates.today()
    since = since or default_since(db, on)
    wanted = set(departments) if departments is not None else None
    out: list[InstitutionResult] = []
    kinds = {"month", "semester", "academic_year", "year"}
    for per in _periods(db, kinds, period, since, on):
        for rule in rulesets.rule_set_on(db, per.start).institutional:
            if rule.period != per.kind or (wanted is not None and not wanted & set(rule.owners)):
                continue
            out.append(_institutional(db, rule, per, on))
    if period is None:
        now = Period("always", on.isoformat(), on, on, f"截至{dates.format_date(on, weekday=False)}")
        for rule in rulesets.rule_set_on(db, on).institutional:
            if rule.period == "always" and (wanted is None or wanted & set(rule.owners)):
                out.append(_institutional(db, rule, now, on, since))
    return out


def _inst_result(
    rule: InstitutionalRule,
    per: Period,
    on: dt.date,
    required: float,
    done: float,
    expected: float | None = None,
    **extra,
) -> InstitutionResult:
    finished = per.end <= on
    status = "met" if done >= required else "missed" if finished else "in_progress"
    if expected is None:
        expected = required if finished else _floor(required * per.elapsed_share(on))
    return InstitutionResult(
        rule=rule.id,
        title=rule.title,
        system=rule.system,
        article=rule.article,
        owners=list(rule.owners),
        period=per.key,
        period_label=per.label,
        start=per.start,
        end=per.end,
        required=required,
        done=done,
        status=status,
        expected=expected,
        behind=status == "in_progress" and done < expected,
        **extra,
    )


def duty_wednesdays(db: Database, start: dt.date, end: dt.date) -> list[dt.date]:
    """Wednesdays in [start, end] that are working days in a semester's teaching weeks (第十一条)."""
    cal = workdays.calendar(db, start, end)
    out = []
    day = start + dt.timedelta(days=(2 - start.weekday()) % 7)
    while day <= end:
        sem = periods.semester_containing(db, day)
        if sem.teaching_start <= day <= sem.teaching_end and cal.is_working(day):
            out.append(day)
        day += dt.timedelta(days=7)
    return out


def _institutional(
    db: Database, rule: InstitutionalRule, per: Period, on: dt.date, since: dt.date | None = None
) -> InstitutionResult:
    lo, upto = per.start.isoformat(), min(per.end, on).isoformat()
    subtypes = list(rule.subtypes)
    marks = ",".join("?" * len(subtypes)) or "''"
    if rule.kind == "count":
        ids = [
            r[0]
            for r in db.execute(
                f"SELECT id FROM activities WHERE voided_at IS NULL AND system = ? AND subtype IN ({marks}) "
                "AND date BETWEEN ? AND ? ORDER BY date",
                [rule.system, *subtypes, lo, upto],
            )
        ]
        details = [] if ids else [f"{per.label}尚无{'、'.join(subtypes)}记录"]
        return _inst_result(rule, per, on, rule.min, float(len(ids)), details=details, activity_ids=ids)
    if rule.kind == "duty_days":
        duty_days = duty_wednesdays(db, per.start, per.end)
        held: dict[str, int] = {}
        for d, aid in db.execute(
            f"SELECT date, id FROM activities WHERE voided_at IS NULL AND system = ? AND subtype IN ({marks}) "
            "AND date BETWEEN ? AND ?",
            [rule.system, *subtypes, lo, upto],
        ):
            held.setdefault(d, aid)
        past = [d for d in duty_days if d <= on]
        not_held = [d for d in past if d.isoformat() not in held]
        warning = workdays.calendar_warning(db, per.start, per.end)
        return _inst_result(
            rule,
            per,
            on,
            float(len(duty_days)),
            float(len(past) - len(not_held)),
            expected=float(len(past)),
            details=[f"{dates.format_date(d)}没有接待记录" for d in not_held],
            activity_ids=sorted(held[d.isoformat()] for d in past if d.isoformat() in held),
            warning=warning,
        )
    if rule.kind == "unit_briefing":
        return _unit_briefing(db, rule, per, on, lo, upto)
    if rule.kind == "branch_coverage":
        branches = list(
            db.query(
                "SELECT t.code, t.name, coalesce(u.name, '') AS unit FROM contact_targets t "
                "LEFT JOIN units u ON u.id = t.unit_id WHERE t.kind IN ("
                + ",".join("?" * len(rule.target_kinds))
                + ") AND t.active = 1 ORDER BY u.name, t.name",
                rule.target_kinds,
            )
        )
        covered = {
            r[0]
            for r in db.execute(
                "SELECT DISTINCT target_code FROM assignments WHERE kind IN ("
                + ",".join("?" * len(rule.target_kinds))
                + ") AND start_date <= ? AND (end_date IS NULL OR end_date >= ?)",
                [*rule.target_kinds, upto, upto],
            )
        }
        missing = [
            f"{b['name'] if b['unit'] in b['name'] else b['unit'] + b['name']}没有联系的领导干部"
            for b in branches
            if b["code"] not in covered
        ]
        return _inst_result(
            rule,
            per,
            on,
            float(len(branches)),
            float(len(branches) - len(missing)),
            expected=float(len(branches)),
            details=missing,
        )
    # no_overlap: contact points shared on ``on``, or kept under ``min`` days when they ended
    kinds = rule.target_kinds
    marks_k = ",".join("?" * len(kinds))
    rows = list(
        db.query(
            "SELECT a.kind, a.target_code, a.target_name, a.start_date, a.end_date, p.name, p.staff_no "
            f"FROM assignments a JOIN people p ON p.id = a.cadre_id WHERE a.kind IN ({marks_k})",
            kinds,
        )
    )
    shared: dict[tuple[str, str], list[dict]] = defaultdict(list)
    details = []
    start = (since or on).isoformat()
    for r in rows:
        if r["start_date"] <= upto and (r["end_date"] is None or r["end_date"] >= upto):
            shared[(r["kind"], r["target_code"])].append(r)
        if r["end_date"] and start <= r["end_date"] <= upto:
            days = (dt.date.fromisoformat(r["end_date"]) - dt.date.fromisoformat(r["start_date"])).days + 1
            if days < rule.min:
                details.append(
                    f"{r['name']}（{r['staff_no']}）联系{r['kind']}“{r['target_name']}”仅 {days} 天"
                )
    for (kind, _code), group in sorted(shared.items()):
        if len({g["staff_no"] for g in group}) > 1:
            names = "、".join(f"{g['name']}（{g['staff_no']}）" for g in group)
            details.append(f"{kind}“{group[0]['target_name']}”由 {names} 同时联系")
    result = _inst_result(rule, per, on, 0.0, 0.0, expected=0.0, details=details)
    if details:  # breaches: the count of them, and the duty is not met
        result.status, result.done = "missed", float(len(details))
    return result


def _unit_briefing(
    db: Database, rule: InstitutionalRule, per: Period, on: dt.date, lo: str, upto: str
) -> InstitutionResult:
    """Each unit with a principal: its principal or a school leader in charge briefed the retirees."""
    posts = [p for p in _load_posts(db) if p.overlap_days(lo, upto)]
    briefers: dict[int, set[int]] = defaultdict(set)
    names: dict[int, str] = {}
    for p in posts:
        if p.level != "校级" and "principal" in p.tags:
            briefers[p.unit_id].add(p.person_id)
            names[p.unit_id] = p.unit_name
    for p in posts:
        if p.level == "校级":
            for u in p.charges:
                if u in briefers:
                    briefers[u].add(p.person_id)
    marks = ",".join("?" * len(rule.subtypes))
    done_by: dict[int, list[int]] = defaultdict(list)
    for cadre_id, aid in db.execute(
        f"SELECT cadre_id, id FROM activities WHERE voided_at IS NULL AND system = ? AND subtype IN ({marks}) "
        "AND date BETWEEN ? AND ?",
        [rule.system, *rule.subtypes, lo, upto],
    ):
        done_by[cadre_id].append(aid)
    done_units, ids, missing = 0, [], []
    for unit_id in sorted(briefers, key=lambda u: names[u]):
        found = [a for person in briefers[unit_id] for a in done_by.get(person, [])]
        if len(found) >= rule.min:
            done_units += 1
            ids += found
        else:
            missing.append(f"{names[unit_id]}尚未向离退休老同志通报工作")
    return _inst_result(
        rule, per, on, float(len(briefers)), float(done_units), details=missing, activity_ids=sorted(set(ids))
    )
