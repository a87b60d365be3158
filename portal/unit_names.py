"""The policy's unit names (党办, 校办, 学工部, 研工部 …) mapped onto the installation's units.

The policy names units by short names; each installation has its own full names. A policy name
resolves, in this order, to:

1. the unit an administrator chose for it (``policy_unit_names``; or "no such unit here");
2. the unit whose ``policy_name`` is that name;
3. the unit named so, or by one of the policy's aliases for it (学工部 = 学生处 = 学生工作部（处）);
4. the unit that carries its duties when merged (合署): ``[unit_fallbacks]`` of the policy, e.g.
   研工部 → 研究生院 when no 研究生工作部 exists (第十九条).

The quota engine matches rules that name units through ``resolve``; the admin's home page lists the
names that resolve to no unit (``unmapped``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from . import audit
from .db import write
from .errors import NotFound
from .policy import policy

HOW = {
    "admin": "管理员指定",
    "none": "管理员确认本校没有此单位",
    "policy_name": "单位的政策名称",
    "name": "名称相同或为通用别名",
    "fallback": "合署单位承担其职责",
    "missing": "未找到对应单位",
}


@dataclass(frozen=True)
class Mapping:
    policy_name: str
    unit_id: int | None
    unit_name: str
    how: str  # a key of HOW

    @property
    def how_label(self) -> str:
        return HOW[self.how]


def resolve(db: Database) -> dict[str, Mapping]:
    """Every policy unit name → the unit carrying it here (``unit_id`` None: none)."""
    pol = policy()
    units = list(db.execute("SELECT id, name, policy_name FROM units ORDER BY id"))
    by_name: dict[str, tuple[int, str]] = {name: (uid, name) for uid, name, _ in units}
    by_policy: dict[str, tuple[int, str]] = {}
    for uid, name, pname in units:
        if pname:
            by_policy.setdefault(pname, (uid, name))
    chosen = {
        name: (uid, uname)
        for name, uid, uname in db.execute(
            "SELECT m.policy_name, m.unit_id, u.name FROM policy_unit_names m LEFT JOIN units u ON u.id = m.unit_id"
        )
    }
    out: dict[str, Mapping] = {}
    for name in pol.unit_names:
        if name in chosen:
            uid, uname = chosen[name]
            out[name] = Mapping(name, uid, uname or "", "admin" if uid else "none")
            continue
        if name in by_policy:
            out[name] = Mapping(name, *by_policy[name], "policy_name")
            continue
        hit = next((by_name[n] for n in [name, *pol.unit_aliases.get(name, [])] if n in by_name), None)
        if hit is None:
            hit = next((by_policy[n] for n in pol.unit_aliases.get(name, []) if n in by_policy), None)
        if hit is not None:
            out[name] = Mapping(name, *hit, "name")
            continue
        fallback = next((by_name[n] for n in pol.unit_fallbacks.get(name, []) if n in by_name), None)
        if fallback is not None:
            out[name] = Mapping(name, *fallback, "fallback")
            continue
        out[name] = Mapping(name, None, "", "missing")
    return out


def unmapped(db: Database) -> list[str]:
    """Policy names with no unit here (and not confirmed absent by an administrator)."""
    return [m.policy_name for m in resolve(db).values() if m.how == "missing"]


def set_mapping(db: Database, policy_name: str, unit_id: int | None, actor_id: int | None) -> None:
    """An administrator's choice: ``unit_id`` carries ``policy_name``; None = this installation has no
    such unit (the name stops being listed as unmapped)."""
    if policy_name not in policy().unit_names:
        raise NotFound(f"政策中没有单位名称“{policy_name[:20]}”")
    with write(db):
        if unit_id is not None and not db.execute("SELECT 1 FROM units WHERE id = ?", [unit_id]).fetchone():
            raise NotFound("单位不存在")
        db.execute(
            "INSERT INTO policy_unit_names (policy_name, unit_id) VALUES (?, ?) "
            "ON CONFLICT (policy_name) DO UPDATE SET unit_id = excluded.unit_id",
            [policy_name, unit_id],
        )
        audit.record(db, actor_id, "policy_unit.set", f"{policy_name} → {unit_id}")


def clear_mapping(db: Database, policy_name: str, actor_id: int | None) -> None:
    """Back to the automatic resolution."""
    with write(db):
        db.execute("DELETE FROM policy_unit_names WHERE policy_name = ?", [policy_name])
        audit.record(db, actor_id, "policy_unit.clear", policy_name)
