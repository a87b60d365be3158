"""Accounts from the campus identity: who may log in when CAS or OIDC vouches for a person.

A person the identity provider vouches for logs in with

1. the account an administrator linked to that identity by hand (``link``: 账号管理 or
   ``portal user link``), else
2. the account named exactly by the 工号/学号 (case matters: ``ADMIN`` is not ``admin``), or linked
   to the person with that 工号 — unless that account holds the 管理员 or 部门 role. Those
   accounts are local: an identity reaches them only through a link, so that an identity whose id
   happens to be ``admin``, ``dangban`` or a department account's name never opens them.

A disabled account stays disabled whatever the provider says. With no account, and only when an
administrator has turned auto-provisioning on, a 师生 account (no password) is created and linked
to the person — the person is created from the identity's 姓名 and 人员类别 when unknown, the
人员类别 mapped by the configured table (``sso.person_kind``: an unknown value is refused, never
guessed). Cadres, posts and departments still come from imports: provisioning only ever grants 师生.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from . import accounts, audit, dates, org, sessions, sso, text
from .accounts import Role, User
from .db import get_setting, set_setting, write
from .errors import AuthError, NotFound, ValidationError

SETTING = "sso.auto_provision"
NO_ACCOUNT = "统一身份认证通过，但本平台没有与该工号对应的账号，请联系管理员开通"
DISABLED = "该账号已停用，请联系管理员"
LINK_NEEDED = (
    "统一身份认证通过，但与该工号同名的是本平台的管理员或部门账号，须由管理员在“账号管理”中关联统一身份认证后"
    "才能这样登录。请联系管理员，或使用账号密码登录"
)
# Roles that make an account local: reached by single sign-on only through an explicit link.
LOCAL_ROLES = ("admin", "department")


@dataclass(frozen=True)
class Link:
    staff_no: str  # the identity's 工号/学号
    user_id: int
    username: str
    linked_at: str
    linked_by: str  # the administrator's account name ('' from the command line)


def enabled(db: Database) -> bool:
    return get_setting(db, SETTING, "0") == "1"


def set_enabled(db: Database, on: bool, actor_id: int | None) -> None:
    with write(db):
        set_setting(db, SETTING, "1" if on else "0")
        audit.record(db, actor_id, "sso.auto_provision", "on" if on else "off")


def _is_local(db: Database, user_id: int) -> bool:
    marks = ",".join("?" * len(LOCAL_ROLES))
    return (
        db.execute(
            f"SELECT 1 FROM user_roles WHERE user_id = ? AND role IN ({marks}) LIMIT 1",
            [user_id, *LOCAL_ROLES],
        ).fetchone()
        is not None
    )


def _active(db: Database, user_id: int) -> User:
    user = accounts.get_user(db, user_id)
    if not user.is_active:
        raise AuthError(DISABLED)
    return user


def account_for(db: Database, identity: sso.Identity) -> User:
    """The active account of this identity, created when allowed; ``AuthError`` otherwise."""
    staff_no = identity.staff_no.strip()
    if not staff_no:
        raise AuthError("统一身份认证没有提供工号/学号，无法登录，请联系管理员")
    linked = db.execute("SELECT user_id FROM sso_links WHERE staff_no = ?", [staff_no]).fetchone()
    if linked is not None:
        return _active(db, linked[0])
    row = db.execute(
        "SELECT u.id FROM users u LEFT JOIN people p ON p.id = u.person_id "
        "WHERE u.username = ? COLLATE BINARY OR p.staff_no = ? "
        "ORDER BY u.username = ? COLLATE BINARY DESC LIMIT 1",
        [staff_no, staff_no, staff_no],
    ).fetchone()
    if row is not None:
        if _is_local(db, row[0]):
            raise AuthError(LINK_NEEDED)
        return _active(db, row[0])
    alike = db.execute(
        "SELECT id, username FROM users WHERE username = ? COLLATE NOCASE", [staff_no]
    ).fetchone()
    if alike is not None:  # 'ADMIN' for 'admin': never the same account, and no new one of that name
        if _is_local(db, alike[0]):
            raise AuthError(LINK_NEEDED)
        raise AuthError(
            f"统一身份认证提供的工号“{staff_no}”与本平台账号“{alike[1]}”大小写不同，未登录。请联系管理员关联统一身份认证"
        )
    if not enabled(db):
        raise AuthError(NO_ACCOUNT)
    try:
        with write(db):
            person = org.person_by_staff_no(db, staff_no)
            if person is None:
                kind = sso.person_kind(identity.kinds)  # refused, not guessed, when unknown
                person, _ = org.save_person(db, staff_no, identity.name or staff_no, kind=kind)
            user = accounts.create_user(
                db, staff_no, person.name, roles=[Role(role="visitor")], person_id=person.id
            )
            audit.record(db, None, "user.provision", f"{staff_no} ({identity.source})")
    except ValidationError as exc:
        raise AuthError(f"无法根据统一身份认证信息开通账号：{exc.message}") from exc
    return user


def link(db: Database, username: str, staff_no: str, actor_id: int | None = None) -> Link:
    """Let the campus identity ``staff_no`` log into the account ``username`` (audited). The only way
    an administrator's or a department's account is reached by single sign-on."""
    staff_no = text.code(staff_no, "统一身份认证账号（工号/学号）", 64)
    user = accounts.find_user(db, username)
    if user is None:
        raise NotFound(f"账号“{username}”不存在")
    with write(db):
        taken = db.execute(
            "SELECT u.username FROM sso_links l JOIN users u ON u.id = l.user_id WHERE l.staff_no = ?",
            [staff_no],
        ).fetchone()
        if taken is not None:
            raise ValidationError(f"统一身份认证账号 {staff_no} 已关联到账号“{taken[0]}”，请先解除那个关联")
        db.execute(
            "INSERT INTO sso_links (staff_no, user_id, linked_by, linked_at) VALUES (?, ?, ?, ?)",
            [staff_no, user.id, actor_id, dates.stamp()],
        )
        audit.record(db, actor_id, "user.sso_link", f"{user.username} ← {staff_no}")
    return next(x for x in links(db, user.id) if x.staff_no == staff_no)


def unlink(db: Database, staff_no: str, actor_id: int | None = None) -> None:
    """Remove the link of ``staff_no`` (audited); its sessions end."""
    with write(db):
        row = db.execute(
            "SELECT l.user_id, u.username FROM sso_links l JOIN users u ON u.id = l.user_id WHERE l.staff_no = ?",
            [staff_no.strip()],
        ).fetchone()
        if row is None:
            raise NotFound(f"统一身份认证账号 {staff_no.strip()} 没有关联任何账号")
        db.execute("DELETE FROM sso_links WHERE staff_no = ?", [staff_no.strip()])
        # what the link opened ends with it (password sessions of the account stay)
        sessions.end_all(db, row[0], "unlinked", sso_only=True)
        audit.record(db, actor_id, "user.sso_unlink", f"{row[1]} ← {staff_no.strip()}")


def links(db: Database, user_id: int | None = None) -> list[Link]:
    """The links, of one account or all, by identity."""
    where, params = ("WHERE l.user_id = ?", [user_id]) if user_id is not None else ("", [])
    return [
        Link(staff_no=r[0], user_id=r[1], username=r[2], linked_at=r[3], linked_by=r[4] or "")
        for r in db.execute(
            "SELECT l.staff_no, l.user_id, u.username, l.linked_at, a.username FROM sso_links l "
            f"JOIN users u ON u.id = l.user_id LEFT JOIN users a ON a.id = l.linked_by {where} "
            "ORDER BY l.staff_no",
            params,
        )
    ]


def identity_only(db: Database, user_id: int) -> bool:
    """True for an account without a password of the portal's (it signs in by CAS or OIDC only)."""
    row = db.execute("SELECT password_hash IS NULL FROM users WHERE id = ?", [user_id]).fetchone()
    return bool(row and row[0])
