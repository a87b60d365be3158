"""Accounts from the campus identity: who may log in when CAS or OIDC vouches for a person.

A person the identity provider vouches for logs in with the account whose name is the
工号/学号, or that is linked to the person with that 工号. A disabled account stays disabled
whatever the provider says. With no account, and only when an administrator has turned
auto-provisioning on, a 师生 account (no password) is created and linked to the person —
the person is created from the identity's 姓名 and 人员类别 when unknown. Cadres, posts and
departments still come from imports: provisioning only ever grants 师生.
"""

from __future__ import annotations

from sqlite_utils import Database

from . import accounts, audit, org, sso
from .accounts import Role, User
from .db import get_setting, set_setting, write
from .errors import AuthError, ValidationError

SETTING = "sso.auto_provision"
NO_ACCOUNT = "统一身份认证通过，但本平台没有与该工号对应的账号，请联系管理员开通"
DISABLED = "该账号已停用，请联系管理员"


def enabled(db: Database) -> bool:
    return get_setting(db, SETTING, "0") == "1"


def set_enabled(db: Database, on: bool, actor_id: int | None) -> None:
    with write(db):
        set_setting(db, SETTING, "1" if on else "0")
        audit.record(db, actor_id, "sso.auto_provision", "on" if on else "off")


def account_for(db: Database, identity: sso.Identity) -> User:
    """The active account of this identity, created when allowed; ``AuthError`` otherwise."""
    staff_no = identity.staff_no.strip()
    if not staff_no:
        raise AuthError("统一身份认证没有提供工号/学号，无法登录，请联系管理员")
    rows = db.execute(
        "SELECT u.id, u.is_active FROM users u LEFT JOIN people p ON p.id = u.person_id "
        "WHERE u.username = ? OR p.staff_no = ? ORDER BY u.username = ? DESC LIMIT 1",
        [staff_no, staff_no, staff_no],
    ).fetchone()
    if rows is not None:
        if not rows[1]:
            raise AuthError(DISABLED)
        return accounts.get_user(db, rows[0])
    if not enabled(db):
        raise AuthError(NO_ACCOUNT)
    try:
        with write(db):
            person = org.person_by_staff_no(db, staff_no)
            if person is None:
                person, _ = org.save_person(
                    db, staff_no, identity.name or staff_no, kind=sso.person_kind(identity.kind)
                )
            user = accounts.create_user(
                db, staff_no, person.name, roles=[Role(role="visitor")], person_id=person.id
            )
            audit.record(db, None, "user.provision", f"{staff_no} ({identity.source})")
    except ValidationError as exc:
        raise AuthError(f"无法根据统一身份认证信息开通账号：{exc.message}") from exc
    return user


def identity_only(db: Database, user_id: int) -> bool:
    """True for an account without a password of the portal's (it signs in by CAS or OIDC only)."""
    row = db.execute("SELECT password_hash IS NULL FROM users WHERE id = ?", [user_id]).fetchone()
    return bool(row and row[0])
