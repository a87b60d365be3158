"""账号 (docs/formats.md): accounts of staff and students, with their roles; new ones get a random
initial password, hashed before the write transaction and shown once."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from argon2 import PasswordHasher

from .. import accounts, audit, dates, org, passwords, text
from ..account_notices import NewAccount
from ..errors import RowError, ValidationError
from ..settings import PERSON_KINDS
from ..tabular import check_text, split_list
from .cells import duplicate_keys, unit_cell, validated
from .staging import Column, Importer, ids_by, json_list


def _opened(item: _AccountRow, password: str) -> NewAccount:
    roles = "、".join(r.label for r in item.roles if r.role != "cadre")
    return NewAccount(item.staff_no, item.name, password, roles)


@dataclass
class _AccountRow:
    row: int
    staff_no: str
    name: str
    roles: list[accounts.Role]
    unit_id: int | None
    kind: str | None
    phone: str | None
    password: str | None = None  # made and hashed before the write, for accounts to create
    password_hash: str | None = None


# Initial passwords are random (passwords.generate_password: 12 characters or more, ≥ 69 bits), so
# they need no memory-hard hash to resist guessing; a light argon2id keeps a 5,000-account import to seconds instead of an hour on a
# busy server. The first login rehashes with the full parameters (accounts.authenticate), and the
# user is told to change the password anyway.
_INITIAL_HASHER = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)


class AccountImporter(Importer):
    """Accounts for staff and students (docs/formats.md 账号)."""

    kind = "accounts"
    label = "账号"
    columns = [
        Column("工号", True, "工号或学号，即登录账号", "2023000001"),
        Column("姓名", True, "", "王小明"),
        Column("角色", True, "师生、干部、部门、管理员，以 ; 分隔", "师生"),
        Column("部门", False, "部门角色所属的责任部门", ""),
        Column("单位", False, "单位名称或单位编码", "计算机科学与技术学院"),
        Column("人员类别", False, "教职工、学生、离退休、其他", "学生"),
        Column("手机号", False, "", "13800000000"),
    ]

    def parse(self, db, sheet):
        items = []
        errors: list[RowError] = []
        units: dict = {}
        for row, v in sheet.rows:
            staff_no = validated(text.code, v.get("工号"), "工号", row, errors)
            name = validated(text.name, v.get("姓名"), "姓名", row, errors)
            dept = check_text(v.get("部门"), "部门", row, errors)
            roles = []
            for label in split_list(check_text(v.get("角色"), "角色", row, errors, required=True)):
                if label not in accounts.ROLE_BY_LABEL:
                    errors.append(RowError(row, "角色", f"未知角色“{label[:20]}”"))
                    continue
                role = accounts.ROLE_BY_LABEL[label]
                roles.append(accounts.Role(role=role, department=dept if role == "department" else ""))
            try:
                accounts._validate_roles(roles)
            except ValidationError as exc:
                errors.append(RowError(row, "部门", exc.message))
            unit_name = check_text(v.get("单位"), "单位", row, errors)
            unit = unit_cell(db, unit_name, "单位", row, errors, units) if unit_name else None
            kind = check_text(v.get("人员类别"), "人员类别", row, errors) or None
            if kind and kind not in PERSON_KINDS:
                errors.append(RowError(row, "人员类别", f"应为 {'、'.join(PERSON_KINDS)} 之一"))
            phone = validated(text.phone, v.get("手机号"), "手机号", row, errors, False) or None
            items.append(_AccountRow(row, staff_no, name, roles, unit.id if unit else None, kind, phone))
        duplicate_keys([(i.row, (i.staff_no,)) for i in items], errors, "工号")
        return items, errors, []

    def _state(self, db, item) -> str:
        user = accounts.find_user(db, item.staff_no)
        if user is None:
            return "created"
        current = db.execute(
            "SELECT role, department FROM user_roles WHERE user_id = ? ORDER BY 1, 2", [user.id]
        ).fetchall()
        wanted = sorted({(r.role, r.department) for r in item.roles if r.role != "cadre"})
        person = org.person_by_staff_no(db, item.staff_no)
        same = [tuple(r) for r in current] == wanted and person is not None and user.person_id == person.id
        return "unchanged" if same else "updated"

    def preview(self, db, items):
        return Counter(self._state(db, item) for item in items)

    @staticmethod
    def _bulk_create(db, items, report, actor_id) -> list:
        """People and accounts entirely new to the portal, in a few statements (a 5,000-row file in a
        fraction of a second of lock; every value was validated while preparing); returns the rest,
        which go through the services one by one."""
        known_people = {
            r[0]
            for r in db.execute(
                "SELECT staff_no FROM people WHERE staff_no IN (SELECT value FROM json_each(?))",
                [json_list(i.staff_no for i in items)],
            )
        }
        known_users = {
            r[0].lower()
            for r in db.execute(
                "SELECT username FROM users WHERE username IN (SELECT value FROM json_each(?)) COLLATE NOCASE",
                [json_list(i.staff_no for i in items)],
            )
        }
        fresh = [
            i
            for i in items
            if i.staff_no not in known_people and i.staff_no.lower() not in known_users and i.password_hash
        ]
        if not fresh:
            return items
        now = dates.stamp()
        db.conn.executemany(
            "INSERT INTO people (staff_no, name, unit_id, phone, kind, cpc_member) VALUES (?, ?, ?, ?, ?, 0)",
            ((i.staff_no, i.name, i.unit_id, i.phone or "", i.kind or "教职工") for i in fresh),
        )
        people = ids_by(db, "people", "staff_no", (i.staff_no for i in fresh))
        db.conn.executemany(
            "INSERT INTO users (username, person_id, display_name, password_hash, created_at, must_change_password) "
            "VALUES (?, ?, ?, ?, ?, 1)",
            ((i.staff_no, people[i.staff_no], i.name, i.password_hash, now) for i in fresh),
        )
        users = ids_by(db, "users", "username", (i.staff_no for i in fresh))
        db.conn.executemany(
            "INSERT OR IGNORE INTO user_roles (user_id, role, department) VALUES (?, ?, ?)",
            ((users[i.staff_no], r.role, r.department) for i in fresh for r in i.roles if r.role != "cadre"),
        )
        audit.record_many(
            db,
            actor_id,
            "user.create",
            (f"{i.staff_no} {[r.label for r in i.roles if r.role != 'cadre']}" for i in fresh),
        )
        report.opened.extend(_opened(i, i.password) for i in fresh)
        report.counts["created"] += len(fresh)
        done = {i.staff_no for i in fresh}
        return [i for i in items if i.staff_no not in done]

    def before_write(self, db, items):
        # argon2 takes tens of milliseconds per password: never inside the write transaction
        existing = {r[0].lower() for r in db.execute("SELECT username FROM users")}
        for item in items:
            if item.password_hash is None and item.staff_no.lower() not in existing:
                item.password = passwords.generate_password()
                item.password_hash = _INITIAL_HASHER.hash(item.password)

    def apply(self, db, items, report, actor_id, staged=None):
        items = self._bulk_create(db, items, report, actor_id)
        for item in items:
            person, _ = org.save_person(
                db, item.staff_no, item.name, unit_id=item.unit_id, phone=item.phone, kind=item.kind
            )
            user = accounts.find_user(db, item.staff_no)
            explicit = [r for r in item.roles if r.role != "cadre"]
            if user is None:
                # created without a password, then given the one hashed before the transaction
                made = accounts.create_user(db, item.staff_no, item.name, None, explicit, person.id, actor_id)
                password_hash = item.password_hash
                password = item.password
                if password_hash is None:  # created by someone else since the preview: hash here
                    password = passwords.generate_password()
                    password_hash = accounts.hash_password(password)
                db.execute(
                    "UPDATE users SET password_hash = ?, must_change_password = 1 WHERE id = ?",
                    [password_hash, made.id],
                )
                report.opened.append(_opened(item, password))
                report.counts["created"] += 1
                continue
            state = self._state(db, item)
            if state == "unchanged":
                report.counts["unchanged"] += 1
                continue
            accounts.set_roles(db, user.id, explicit, actor_id)
            db.execute("UPDATE users SET person_id = ? WHERE id = ?", [person.id, user.id])
            report.counts["updated"] += 1
        if report.opened:
            report.notes.append(
                f"新建账号 {len(report.opened)} 个：请下载账号清单和账号开通通知（只能下载一次），转交本人并提醒首次登录后修改密码。"
            )
