"""The institution-level duties (docs/rules.md §3) for the departments' ledgers: a count of activities,
every duty day held, each unit briefed, every branch covered, no contact point shared."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlite_utils import Database

from .. import dates, periods, rulesets, workdays
from ..periods import Period
from ..policy import InstitutionalRule
from .engine import BEHIND_LABEL, STATUS_LABELS, default_since, periods_of, round_down
from .records import load_posts


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
    for per in periods_of(db, kinds, period, since, on):
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
        expected = required if finished else round_down(required * per.elapsed_share(on))
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
    posts = [p for p in load_posts(db) if p.overlap_days(lo, upto)]
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
