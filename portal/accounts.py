"""Accounts, roles and passwords.

Roles: 师生 (visitor), 干部 (cadre), 部门 (department, with the department's name) and
管理员 (admin). A person may hold several. Roles always come from our database: the
``user_roles`` table, plus 干部 for anyone holding a cadre post today.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from pydantic import BaseModel
from sqlite_utils import Database

from . import audit, config, dates, text
from .db import inserted_id, kept_setting, write
from .errors import AuthError, NotFound, Problem, Problems, ValidationError
from .passwords import check_password_strength, generate_password
from .policy import policy

ROLE_LABELS = {"visitor": "师生", "cadre": "干部", "department": "部门", "admin": "管理员"}
ROLE_BY_LABEL = {v: k for k, v in ROLE_LABELS.items()}
LOGIN_FAILED = "账号或密码错误"
LOCKED = "登录失败次数过多，请 {minutes} 分钟后再试"
BUSY = "登录人数较多，请稍后再试"
SSO_ONLY = "本平台已改用统一身份认证登录，请点击“统一身份认证登录”"

# OWASP's argon2id minimum (m=19 MiB, t=2, p=1): the library's default takes 64 MiB per check,
# which let 40 parallel logins grow the server by 1.8 GB. Older hashes are upgraded on login.
HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
_hasher = HASHER


class VerificationSlots:
    """At most ``size`` password hashes are computed at once in this process (each holds
    19 MiB and a core); an attempt that cannot get a slot within ``LOGIN_WAIT_SECONDS``
    is told to try again and is not counted as a failed guess."""

    def __init__(self, size: int) -> None:
        self._slots = threading.BoundedSemaphore(max(1, size))

    @contextmanager
    def __call__(self) -> Iterator[None]:
        if not self._slots.acquire(timeout=config.settings().login_wait):
            raise AuthError(BUSY)
        try:
            yield
        finally:
            self._slots.release()


_slots: VerificationSlots | None = None


def _verification_slot() -> contextlib.AbstractContextManager[None]:
    """The process's slots, made at first use (the settings are checked by then)."""
    global _slots
    if _slots is None:
        _slots = VerificationSlots(config.settings().login_concurrency)
    return _slots()


class Role(BaseModel):
    role: str
    department: str = ""

    @property
    def label(self) -> str:
        base = ROLE_LABELS.get(self.role, self.role)
        return f"{base}（{self.department}）" if self.department else base


class User(BaseModel):
    id: int
    username: str
    display_name: str
    person_id: int | None = None
    staff_no: str | None = None
    is_active: bool = True
    roles: list[Role] = []
    cadre_levels: list[str] = []  # levels (校级, 正处, 副处) of the posts held today
    must_change_password: bool = False  # an initial or reset password: changed before anything else

    def has(self, *roles: str) -> bool:
        return any(r.role in roles for r in self.roles)

    @property
    def departments(self) -> list[str]:
        return [r.department for r in self.roles if r.role == "department"]


# --- passwords -----------------------------------------------------------------------------


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def demo_passwords_in_use(db: Database) -> bool:
    """Whether an active account still has the demo's published password (``portal demo`` flags its
    accounts; changing or resetting the password clears the flag): one indexed lookup."""
    return (
        db.execute("SELECT 1 FROM users WHERE demo_password = 1 AND is_active = 1 LIMIT 1").fetchone()
        is not None
    )


# --- reading -------------------------------------------------------------------------------


def _levels_today(db: Database, person_id: int | None) -> list[str]:
    if person_id is None:
        return []
    today = dates.today().isoformat()
    return sorted(
        r[0]
        for r in db.execute(
            "SELECT DISTINCT level FROM cadre_posts WHERE person_id = ? AND start_date <= ? "
            "AND (end_date IS NULL OR end_date >= ?)",
            [person_id, today, today],
        )
    )


def _roles_of(db: Database, user_id: int, levels: list[str]) -> list[Role]:
    roles = [
        Role(role=r, department=d)
        for r, d in db.execute(
            "SELECT role, department FROM user_roles WHERE user_id = ? ORDER BY role, department", [user_id]
        ).fetchall()
    ]
    if levels and not any(r.role == "cadre" for r in roles):
        roles.append(Role(role="cadre"))  # holding a post today makes a cadre
    return roles


def _user_from_row(db: Database, row: dict) -> User:
    levels = _levels_today(db, row["person_id"])
    return User(
        id=row["id"],
        username=row["username"],
        display_name=row["display_name"],
        person_id=row["person_id"],
        staff_no=row.get("staff_no"),
        is_active=bool(row["is_active"]),
        roles=_roles_of(db, row["id"], levels),
        cadre_levels=levels,
        must_change_password=bool(row.get("must_change_password")),
    )


