"""Contact assignments (联系对象) and the target lists departments keep.

An assignment ties a cadre to a fixed contact: a contact college, a contact point, the
fixed pair (结对子), a party branch, a high-level talent, a non-party representative or a
retired colleague (第八—十、二十三、二十六、二十八、三十条). Admins and the department that
runs the matching system (第四条) keep them; a cadre reads his or her own.

The lists of branches, talents, representatives and retirees live in ``contact_targets``.
The policy's bounds are *checks*, never blocks: ``warnings`` reports each breach citing
the article, and the departments decide. The bounds are the ``assignment_bounds`` rules of the
rule set in force (``portal.rulesets``), applied to a cadre as the quota engine applies them,
so a revised rule file changes these warnings too.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel
from sqlite_utils import Database

from . import audit, dates, org, quota, text
from .accounts import User
from .db import inserted_id, write
from .errors import NotFound, PermissionDenied, ValidationError
from .policy import policy

KINDS = ("联系学院", "联系点", "结对子", "党支部", "高层次人才", "党外代表人士", "离退休老同志")
# The system an assignment kind serves: its departments keep the assignments (第四条).
KIND_SYSTEM = {
    "联系学院": "联系基层",
    "联系点": "联系基层",
    "结对子": "联系基层",
    "党支部": "联系师生党支部",
    "高层次人才": "联系高层次人才",
    "党外代表人士": "联系党外代表人士",
    "离退休老同志": "联系离退休老同志",
}
# Kinds whose targets come from the lists departments keep (others: colleges are units,
# contact points and pairs are named where they are assigned).
LIST_KINDS = ("党支部", "高层次人才", "党外代表人士", "离退休老同志")
GRASSROOTS_KINDS = ("联系学院", "联系点", "结对子")  # 第十条: kept at least a year, not shared
MIN_DAYS = 365  # 第十条: 每个联系点的联系时间不少于 1 年


class AssignmentInput(BaseModel):
    cadre_id: int
    kind: str
    target_code: str
    target_name: str = ""  # taken from the list / the college when left empty
    start_date: dt.date
    end_date: dt.date | None = None


class Assignment(BaseModel):
    id: int
    cadre_id: int
    cadre_staff_no: str
    cadre_name: str
    kind: str
    target_code: str
    target_name: str
    start_date: dt.date
    end_date: dt.date | None = None

    def active_on(self, day: dt.date) -> bool:
        return self.start_date <= day and (self.end_date is None or day <= self.end_date)


class TargetInput(BaseModel):
    kind: str
    code: str
    name: str
    unit_id: int | None = None
    note: str = ""
    active: bool = True


class ContactTarget(BaseModel):
    id: int
    kind: str
    code: str
    name: str
    unit_id: int | None = None
    unit_name: str | None = None
    note: str = ""
    active: bool = True


class BoundWarning(BaseModel):
    cadre_id: int
    cadre_staff_no: str
    cadre_name: str
    kind: str
    article: str
    message: str


# --- scope ---------------------------------------------------------------------------------


def kinds_of_department(department: str) -> list[str]:
    systems = set(policy().systems_of_department(department))
    return [k for k in KINDS if KIND_SYSTEM[k] in systems]


def managed_kinds(user: User) -> list[str]:
    """The kinds of assignments (and target lists) the user may keep."""
    if user.has("admin"):
        return list(KINDS)
    kinds = {k for d in user.departments for k in kinds_of_department(d)}
    return [k for k in KINDS if k in kinds]


def _require_kind(user: User, kind: str) -> None:
    if kind not in KINDS:
        raise ValidationError(f"未知的对象类型“{kind[:20]}”，应为：{'、'.join(KINDS)}")
    if kind not in managed_kinds(user):
        depts = "、".join(policy().system(KIND_SYSTEM[kind]).departments)
        raise PermissionDenied(f"“{kind}”由管理员和{depts}维护，您无权修改")


# --- targets (the lists departments keep) --------------------------------------------------

_TARGET_SQL = (
    "SELECT t.id, t.kind, t.code, t.name, t.unit_id, u.name AS unit_name, t.note, t.active "
    "FROM contact_targets t LEFT JOIN units u ON u.id = t.unit_id "
)


def list_targets(db: Database, kind: str | None = None, *, active_only: bool = False) -> list[ContactTarget]:
    where, params = ["1 = 1"], []
    if kind:
        where.append("t.kind = ?")
        params.append(kind)
    if active_only:
        where.append("t.active = 1")
    rows = db.query(_TARGET_SQL + "WHERE " + " AND ".join(where) + " ORDER BY t.kind, t.code", params)
    return [ContactTarget(**{**r, "active": bool(r["active"])}) for r in rows]


def get_target(db: Database, kind: str, code: str) -> ContactTarget | None:
    rows = list(db.query(_TARGET_SQL + "WHERE t.kind = ? AND t.code = ?", [kind, code]))
    return ContactTarget(**{**rows[0], "active": bool(rows[0]["active"])}) if rows else None


def _check_text(value: str, label: str, limit: int, required: bool = True) -> str:
    return text.free_text(value, label, limit, required=required, multiline=False)


def save_target(db: Database, data: TargetInput, actor: User | None) -> tuple[ContactTarget, str]:
    """Create or update a listed target keyed by (kind, code); returns (target, outcome)."""
    if actor is not None:
        _require_kind(actor, data.kind)
    if data.kind not in LIST_KINDS + ("联系点", "结对子"):
        raise ValidationError(f"“{data.kind}”不在名单之列（联系学院即学院本身）")
    code = _check_text(data.code, "对象编号", 30)
    name = _check_text(data.name, "对象名称", 100)
    note = _check_text(data.note, "备注", 500, required=False)
    values = {"name": name, "unit_id": data.unit_id, "note": note, "active": int(data.active)}
    with write(db):
        current = get_target(db, data.kind, code)
        if current is None:
            db.table("contact_targets").insert({"kind": data.kind, "code": code, **values})
            outcome = "created"
        elif (current.name, current.unit_id, current.note, int(current.active)) == tuple(values.values()):
            outcome = "unchanged"
        else:
            db.execute(
                "UPDATE contact_targets SET name = ?, unit_id = ?, note = ?, active = ? WHERE id = ?",
                [*values.values(), current.id],
            )
            outcome = "updated"
        if outcome != "unchanged" and actor is not None:
            audit.record(db, actor.id, f"target.{outcome}", f"{data.kind} {code} {name}")
        saved = get_target(db, data.kind, code)
    if saved is None:  # written just now, in the same transaction
        raise NotFound("联系对象记录不存在")
    return saved, outcome


# --- assignments ---------------------------------------------------------------------------

_SQL = (
    "SELECT a.id, a.cadre_id, p.staff_no AS cadre_staff_no, p.name AS cadre_name, a.kind, a.target_code, "
    "a.target_name, a.start_date, a.end_date FROM assignments a JOIN people p ON p.id = a.cadre_id "
)


def list_assignments(
    db: Database,
    viewer: User | None = None,
    *,
    cadre_id: int | None = None,
    kind: str | None = None,
    active_on: dt.date | None = None,
) -> list[Assignment]:
    """Assignments the viewer may see (None: no check, for services): admins all, departments
    the kinds they keep, a cadre his own."""
    where: list[str] = ["1 = 1"]
    params: list[object] = []
    if viewer is not None and not viewer.has("admin"):
        kinds = managed_kinds(viewer)
        parts = []
        if kinds:
            parts.append(f"a.kind IN ({', '.join('?' * len(kinds))})")
            params.extend(kinds)
        if viewer.has("cadre") and viewer.person_id is not None:
            parts.append("a.cadre_id = ?")
            params.append(viewer.person_id)
        if not parts:
            raise PermissionDenied("您无权查看联系对象")
        where.append("(" + " OR ".join(parts) + ")")
    if cadre_id is not None:
        where.append("a.cadre_id = ?")
        params.append(cadre_id)
    if kind:
        where.append("a.kind = ?")
        params.append(kind)
    if active_on is not None:
        where.append("a.start_date <= ? AND (a.end_date IS NULL OR a.end_date >= ?)")
        params.extend([active_on.isoformat()] * 2)
    rows = db.query(
        _SQL + "WHERE " + " AND ".join(where) + " ORDER BY p.staff_no, a.kind, a.start_date", params
    )
    return [Assignment(**r) for r in rows]


def targets_of(db: Database, cadre_id: int, kind: str, on: dt.date) -> list[Assignment]:
    """A cadre's assignments of a kind active on a day (the choices when logging a visit)."""
    return list_assignments(db, cadre_id=cadre_id, kind=kind, active_on=on)


