"""The organisation: units (学院/部门), people, and cadre posts with their tags."""

from __future__ import annotations

import datetime as dt
import json

from pydantic import BaseModel
from sqlite_utils import Database

from . import text
from .db import inserted_id, write
from .errors import NotFound, ValidationError
from .policy import policy
from .settings import PERSON_KINDS

UNIT_KINDS = {"学院": "college", "部门": "department"}
UNIT_KIND_LABELS = {v: k for k, v in UNIT_KINDS.items()}
LEVELS = ("校级", "正处", "副处")
FAR_PAST = "1900-01-01"


class Unit(BaseModel):
    id: int
    name: str
    kind: str  # college / department
    policy_name: str | None = None
    code: str | None = None  # 单位编码

    @property
    def kind_label(self) -> str:
        return UNIT_KIND_LABELS[self.kind]


class Person(BaseModel):
    id: int
    staff_no: str
    name: str
    unit_id: int | None = None
    unit_name: str | None = None
    phone: str = ""
    kind: str = "教职工"
    cpc_member: bool = False


class Post(BaseModel):
    id: int
    person_id: int
    unit_id: int
    unit_name: str
    unit_kind: str
    unit_policy_name: str | None = None
    title: str
    level: str
    tags: list[str]  # as given; see ``all_tags`` for the derived ones
    cpc_member: bool = False
    start_date: dt.date
    end_date: dt.date | None = None
    charges: list[str] = []  # 分管单位 names

    @property
    def all_tags(self) -> set[str]:
        """Explicit tags plus those the policy derives: 校级 → school_leader, 正处/副处 → middle_cadre."""
        tags = set(self.tags)
        tags.add("school_leader" if self.level == "校级" else "middle_cadre")
        if self.cpc_member:
            tags.add("cpc_member")
        return tags

    def active_on(self, day: dt.date) -> bool:
        return self.start_date <= day and (self.end_date is None or day <= self.end_date)


class Cadre(BaseModel):
    person_id: int
    staff_no: str
    name: str
    posts: list[Post]

    def posts_on(self, day: dt.date) -> list[Post]:
        return [p for p in self.posts if p.active_on(day)]

    def title_on(self, day: dt.date) -> str:
        return "、".join(p.title for p in self.posts_on(day)) or "、".join(p.title for p in self.posts[-1:])


# --- units ---------------------------------------------------------------------------------


_UNIT_SQL = "SELECT id, name, kind, policy_name, code FROM units "


def list_units(db: Database) -> list[Unit]:
    return [Unit(**r) for r in db.query(_UNIT_SQL + "ORDER BY kind, id")]


def unit_by_name(db: Database, name: str) -> Unit | None:
    """A unit by its 单位编码, its own name, its policy name, or a full name the policy lists for it."""
    name = (name or "").strip()
    if not name:
        return None
    rows = list(
        db.query(
            _UNIT_SQL + "WHERE code = ? OR name = ? OR policy_name = ? ORDER BY code = ? DESC",
            [name, name, name, name],
        )
    )
    if rows:
        return Unit(**rows[0])
    for policy_name, aliases in policy().unit_aliases.items():
        if name in aliases or name == policy_name:
            for candidate in [policy_name, *aliases]:
                rows = list(db.query(_UNIT_SQL + "WHERE name = ?", [candidate]))
                if rows:
                    return Unit(**rows[0])
    return None


unit_by_ref = unit_by_name  # a unit named by code or by name, wherever a sheet references one