_USER_SQL = (
    "SELECT u.id, u.username, u.display_name, u.person_id, u.is_active, u.password_hash, "
    "u.must_change_password, p.staff_no FROM users u LEFT JOIN people p ON p.id = u.person_id "
)


def get_user(db: Database, user_id: int) -> User:
    rows = list(db.query(_USER_SQL + "WHERE u.id = ?", [user_id]))
    if not rows:
        raise NotFound("账号不存在")
    return _user_from_row(db, rows[0])


def find_user(db: Database, username: str) -> User | None:
    rows = list(db.query(_USER_SQL + "WHERE u.username = ?", [username.strip()]))
    return _user_from_row(db, rows[0]) if rows else None


def page_users(
    db: Database, search: str = "", *, offset: int = 0, limit: int = 100
) -> tuple[int, list[User]]:
    """(how many accounts match, one page of them by username): four queries whatever the page size —
    the page's roles and today's post levels are read together, not one query per user."""
    like = f"%{search.strip()}%"
    where = "WHERE u.username LIKE ? OR u.display_name LIKE ?"
    total = db.execute(f"SELECT count(*) FROM users u {where}", [like, like]).fetchone()[0]
    rows = list(
        db.query(_USER_SQL + where + " ORDER BY u.username LIMIT ? OFFSET ?", [like, like, limit, offset])
    )
    ids = [r["id"] for r in rows]
    roles: dict[int, list[Role]] = {i: [] for i in ids}
    levels: dict[int, set[str]] = {}
    if ids:
        marks = ",".join("?" * len(ids))
        for uid, role, dept in db.execute(
            f"SELECT user_id, role, department FROM user_roles WHERE user_id IN ({marks}) "
            "ORDER BY user_id, role, department",
            ids,
        ):
            roles[uid].append(Role(role=role, department=dept))
        today = dates.today().isoformat()
        for uid, level in db.execute(
            f"SELECT u.id, c.level FROM users u JOIN cadre_posts c ON c.person_id = u.person_id "
            f"WHERE u.id IN ({marks}) AND c.start_date <= ? AND (c.end_date IS NULL OR c.end_date >= ?)",
            [*ids, today, today],
        ):
            levels.setdefault(uid, set()).add(level)
    users = []
    for r in rows:
        held = sorted(levels.get(r["id"], ()))
        mine = roles[r["id"]]
        if held and not any(x.role == "cadre" for x in mine):
            mine.append(Role(role="cadre"))  # holding a post today makes a cadre (as _roles_of)
        users.append(
            User(
                id=r["id"],
                username=r["username"],
                display_name=r["display_name"],
                person_id=r["person_id"],
                staff_no=r.get("staff_no"),
                is_active=bool(r["is_active"]),
                roles=mine,
                cadre_levels=held,
            )
        )
    return total, users


# --- writing -------------------------------------------------------------------------------


def _validate_roles(roles: list[Role]) -> None:
    for r in roles:
        if r.role not in ROLE_LABELS:
            raise ValidationError(f"未知角色：{r.role}")
        if r.role == "department":
            if r.department not in policy().departments:
                raise ValidationError(
                    f"部门角色须指定责任部门（{'、'.join(policy().departments)}），而不是“{r.department}”"
                )
        elif r.department:
            raise ValidationError(f"角色“{ROLE_LABELS[r.role]}”不带部门")


def create_user(
    db: Database,
    username: str,
    display_name: str | None,
    password: str | None = None,
    roles: list[Role] | None = None,
    person_id: int | None = None,
    actor_id: int | None = None,
    must_change: bool | None = None,
) -> User:
    """A new account. Without ``person_id`` it is linked to the person whose 工号 is the account
    name, if there is one; ``display_name`` None takes that person's name (else the account name).

    ``must_change``: the password is an initial one, to be changed at the first login; by default
    when an administrator (``actor_id``) set it for someone else. The command line says so itself."""
    if must_change is None:
        must_change = password is not None and actor_id is not None
    found = Problems()  # every problem of the form at once, each under its field
    with found.field("username"):
        username = text.code(username, "账号", 64)
    person = None
    if not found.found:
        person = db.execute("SELECT id, name FROM people WHERE staff_no = ?", [username]).fetchone()
        if db.execute("SELECT 1 FROM users WHERE username = ?", [username]).fetchone():
            found.add("username", f"账号“{username}”已存在")
    if person_id is None and person is not None:
        person_id = person[0]
    if display_name is None:
        display_name = person[1] if person is not None else str(username)
    with found.field("display_name"):
        display_name = text.name(display_name, "姓名")
    roles = roles or []
    with found.field("roles"):
        _validate_roles(roles)
    if password is not None:
        with found.field("password"):
            check_password_strength(password)
    found.check()
    with write(db):
        if db.execute("SELECT 1 FROM users WHERE username = ?", [username]).fetchone():
            raise ValidationError(problems=[Problem("username", f"账号“{username}”已存在")])  # meanwhile
        cur = db.execute(
            "INSERT INTO users (username, person_id, display_name, password_hash, created_at, "
            "must_change_password) VALUES (?, ?, ?, ?, ?, ?)",
            [
                username,
                person_id,
                display_name,
                hash_password(password) if password else None,
                dates.stamp(),
                int(bool(must_change and password is not None)),
            ],
        )
        user_id = inserted_id(cur)
        for r in roles:
            db.execute(
                "INSERT OR IGNORE INTO user_roles (user_id, role, department) VALUES (?, ?, ?)",
                [user_id, r.role, r.department],
            )
        audit.record(db, actor_id, "user.create", f"{username} {[r.label for r in roles]}")
    return get_user(db, user_id)