def _resolve_name(db: Database, data: AssignmentInput) -> str:
    """The target's name, checking that it exists where a list or the units define it."""
    code = data.target_code.strip()
    if data.kind == "联系学院":
        unit = org.unit_by_name(db, code)
        if unit is None or unit.kind != "college":
            raise ValidationError(f"联系学院“{code[:30]}”不是已有的学院（对象编号填学院名称）")
        return data.target_name.strip() or unit.name
    if data.kind in LIST_KINDS:
        target = get_target(db, data.kind, code)
        if target is None:
            raise ValidationError(f"{data.kind}名单中没有编号“{code[:30]}”，请先在名单中添加")
        return data.target_name.strip() or target.name
    listed = get_target(db, data.kind, code)
    return data.target_name.strip() or (listed.name if listed else "")


def save_assignment(db: Database, data: AssignmentInput, actor: User | None) -> tuple[Assignment, str]:
    """Create or update an assignment keyed by (cadre, kind, target code); ``actor`` None: an import."""
    if actor is not None:
        _require_kind(actor, data.kind)
    elif data.kind not in KINDS:
        raise ValidationError(f"未知的对象类型“{data.kind[:20]}”，应为：{'、'.join(KINDS)}")
    code = _check_text(data.target_code, "对象编号", 60)
    if not db.execute("SELECT 1 FROM cadre_posts WHERE person_id = ? LIMIT 1", [data.cadre_id]).fetchone():
        raise ValidationError("此人没有干部职务记录，不能设置联系对象")
    name = _check_text(_resolve_name(db, data), "对象名称", 100)
    if data.end_date and data.end_date < data.start_date:
        raise ValidationError("结束日期早于开始日期")
    values = {
        "target_name": name,
        "start_date": data.start_date.isoformat(),
        "end_date": data.end_date.isoformat() if data.end_date else None,
    }
    with write(db):
        row = db.execute(
            "SELECT id, target_name, start_date, end_date FROM assignments "
            "WHERE cadre_id = ? AND kind = ? AND target_code = ?",
            [data.cadre_id, data.kind, code],
        ).fetchone()
        if row is None:
            assignment_id = inserted_id(
                db.table("assignments").insert(
                    {"cadre_id": data.cadre_id, "kind": data.kind, "target_code": code, **values}
                )
            )
            outcome = "created"
        elif tuple(row[1:]) == tuple(values.values()):
            assignment_id, outcome = row[0], "unchanged"
        else:
            assignment_id, outcome = row[0], "updated"
            db.table("assignments").update(assignment_id, values)
        if outcome != "unchanged" and actor is not None:
            audit.record(db, actor.id, f"assignment.{outcome}", f"{data.cadre_id} {data.kind} {code}")
    return get_assignment(db, assignment_id), outcome


