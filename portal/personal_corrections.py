"""An administrator's correction of a person's details (PIPL Art. 46): name, telephone number, kind and
unit, with a reason; audited with the numbers masked (the audit log holds no full number)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from . import audit, text
from .accounts import User
from .db import write
from .errors import NotFound, PermissionDenied, Problems, ValidationError
from .phone import mask
from .settings import PERSON_KINDS

REASON_MAX = 200


@dataclass(frozen=True)
class Details:
    """A person's details as an administrator corrects them (the telephone number only masked)."""

    user_id: int
    username: str
    person_id: int | None
    name: str
    phone_masked: str
    kind: str
    unit_id: int | None


def details(db: Database, user_id: int) -> Details:
    row = db.execute(
        "SELECT u.id, u.username, u.person_id, COALESCE(p.name, u.display_name), COALESCE(p.phone, ''), "
        "COALESCE(p.kind, ''), p.unit_id FROM users u LEFT JOIN people p ON p.id = u.person_id WHERE u.id = ?",
        [user_id],
    ).fetchone()
    if row is None:
        raise NotFound("账号不存在")
    return Details(row[0], row[1], row[2], row[3], mask(row[4]) if row[4] else "", row[5], row[6])


def correct(
    db: Database,
    actor: User,
    user_id: int,
    *,
    reason: str,
    name: str | None = None,
    phone: str | None = None,
    kind: str | None = None,
    unit_id: int | None = None,
) -> Details:
    """Correct a person's details (None: unchanged; ``phone=""`` removes the number). Administrators
    only, with a reason; audited with what changed, numbers masked. Returns the details as they are."""
    if not actor.has("admin"):
        raise PermissionDenied("只有管理员可以更正个人信息")
    current = details(db, user_id)
    found = Problems()
    changes: dict[str, object] = {}
    with found.field("reason"):
        reason = text.free_text(reason, "更正原因", REASON_MAX, required=True).replace("\n", " ")
    if name is not None:
        with found.field("name"):
            name = text.name(name, "姓名")
            if name != current.name:
                changes["name"] = name
    if current.person_id is None and any(v is not None for v in (phone, kind, unit_id)):
        found.add("name", "该账号没有对应的人员信息，只能更正显示姓名")
    if phone is not None and current.person_id is not None:
        with found.field("phone"):
            phone = text.phone(phone, "手机号", required=False)
            stored = db.execute("SELECT phone FROM people WHERE id = ?", [current.person_id]).fetchone()[0]
            if phone != stored:
                changes["phone"] = phone
    if kind is not None and current.person_id is not None:
        if kind not in PERSON_KINDS:
            found.add("kind", f"人员类别须为 {'、'.join(PERSON_KINDS)} 之一")
        elif kind != current.kind:
            changes["kind"] = kind
    if unit_id is not None and current.person_id is not None:
        if db.execute("SELECT 1 FROM units WHERE id = ?", [unit_id]).fetchone() is None:
            found.add("unit", "单位不存在")
        elif unit_id != current.unit_id:
            changes["unit_id"] = unit_id
    found.check()
    if not changes:
        raise ValidationError("没有需要更正的内容")
    said = []
    units = dict(db.execute("SELECT id, name FROM units").fetchall())
    with write(db):
        if "name" in changes:
            db.execute("UPDATE users SET display_name = ? WHERE id = ?", [changes["name"], user_id])
            said.append(f"姓名 {current.name} → {changes['name']}")
        if current.person_id is not None:
            columns = {k: v for k, v in changes.items() if k in ("name", "phone", "kind", "unit_id")}
            if columns:
                db.table("people").update(current.person_id, columns)
        if "phone" in changes:
            said.append(f"手机号 {current.phone_masked or '无'} → {mask(str(changes['phone'])) or '无'}")
        if "kind" in changes:
            said.append(f"人员类别 {current.kind} → {changes['kind']}")
        if "unit_id" in changes:
            said.append(f"单位 {units.get(current.unit_id, '无')} → {units.get(changes['unit_id'], '')}")
        audit.record(
            db,
            actor.id,
            "personal_data.correct",
            f"{current.username}：{'；'.join(said)}；原因：{reason}"[:1000],
        )
    return details(db, user_id)
