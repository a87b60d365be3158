"""Small SQL fixture helpers for the quota tests: a unit, a cadre with a post, an assignment, an activity."""

from __future__ import annotations

import json

from sqlite_utils import Database

_NOW = "2026-11-24T09:00:00+08:00"


class Org:
    """Builds a tiny university in an empty database, one row at a time."""

    def __init__(self, db: Database):
        self.db = db
        self._staff = 19990000

    def unit(self, name: str, kind: str = "department", policy_name: str | None = None) -> int:
        row = self.db.execute("SELECT id FROM units WHERE name = ?", [name]).fetchone()
        if row:
            return row[0]
        return self.db["units"].insert({"name": name, "kind": kind, "policy_name": policy_name}).last_pk

    def cadre(
        self,
        unit: str,
        level: str,
        tags: list[str] = (),
        *,
        cpc: bool = True,
        start: str = "2020-01-01",
        end: str | None = None,
        unit_kind: str | None = None,
        policy_name: str | None = None,
        title: str | None = None,
        charges: list[str] = (),
        name: str | None = None,
    ) -> int:
        kind = unit_kind or ("college" if unit.endswith("学院") else "department")
        unit_id = self.unit(unit, kind, policy_name)
        self._staff += 1
        person = (
            self.db["people"]
            .insert(
                {
                    "staff_no": str(self._staff),
                    "name": name or f"干部{self._staff % 1000}",
                    "unit_id": unit_id,
                    "cpc_member": int(cpc),
                }
            )
            .last_pk
        )
        self.post(person, unit, level, tags, start=start, end=end, title=title, charges=charges)
        return person

    def post(
        self,
        person: int,
        unit: str,
        level: str,
        tags: list[str] = (),
        *,
        start: str = "2020-01-01",
        end: str | None = None,
        title: str | None = None,
        charges: list[str] = (),
    ) -> int:
        unit_id = self.unit(unit, "college" if unit.endswith("学院") else "department")
        post_id = (
            self.db["cadre_posts"]
            .insert(
                {
                    "person_id": person,
                    "unit_id": unit_id,
                    "title": title or f"{unit}{level}{person}",
                    "level": level,
                    "tags": json.dumps(sorted(tags)),
                    "start_date": start,
                    "end_date": end,
                }
            )
            .last_pk
        )
        for charge in charges:
            self.db["post_charges"].insert({"post_id": post_id, "unit_id": self.unit(charge)})
        return post_id

    def staff_no(self, person: int) -> str:
        return self.db.execute("SELECT staff_no FROM people WHERE id = ?", [person]).fetchone()[0]

    def assign(
        self, person: int, kind: str, code: str, start: str = "2025-01-01", end: str | None = None
    ) -> None:
        self.db["assignments"].insert(
            {
                "cadre_id": person,
                "kind": kind,
                "target_code": code,
                "target_name": f"对象{code}",
                "start_date": start,
                "end_date": end,
            }
        )

    def activity(
        self,
        person: int,
        system: str,
        subtype: str,
        date: str,
        *,
        hours: float = 0,
        targets: list[str] = (),
        voided: bool = False,
    ) -> int:
        aid = (
            self.db["activities"]
            .insert(
                {
                    "cadre_id": person,
                    "system": system,
                    "subtype": subtype,
                    "date": date,
                    "hours": hours,
                    "content": "测试记录",
                    "created_at": _NOW,
                    "updated_at": _NOW,
                    "voided_at": _NOW if voided else None,
                }
            )
            .last_pk
        )
        for code in targets:
            self.db["activity_targets"].insert({"activity_id": aid, "target_code": code})
        return aid
