"""The quota engine: for each cadre × applicable rule × period, how far he or she is (docs/rules.md §2–3).

``compute`` reads the cadres' posts, their assignments and their activities once
(``portal.quota.records``), then judges every (cadre, rule, period):

* a rule applies when one of the cadre's posts matches it (``Rule.applies_to`` minus
  ``excludes``) during the period; if those posts were held for less than half of the period
  the rule is ``not_assessed`` there;
* a finished period is ``met`` or ``missed``; a period still running is ``met`` or
  ``in_progress``, with the pace expected by ``on`` (the required amount times the share of the
  period gone, rounded down) and ``behind`` when the cadre is short of it;
* assignment bounds: outside [min, max] on the reference day is ``missed`` (too few while the
  period runs is ``in_progress``).

Each period is judged by the rules in force on the day it starts (``portal.rulesets``).
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from sqlite_utils import Database

from .. import dates, periods, rulesets
from ..errors import NotFound, ValidationError
from ..periods import Period
from ..policy import Rule
from .records import Assignment, Matcher, Post, Records, load_posts

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


@functools.lru_cache(maxsize=4096)
def _ordinal(day: str) -> int:
    return dt.date.fromisoformat(day).toordinal()


def _held_days(posts: list[Post], lo: str, hi: str) -> int:
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


def round_down(value: float, step: float = 1.0) -> float:
    return math.floor(value / step + 1e-9) * step


@dataclass
class _People:
    """Everyone's posts, for the counterparts of 谈心谈话 rules."""

    posts: list[Post]
    by_unit: dict[int, list[Post]] = field(default_factory=dict)
    leaders: list[Post] = field(default_factory=list)

    def __post_init__(self) -> None:
        by_unit: dict[int, list[Post]] = defaultdict(list)
        for p in self.posts:
            by_unit[p.unit_id].append(p)
            if p.level == "校级":
                self.leaders.append(p)
        self.by_unit = dict(by_unit)

    def counterparts(self, rule: Rule, qualifying: list[Post], person_id: int, day: str) -> dict[str, str]:
        """staff_no → name of the people the cadre must talk with, as posts stand on ``day``."""
        if rule.counterparts == "school_leaders":
            pool: Iterable[Post] = self.leaders
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
    qualifying: list[Post],
    data: Records,
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
    spans: dict[str, list[Assignment]] | None = None
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
    return "in_progress", round_down(required * period.elapsed_share(on), step)


def periods_of(
    db: Database, kinds: set[str], period: str | None, since: dt.date, on: dt.date
) -> list[Period]:
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
    by_person: dict[int, list[Post]] = defaultdict(list)
    for p in load_posts(db):
        if (person_id is None or p.person_id == person_id) and p.active_on(day):
            by_person[p.person_id].append(p)
    matcher = Matcher(db)
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
    all_posts = load_posts(db)
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
    by_person: dict[int, list[Post]] = defaultdict(list)
    for p in mine:
        by_person[p.person_id].append(p)

    the_periods = periods_of(db, {"month", "semester", "academic_year", "year"}, period, since, on)
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
    data = Records(db, since_of, hi, person_id, target_systems)
    people = _People(all_posts)
    matcher = Matcher(db)

    # period bounds as ISO strings once, not once per cadre
    bounds = [
        (per, rules, per.start.isoformat(), per.end.isoformat(), min(per.end, on).isoformat())
        for per, rules in plan
    ]
    out: list[QuotaResult] = []
    for pid, posts in by_person.items():
        first = posts[0]
        matching: dict[int, list[Post]] = {}
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
    post: Post,
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