def set_roles(db: Database, user_id: int, roles: list[Role], actor_id: int | None = None) -> User:
    _validate_roles(roles)
    with write(db):
        get_user(db, user_id)
        db.execute("DELETE FROM user_roles WHERE user_id = ?", [user_id])
        for r in roles:
            db.execute(
                "INSERT OR IGNORE INTO user_roles (user_id, role, department) VALUES (?, ?, ?)",
                [user_id, r.role, r.department],
            )
        audit.record(db, actor_id, "user.roles", f"{user_id} {[r.label for r in roles]}")
    return get_user(db, user_id)


def set_active(db: Database, user_id: int, active: bool, actor_id: int | None = None) -> None:
    with write(db):
        # since when: the retention rule anonymises an account disabled long enough (portal/retention.py)
        db.execute(
            "UPDATE users SET is_active = ?, disabled_at = CASE WHEN ? THEN NULL "
            "ELSE COALESCE(disabled_at, ?) END WHERE id = ?",
            [int(active), int(active), dates.stamp(), user_id],
        )
        ended = 0
        if not active:
            ended = db.execute(
                "UPDATE sessions SET ended_at = ?, ended_reason = 'disabled' WHERE user_id = ? AND ended_at IS NULL",
                [dates.stamp(), user_id],
            ).rowcount
        audit.record(db, actor_id, "user.active" if active else "user.disable", f"{user_id}{_ended(ended)}")


def reset_password(
    db: Database, username: str, password: str | None = None, actor_id: int | None = None
) -> str:
    """Set a new password (generated when none is given), unlock the account, end its sessions and
    replace its calendar-feed addresses."""
    user = find_user(db, username)
    if user is None:
        raise NotFound(f"账号“{username}”不存在")
    password = password or generate_password()
    check_password_strength(password)
    with write(db):
        db.execute(
            "UPDATE users SET password_hash = ?, must_change_password = 1, demo_password = 0 WHERE id = ?",
            [hash_password(password), user.id],
        )
        _clear_attempts(db, user.username, everywhere=True)  # the administrator unlocks
        _new_feed_addresses(db, user.id)
        ended = db.execute(
            "UPDATE sessions SET ended_at = ?, ended_reason = 'password_reset' "
            "WHERE user_id = ? AND ended_at IS NULL",
            [dates.stamp(), user.id],
        ).rowcount
        audit.record(db, actor_id, "user.reset_password", f"{user.username}{_ended(ended)}")
    return password