def get_assignment(db: Database, assignment_id: int) -> Assignment:
    rows = list(db.query(_SQL + "WHERE a.id = ?", [assignment_id]))
    if not rows:
        raise NotFound("联系对象记录不存在")
    return Assignment(**rows[0])


def end_assignment(db: Database, assignment_id: int, end_date: dt.date, actor: User) -> Assignment:
    """End an assignment on a day (kept for the record; activities before it still count)."""
    current = get_assignment(db, assignment_id)
    _require_kind(actor, current.kind)
    if end_date < current.start_date:
        raise ValidationError("结束日期早于开始日期")
    with write(db):
        db.execute("UPDATE assignments SET end_date = ? WHERE id = ?", [end_date.isoformat(), assignment_id])
        audit.record(db, actor.id, "assignment.end", f"{assignment_id} {end_date}")
    return get_assignment(db, assignment_id)


# --- the policy's bounds, as warnings ------------------------------------------------------


def warnings(
    db: Database, viewer: User | None = None, *, cadre_id: int | None = None, on: dt.date | None = None
) -> list[BoundWarning]:
    """Breaches of the policy's bounds on a day: too few or too many of a kind (第八、九、二十三、
    二十六、二十八、三十条), a contact point shared by two cadres, one kept under a year (第十条)."""
    on = on or dates.today()
    if viewer is not None and not managed_kinds(viewer):
        if viewer.person_id is None or not viewer.has("cadre"):
            raise PermissionDenied("您无权查看联系对象")
        cadre_id = viewer.person_id  # a cadre sees the checks of his own
    cadres = [c for c in org.list_cadres(db, on=on) if cadre_id is None or c.person_id == cadre_id]
    held = list_assignments(db, viewer, cadre_id=cadre_id)
    by_cadre: dict[int, list[Assignment]] = {}
    for a in held:
        by_cadre.setdefault(a.cadre_id, []).append(a)
    visible = set(managed_kinds(viewer) or KINDS) if viewer is not None else set(KINDS)
    applicable = quota.applicable_rules(db, on, person_id=cadre_id)
    out: list[BoundWarning] = []
    for cadre in cadres:
        mine = [a for a in by_cadre.get(cadre.person_id, []) if a.active_on(on)]
        for rule in applicable.get(cadre.person_id, []):
            if rule.kind != "assignment_bounds" or rule.target_kind not in visible:
                continue
            kind = rule.target_kind
            count = sum(a.kind == kind for a in mine)
            assert rule.max is not None  # Rule's validator: assignment_bounds has an upper bound
            if rule.min <= count <= rule.max:
                continue
            out.append(
                BoundWarning(
                    cadre_id=cadre.person_id,
                    cadre_staff_no=cadre.staff_no,
                    cadre_name=cadre.name,
                    kind=kind,
                    article=rule.article,
                    message=f"{kind}现有 {count} 个，应为 {rule.requirement}（{rule.article}：{rule.title}）",
                )
            )
    out.extend(_grassroots_warnings(db, held, on, cadre_id))
    return out