def save_unit(
    db: Database, name: str, kind: str, policy_name: str | None = None, code: str | None = None
) -> tuple[Unit, str]:
    """Create or update a unit by name; returns (unit, 'created' | 'updated' | 'unchanged').

    ``code`` (单位编码) is unique across units; None leaves a stored code as it is."""
    name = text.name(name, "单位名称", 60)
    if kind not in UNIT_KIND_LABELS:
        raise ValidationError("单位类型须为“学院”或“部门”")
    if code is not None:
        code = text.code(code, "单位编码") if code.strip() else None
    with write(db):
        row = db.execute("SELECT id, kind, policy_name, code FROM units WHERE name = ?", [name]).fetchone()
        if code is not None:
            clash = db.execute("SELECT name FROM units WHERE code = ? AND name != ?", [code, name]).fetchone()
            if clash:
                raise ValidationError(f"单位编码“{code}”已用于“{clash[0]}”")
        if row is None:
            cur = db.execute(
                "INSERT INTO units (name, kind, policy_name, code) VALUES (?, ?, ?, ?)",
                [name, kind, policy_name, code],
            )
            unit = Unit(id=inserted_id(cur), name=name, kind=kind, policy_name=policy_name, code=code)
            return unit, "created"
        new_policy_name = policy_name if policy_name is not None else row[2]
        new_code = code if code is not None else row[3]
        unit = Unit(id=row[0], name=name, kind=kind, policy_name=new_policy_name, code=new_code)
        if (row[1], row[2], row[3]) == (kind, new_policy_name, new_code):
            return unit, "unchanged"
        db.execute(
            "UPDATE units SET kind = ?, policy_name = ?, code = ? WHERE id = ?",
            [kind, new_policy_name, new_code, row[0]],
        )
        return unit, "updated"


# --- people --------------------------------------------------------------------------------

_PERSON_SQL = (
    "SELECT p.id, p.staff_no, p.name, p.unit_id, u.name AS unit_name, p.phone, p.kind, p.cpc_member "
    "FROM people p LEFT JOIN units u ON u.id = p.unit_id "
)


def person_by_staff_no(db: Database, staff_no: str) -> Person | None:
    rows = list(db.query(_PERSON_SQL + "WHERE p.staff_no = ?", [staff_no.strip()]))
    return Person(**rows[0]) if rows else None


def get_person(db: Database, person_id: int) -> Person:
    rows = list(db.query(_PERSON_SQL + "WHERE p.id = ?", [person_id]))
    if not rows:
        raise NotFound("人员不存在")
    return Person(**rows[0])


def save_person(
    db: Database,
    staff_no: str,
    name: str,
    unit_id: int | None = None,
    phone: str | None = None,
    kind: str | None = None,
    cpc_member: bool | None = None,
) -> tuple[Person, str]:
    """Create or update a person by 工号; fields given as None are left as they are."""
    staff_no, name = text.code(staff_no, "工号"), text.name(name, "姓名")
    if phone is not None:
        phone = text.phone(phone, "手机号", required=False)
    if kind is not None and kind not in PERSON_KINDS:
        raise ValidationError(f"人员类别须为 {'、'.join(PERSON_KINDS)} 之一")
    with write(db):
        existing = person_by_staff_no(db, staff_no)
        if existing is None:
            cur = db.execute(
                "INSERT INTO people (staff_no, name, unit_id, phone, kind, cpc_member) VALUES (?, ?, ?, ?, ?, ?)",
                [staff_no, name, unit_id, phone or "", kind or "教职工", int(bool(cpc_member))],
            )
            return get_person(db, inserted_id(cur)), "created"
        changes: dict[str, object] = {"name": name}
        if unit_id is not None:
            changes["unit_id"] = unit_id
        if phone is not None:
            changes["phone"] = phone
        if kind is not None:
            changes["kind"] = kind
        if cpc_member is not None:
            changes["cpc_member"] = bool(cpc_member)
        current = existing.model_dump()
        if all(current[k] == v for k, v in changes.items()):
            return existing, "unchanged"
        db.table("people").update(
            existing.id, {k: int(v) if isinstance(v, bool) else v for k, v in changes.items()}
        )
        return get_person(db, existing.id), "updated"


# --- cadre posts ---------------------------------------------------------------------------

_POST_SQL = (
    "SELECT cp.id, cp.person_id, cp.unit_id, u.name AS unit_name, u.kind AS unit_kind, "
    "u.policy_name AS unit_policy_name, cp.title, cp.level, cp.tags, p.cpc_member, cp.start_date, cp.end_date, "
    "(SELECT json_group_array(cu.name) FROM post_charges pc JOIN units cu ON cu.id = pc.unit_id "
    " WHERE pc.post_id = cp.id) AS charges "
    "FROM cadre_posts cp JOIN units u ON u.id = cp.unit_id JOIN people p ON p.id = cp.person_id "
)