def change_password(db: Database, user_id: int, old: str, new: str, keep_session: str | None = None) -> None:
    """Change one's own password; every other session of the account ends (a stolen session
    or a forgotten login elsewhere does not outlive the change), ``keep_session`` stays."""
    row = db.execute("SELECT password_hash, username FROM users WHERE id = ?", [user_id]).fetchone()
    if not row or not row[0]:
        raise ValidationError("原密码不正确")
    check_password_strength(new)
    if new == old:
        raise ValidationError("新密码不能与原密码相同")
    with _verification_slot():
        # the old password is a guess like a login's: counted first, under the same lockout
        locks = _take_attempt(db, row[1], dates.now())
        ok = _verify(row[0], old)
        new_hash = hash_password(new) if ok else None
    if not ok:
        if locks:
            raise AuthError(LOCKED.format(minutes=config.settings().lockout_seconds // 60))
        raise ValidationError("原密码不正确")
    with write(db):
        _clear_attempts(db, row[1], everywhere=False)
        db.execute(
            "UPDATE users SET password_hash = ?, must_change_password = 0, demo_password = 0 WHERE id = ?",
            [new_hash, user_id],
        )
        ended = db.execute(
            "UPDATE sessions SET ended_at = ?, ended_reason = 'password_changed' "
            "WHERE user_id = ? AND ended_at IS NULL AND id IS NOT ?",
            [dates.stamp(), user_id, keep_session],
        ).rowcount
        audit.record(db, user_id, "user.change_password", _ended(ended).removeprefix("；"))


def _new_feed_addresses(db: Database, user_id: int) -> None:
    """The account's calendar-feed addresses stop working (as ``portal.feeds.reset``, which imports
    this module): a password reset means the account was, or may have been, in other hands, and whoever
    held it could copy the addresses from 我的账号; the owner subscribes again with the new ones."""
    db.execute(
        "INSERT INTO feed_keys (user_id, generation) VALUES (?, 2) "
        "ON CONFLICT(user_id) DO UPDATE SET generation = generation + 1, token_hash = NULL",
        [user_id],
    )


def _ended(sessions: int) -> str:
    """How many of the account's sessions an action ended, for its audit entry."""
    return f"；结束登录 {sessions} 个" if sessions else ""


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


# Verifying against this when the account is unknown keeps the timing the same.
_DUMMY_HASH = _hasher.hash("not-a-real-password-0")


def use_hasher(hasher: PasswordHasher) -> PasswordHasher:
    """Hash, verify and judge stored hashes with ``hasher`` from now on; returns the one it replaces.

    The product never calls it: the tests do (tests/conftest.py), with argon2id at tiny parameters,
    so that a thousand logins do not each spend 19 MiB and tens of milliseconds. A stored hash
    carries its own parameters, so hashes made by either hasher verify under both."""
    global _hasher, _DUMMY_HASH
    previous, _hasher = _hasher, hasher
    _DUMMY_HASH = hasher.hash("not-a-real-password-0")
    return previous


def _take_attempt(db: Database, username: str, now: dt.datetime) -> bool:
    """Count this attempt as a failure *before* the password is checked, atomically.

    Two counts: of the name from this client address (``PORTAL_LOCKOUT_THRESHOLD`` locks the name for
    this address) and of the name from every address (``PORTAL_LOCKOUT_NAME_THRESHOLD`` locks it
    everywhere: guessing spread over many addresses). So nobody can lock an account for its owner
    from an address of his own with a few wrong passwords, and guessing stays bounded however many
    addresses guess. Returns True when this attempt locks the name (here or everywhere). Raises
    ``AuthError`` when the name is locked already. Taken inside one ``BEGIN IMMEDIATE`` transaction:
    any number of parallel guesses check at most the threshold's number of passwords; a success
    clears the counts of its own address and of the name (``_clear_attempts``).
    """
    address = audit.current_address()
    settings = config.settings()
    until = (now + dt.timedelta(seconds=settings.lockout_seconds)).isoformat(timespec="seconds")
    # (table, its key's columns, the key, the threshold that locks)
    counts: tuple[tuple[str, tuple[str, ...], list[str], int], ...] = (
        ("login_attempts", ("username",), [username], settings.lockout_name_threshold),
        (
            "login_attempts_by_address",
            ("username", "address"),
            [username, address],
            settings.lockout_threshold,
        ),
    )
    with write(db, housekeeping=True):  # login bookkeeping: no cached page shows it
        taken = []
        for table, columns, key, _ in counts:
            where = " AND ".join(f"{c} = ?" for c in columns)
            attempt = db.execute(f"SELECT failures, locked_until FROM {table} WHERE {where}", key).fetchone()
            failures = attempt[0] if attempt else 0
            if attempt and attempt[1]:
                locked_until = dt.datetime.fromisoformat(attempt[1])
                if locked_until > now:
                    minutes = max(1, int((locked_until - now).total_seconds() // 60) + 1)
                    raise AuthError(LOCKED.format(minutes=minutes))
                failures = 0  # the lock has run out: a fresh count
            taken.append(failures + 1)
        locks = False
        for (table, columns, key, threshold), failures in zip(counts, taken, strict=True):
            locked = failures >= threshold
            locks = locks or locked
            named = ", ".join(columns)
            db.execute(
                f"INSERT INTO {table} ({named}, failures, locked_until, last_at) "
                f"VALUES ({', '.join('?' * len(key))}, ?, ?, ?) "
                f"ON CONFLICT({named}) DO UPDATE SET failures = excluded.failures, "
                "locked_until = excluded.locked_until, last_at = excluded.last_at",
                [*key, failures, until if locked else None, now.isoformat(timespec="seconds")],
            )
    return locks


def _clear_attempts(db: Database, username: str, *, everywhere: bool) -> None:
    """A right password: the name's count and this address's go (another address's lock stays: it
    may be someone else's guessing). ``everywhere``: an administrator's reset, or the account retired."""
    db.execute("DELETE FROM login_attempts WHERE username = ?", [username])
    if everywhere:
        db.execute("DELETE FROM login_attempts_by_address WHERE username = ?", [username])
    else:
        db.execute(
            "DELETE FROM login_attempts_by_address WHERE username = ? AND address = ?",
            [username, audit.current_address()],
        )


ATTEMPTS_KEEP_DAYS = 30  # a failed-login count outlives its lockout by far: kept a month for review


def purge_attempts(db: Database, cutoff: dt.date, now: dt.datetime) -> int:
    """Delete the failed-login counts (of a name, and of a name from one address) whose last attempt
    was before ``cutoff`` (none noted: from before the upgrade), unless a lock of theirs is still in
    force; returns how many names' counts went."""
    counted = [
        db.execute(
            f"DELETE FROM {table} WHERE (last_at IS NULL OR last_at < ?) "
            "AND (locked_until IS NULL OR locked_until < ?)",
            [cutoff.isoformat(), now.isoformat(timespec="seconds")],
        ).rowcount
        for table in ("login_attempts", "login_attempts_by_address")
    ]
    return counted[0]  # names: each name's counts per address go with it


def unknown_name(db: Database, typed: str) -> str:
    """How the audit log names a login name that is no account: its first character and a short keyed
    digest (``H…（未知账号 #3f9c2a）``). Such a name is often the password typed into the 账号 box;
    the log is append-only, kept half a year and copied to syslog, so the text typed never goes there —
    the digest still shows the same wrong name coming back."""
    key = kept_setting(db, "audit_name_key", lambda: secrets.token_urlsafe(32)).encode()
    digest = hmac.new(
        key, b"login-name\0" + typed.encode("utf-8", "surrogatepass"), hashlib.sha256
    ).hexdigest()
    shown = typed[:1] if typed[:1].isprintable() else "?"
    return f"{shown}…（未知账号 #{digest[:6]}）"


def authenticate(db: Database, username: str, password: str, *, password_login: bool = True) -> User:
    """The user, or ``AuthError`` with one message for a wrong name and a wrong password.

    After ``LOCKOUT_THRESHOLD`` failures in a row the name is locked for
    ``LOCKOUT_SECONDS`` — names that do not exist lock the same way. With ``password_login``
    off (``PORTAL_PASSWORD_LOGIN=0``) only administrators may log in with a password. Every
    attempt is audited (``login.password``) with its outcome and, when it failed, why.
    """
    username = (username or "").strip()
    if not username or not password:
        raise AuthError("请输入账号和密码")
    with _verification_slot():
        locks = _take_attempt(db, username, dates.now())
        row = db.execute(
            "SELECT id, password_hash, is_active FROM users WHERE username = ?", [username]
        ).fetchone()
        ok = _verify(row[1], password) if row and row[1] else _verify(_DUMMY_HASH, password) and False
        right = bool(ok)
        ok = bool(ok and row[2])
        new_hash = hash_password(password) if ok and _hasher.check_needs_rehash(row[1]) else None
    typed = "".join(ch if ch.isprintable() else "?" for ch in username)[:64]
    if not ok:
        if row is None:
            why = "账号不存在"
            typed = unknown_name(db, username)
        elif not row[1]:
            why = "账号没有本平台密码"
        elif right:
            why = "账号已停用"
        else:
            why = "密码错误"
        if locks:
            why += "；账号已锁定"
        audit.record(db, row[0] if row else None, "login.password", why, outcome="failed", actor=typed)
        if locks:
            raise AuthError(LOCKED.format(minutes=config.settings().lockout_seconds // 60))
        raise AuthError(LOGIN_FAILED)
    user = get_user(db, row[0])
    if not password_login and not user.has("admin"):
        audit.record(db, user.id, "login.password", "仅允许统一身份认证登录", outcome="refused")
        raise AuthError(SSO_ONLY)
    with write(db, housekeeping=True):  # login bookkeeping: no cached page shows it
        _clear_attempts(db, username, everywhere=False)
        db.execute("UPDATE users SET last_login_at = ? WHERE id = ?", [dates.stamp(), row[0]])
        if new_hash:
            db.execute("UPDATE users SET password_hash = ? WHERE id = ?", [new_hash, row[0]])
        audit.record(db, row[0], "login.password", "")
    return user
