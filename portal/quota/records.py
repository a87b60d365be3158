"""What the quota engine reads, once per computation: the cadres' posts (and which rules they fall
under), their assignments, and their activities grouped by cadre and system, sorted by date."""

from __future__ import annotations

import bisect
import json
import operator
from collections import defaultdict
from dataclasses import dataclass

from sqlite_utils import Database

from .. import unit_names
from ..policy import Rule, policy

_DAY = operator.itemgetter(0)


@dataclass(slots=True)
class Post:
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


def load_posts(db: Database) -> list[Post]:
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
            Post(
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


class Matcher:
    """Which posts a rule applies to, with the unit-name matching done once per unit."""

    def __init__(self, db: Database | None = None) -> None:
        self.pol = policy()
        self._units: dict[tuple[int, str], bool] = {}
        # the policy's unit names as this installation maps them (研工部 → 研究生院 when merged)
        self._resolved = unit_names.resolve(db) if db is not None else {}
        self._rule_post: dict[tuple, bool] = {}

    def _unit(self, name: str, post: Post) -> bool:
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

    def _clause(self, clause, post: Post) -> bool:
        if not post.tags.issuperset(clause.tags):
            return False
        if clause.levels and post.level not in clause.levels:
            return False
        if clause.unit_kind and post.unit_kind != clause.unit_kind:
            return False
        return not clause.units or any(self._unit(u, post) for u in clause.units)

    def applies(self, rule: Rule, post: Post) -> bool:
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
class Assignment:
    kind: str
    code: str
    name: str
    start: str
    end: str | None

    def overlaps(self, lo: str, hi: str) -> bool:
        return self.start <= hi and (self.end is None or self.end >= lo)

    def active_on(self, day: str) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


class Records:
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
        self.assignments: dict[int, list[Assignment]] = defaultdict(list)
        for cadre_id, kind, code, name, start, end in db.execute(sql, aparams):
            self.assignments[cadre_id].append(Assignment(kind, code, name, start, end))

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