def _post(row: dict) -> Post:
    row = dict(row)
    row["tags"] = json.loads(row["tags"])
    row["charges"] = json.loads(row["charges"] or "[]")
    row["cpc_member"] = bool(row["cpc_member"])
    return Post(**row)


def posts_of(db: Database, person_id: int) -> list[Post]:
    return [
        _post(r)
        for r in db.query(_POST_SQL + "WHERE cp.person_id = ? ORDER BY cp.start_date, cp.id", [person_id])
    ]


def list_cadres(db: Database, on: dt.date | None = None) -> list[Cadre]:
    """Every cadre with posts (all posts, or those active on ``on``), ordered 校级 first, then 工号."""
    rows = db.query(
        _POST_SQL.replace("FROM cadre_posts", ", p.staff_no, p.name AS person_name FROM cadre_posts")
        + "ORDER BY CASE cp.level WHEN '校级' THEN 0 WHEN '正处' THEN 1 ELSE 2 END, p.staff_no, cp.id"
    )
    cadres: dict[int, Cadre] = {}
    for r in rows:
        r = dict(r)
        staff_no, name = r.pop("staff_no"), r.pop("person_name")
        post = _post(r)
        if on is not None and not post.active_on(on):
            continue
        cadres.setdefault(
            post.person_id, Cadre(person_id=post.person_id, staff_no=staff_no, name=name, posts=[])
        )
        cadres[post.person_id].posts.append(post)
    return list(cadres.values())


def get_cadre(db: Database, person_id: int) -> Cadre:
    person = get_person(db, person_id)
    posts = posts_of(db, person_id)
    if not posts:
        raise NotFound(f"{person.name}（{person.staff_no}）没有干部职务记录")
    return Cadre(person_id=person.id, staff_no=person.staff_no, name=person.name, posts=posts)


def validate_tags(tags: list[str]) -> list[str]:
    known = policy().tags
    unknown = [t for t in tags if t not in known]
    if unknown:
        raise ValidationError(f"未知标签：{'、'.join(unknown)}（可用：{'、'.join(known)}）")
    return tags


def save_post(
    db: Database,
    person_id: int,
    unit_id: int,
    title: str,
    level: str,
    tags: list[str],
    start_date: dt.date | None = None,
    end_date: dt.date | None = None,
    charges: list[int] | None = None,
) -> tuple[int, str]:
    """Create or update a post keyed by (person, unit, title); returns (post id, what happened)."""
    title = text.name(title, "职务", 60)
    if level not in LEVELS:
        raise ValidationError("级别须为“校级”“正处”或“副处”")
    # school_leader / middle_cadre / cpc_member are derived, never stored
    tags = sorted(set(validate_tags(tags)) - {"school_leader", "middle_cadre", "cpc_member"})
    start = (start_date or dt.date.fromisoformat(FAR_PAST)).isoformat()
    end = end_date.isoformat() if end_date else None
    if end and end < start:
        raise ValidationError("任职结束日期早于任职开始日期")
    charges = sorted(set(charges or []))
    values = {
        "level": level,
        "tags": json.dumps(tags, ensure_ascii=False),
        "start_date": start,
        "end_date": end,
    }
    with write(db):
        row = db.execute(
            "SELECT id, level, tags, start_date, end_date FROM cadre_posts "
            "WHERE person_id = ? AND unit_id = ? AND title = ?",
            [person_id, unit_id, title],
        ).fetchone()
        if row is None:
            post_id = inserted_id(
                db.table("cadre_posts").insert(
                    {"person_id": person_id, "unit_id": unit_id, "title": title, **values}
                )
            )
            outcome = "created"
        else:
            post_id = row[0]
            old_charges = sorted(
                r[0] for r in db.execute("SELECT unit_id FROM post_charges WHERE post_id = ?", [post_id])
            )
            same = (row[1], row[2], row[3], row[4]) == tuple(values.values()) and old_charges == charges
            if same:
                return post_id, "unchanged"
            db.table("cadre_posts").update(post_id, values)
            outcome = "updated"
        db.execute("DELETE FROM post_charges WHERE post_id = ?", [post_id])
        for unit in charges:
            db.execute("INSERT INTO post_charges (post_id, unit_id) VALUES (?, ?)", [post_id, unit])
    return post_id, outcome