def _grassroots_warnings(
    db: Database, held: list[Assignment], on: dt.date, cadre_id: int | None
) -> list[BoundWarning]:
    out = []
    points = [a for a in held if a.kind in GRASSROOTS_KINDS]
    if cadre_id is not None:  # sharing needs everyone's points, not only this cadre's
        codes = {(a.kind, a.target_code) for a in points}
        points = [a for a in list_assignments(db) if (a.kind, a.target_code) in codes]
    sharing: dict[tuple[str, str], list[Assignment]] = {}
    for a in points:
        if a.active_on(on) and a.kind != "联系学院":  # several leaders may share a college
            sharing.setdefault((a.kind, a.target_code), []).append(a)
    for (kind, _code), group in sharing.items():
        if len({a.cadre_id for a in group}) < 2:
            continue
        names = "、".join(f"{a.cadre_name}（{a.cadre_staff_no}）" for a in group)
        for a in group:
            if cadre_id is None or a.cadre_id == cadre_id:
                out.append(
                    BoundWarning(
                        cadre_id=a.cadre_id,
                        cadre_staff_no=a.cadre_staff_no,
                        cadre_name=a.cadre_name,
                        kind=kind,
                        article="第十条",
                        message=f"{kind}“{a.target_name}”由 {names} 同时联系（第十条：联系点一般不重复交叉）",
                    )
                )
    for a in held:
        if a.kind in GRASSROOTS_KINDS and a.end_date is not None and a.end_date <= on:
            days = (a.end_date - a.start_date).days + 1
            if days < MIN_DAYS:
                out.append(
                    BoundWarning(
                        cadre_id=a.cadre_id,
                        cadre_staff_no=a.cadre_staff_no,
                        cadre_name=a.cadre_name,
                        kind=a.kind,
                        article="第十条",
                        message=f"{a.kind}“{a.target_name}”只联系了 {days} 天（第十条：每个联系点的联系时间不少于 1 年）",
                    )
                )
    return out
