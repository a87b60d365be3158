"""Login sessions that survive a page reload.

A session row has a random id that only the server knows (Streamlit keeps it in the
server-side session state). The browser gets a separate random token in an HttpOnly
cookie, signed and time-stamped with the installation's secret (itsdangerous); only
its SHA-256 is stored. A cookie is checked twice: signature and age, then the row
(ended on logout, idle for too long, past its maximum age, account disabled).

The Streamlit login form cannot set an HttpOnly cookie itself, so it also issues a
one-time *claim* token; the page posts it to ``/auth/claim`` (``portal.server``),
which mints the cookie token and answers with ``Set-Cookie``.

A session opened by campus single sign-on carries an *identity key* (``sso_key``): the
hashed CAS ticket, or the OIDC subject and login time. A reload that sees the same identity
resumes that session instead of opening another, so its idle timeout applies; once that
session has ended, the same identity does not open a new one (a fresh login at the
provider does). CAS single logout ends the session of its ticket. Dead sessions are
purged now and then when sessions start (and by ``portal sessions purge``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
import threading

from itsdangerous import BadSignature, TimestampSigner
from sqlite_utils import Database

from . import audit, config, dates
from .accounts import User, get_user
from .db import kept_setting, open_db, write
from .errors import PortalError

log = logging.getLogger("portal")

CLAIM_SECONDS = 120
# A page view never writes: last-seen is noted in memory (at most once a minute per session)
# and written in one batch by a background thread, so a rush of page views does not queue
# behind the write lock, and a failed update never fails a page.
_TOUCH_EVERY = dt.timedelta(seconds=60)
FLUSH_EVERY_S = 30.0
_seen: dict[tuple[str, str], str] = {}  # (database file, session id) -> last seen
_seen_lock = threading.Lock()
_flusher: threading.Thread | None = None
_PURGE_EVERY = dt.timedelta(hours=1)
_last_purge: dt.datetime | None = None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def secret_key(db: Database) -> str:
    """``PORTAL_SECRET_KEY``, else a random key made once and kept in the database."""
    configured = config.settings().secret_key
    if configured is not None:
        return configured.get_secret_value()
    return kept_setting(db, "secret_key", lambda: secrets.token_urlsafe(48))


def start(db: Database, user_id: int, sso_key: str | None = None) -> tuple[str, str]:
    """A new session: returns (session id, one-time claim token)."""
    _purge_now_and_then(db)
    session_id, claim_token = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = dates.stamp()
    with write(db, housekeeping=True):
        db.execute(
            "INSERT INTO sessions (id, user_id, claim_hash, created_at, last_seen, sso_key) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [session_id, user_id, _digest(claim_token), now, now, sso_key],
        )
    return session_id, claim_token


def cas_key(ticket: str) -> str:
    """The identity key of a session opened with a CAS service ticket (single logout names it)."""
    return "cas:" + _digest(ticket)


def oidc_key(subject: str, issued_at: str) -> str:
    """The identity key of one OIDC login: the subject and the ID token's issue time."""
    return "oidc:" + _digest(f"{subject}|{issued_at}")


def for_identity(db: Database, user_id: int, sso_key: str) -> str | None:
    """The session of this single-sign-on identity: resumed when live, opened when new,
    None when it has ended (idle, too old, logged out) — then only a fresh login helps."""
    row = db.execute("SELECT id, user_id FROM sessions WHERE sso_key = ?", [sso_key]).fetchone()
    if row is None:
        return start(db, user_id, sso_key)[0]
    if row[1] != user_id:
        return None
    live = _live(db, "s.id", row[0])
    return live[0] if live else None


def known_identity(db: Database, sso_key: str) -> bool:
    """Whether a session was ever opened with this identity (a reload resumes it: no new login)."""
    return db.execute("SELECT 1 FROM sessions WHERE sso_key = ?", [sso_key]).fetchone() is not None


def open_with_cookie(db: Database, user_id: int, sso_key: str) -> tuple[str, str]:
    """A new session for a server route that sets the cookie itself (CAS): (session id, cookie value)."""
    session_id, claim_token = start(db, user_id, sso_key)
    value = claim(db, claim_token)
    assert value is not None  # just made
    return session_id, value


def opened_by(db: Database, session_id: str) -> str | None:
    """How a session was opened: ``cas``, ``oidc``, or None (password)."""
    row = db.execute("SELECT sso_key FROM sessions WHERE id = ?", [session_id]).fetchone()
    return row[0].split(":", 1)[0] if row and row[0] else None


def end_identity(db: Database, sso_key: str) -> bool:
    """Single logout: end the live session opened by this identity; False if there is none."""
    with write(db, housekeeping=True):
        cur = db.execute(
            "UPDATE sessions SET ended_at = ?, ended_reason = 'single_logout' WHERE sso_key = ? AND ended_at IS NULL",
            [dates.stamp(), sso_key],
        )
    return cur.rowcount > 0


def purge(db: Database) -> int:
    """Delete sessions that can never be live again; returns how many.

    Sessions opened by single sign-on are kept until past their maximum age (plus a day):
    while the row exists, the same identity cannot open a new session behind the idle timeout.
    """
    now, limits = dates.now(), config.settings()
    idle_before = (now - dt.timedelta(seconds=limits.session_idle)).isoformat(timespec="seconds")
    old_before = (now - dt.timedelta(seconds=limits.session_max_age + 86400)).isoformat(timespec="seconds")
    with write(db, housekeeping=True):
        cur = db.execute(
            "DELETE FROM sessions WHERE created_at < ? OR (sso_key IS NULL AND "
            "(ended_at IS NOT NULL OR last_seen < ?))",
            [old_before, idle_before],
        )
    return cur.rowcount


def _purge_now_and_then(db: Database) -> None:
    global _last_purge
    now = dates.now()
    if _last_purge is None or now - _last_purge > _PURGE_EVERY:
        _last_purge = now
        purge(db)


def _live(db: Database, where: str, value: str) -> tuple[str, User] | None:
    row = db.execute(
        "SELECT s.id, s.user_id, s.created_at, s.last_seen, s.ended_at, u.is_active "
        f"FROM sessions s JOIN users u ON u.id = s.user_id WHERE {where} = ?",
        [value],
    ).fetchone()
    if row is None or row[4] is not None or not row[5]:
        return None
    now = dates.now()
    key = (_db_file(db), row[0])
    with _seen_lock:
        noted = _seen.get(key)
    created = dt.datetime.fromisoformat(row[2])
    last_seen = max(dt.datetime.fromisoformat(row[3]), dt.datetime.fromisoformat(noted or row[3]))
    limits = config.settings()
    idle = (now - last_seen).total_seconds() > limits.session_idle
    too_old = (now - created).total_seconds() > limits.session_max_age
    if idle or too_old:
        return None  # over by its own timestamps: nothing needs writing to refuse it
    if now - last_seen > _TOUCH_EVERY:
        _note_seen(key, dates.stamp())
    return row[0], get_user(db, row[1])


def _db_file(db: Database) -> str:
    return db.execute("PRAGMA database_list").fetchone()[2]


def _note_seen(key: tuple[str, str], stamp: str) -> None:
    global _flusher
    with _seen_lock:
        _seen[key] = stamp
        if _flusher is None or not _flusher.is_alive():
            _flusher = threading.Thread(target=_flush_forever, name="portal-last-seen", daemon=True)
            _flusher.start()


def _flush_forever() -> None:
    while True:
        threading.Event().wait(FLUSH_EVERY_S)
        flush_last_seen()


def flush_last_seen() -> int:
    """Write the noted last-seen times, one transaction per database file; returns how many
    were written. A busy or failing database keeps them for the next round (never raises)."""
    with _seen_lock:
        batch = dict(_seen)
        _seen.clear()
    written = 0
    by_file: dict[str, list[tuple[str, str]]] = {}
    for (path, session_id), stamp in batch.items():
        by_file.setdefault(path, []).append((stamp, session_id))
    for path, rows in by_file.items():
        try:
            with open_db(path) as db, write(db, housekeeping=True):
                db.conn.executemany(
                    "UPDATE sessions SET last_seen = max(last_seen, ?) WHERE id = ? AND ended_at IS NULL",
                    rows,
                )
            written += len(rows)
        except (PortalError, OSError, Exception) as exc:  # noqa: BLE001 - never let this fail a page
            log.warning("last-seen update of %d sessions postponed: %s", len(rows), exc)
            with _seen_lock:
                for stamp, session_id in rows:
                    _seen.setdefault((path, session_id), stamp)
    return written


def resume(db: Database, session_id: str | None) -> User | None:
    """The user of a live session known by its id (from the server-side state), or None."""
    live = _live(db, "s.id", session_id) if session_id else None
    return live[1] if live else None


def resume_from_cookie(db: Database, cookie: str | None) -> tuple[str, User] | None:
    """(session id, user) for a valid signed cookie of a live session, or None."""
    if not cookie:
        return None
    try:
        token = (
            TimestampSigner(secret_key(db)).unsign(cookie, max_age=config.settings().session_max_age).decode()
        )
    except BadSignature:  # SignatureExpired is a BadSignature
        return None
    return _live(db, "s.token_hash", _digest(token))


def new_claim(db: Database, session_id: str) -> str:
    """A fresh one-time claim token for a live session (one opened without a claim, as by
    OIDC), so that its browser can get the cookie that downloads need."""
    # the issue time rides in the token (its digest is what is stored, so it cannot be altered)
    token = f"{int(dates.now().timestamp())}~{secrets.token_urlsafe(32)}"
    with write(db):
        db.execute(
            "UPDATE sessions SET claim_hash = ? WHERE id = ? AND ended_at IS NULL",
            [_digest(token), session_id],
        )
    return token


def claim(db: Database, claim_token: str | None) -> str | None:
    """Trade a fresh one-time claim token for a signed cookie value (once, within two minutes)."""
    if not claim_token:
        return None
    token = secrets.token_urlsafe(32)
    with write(db, housekeeping=True):
        row = db.execute(
            "SELECT id, created_at, ended_at FROM sessions WHERE claim_hash = ?", [_digest(claim_token)]
        ).fetchone()
        if row is None:
            return None
        issued = (
            dt.datetime.fromtimestamp(int(claim_token.split("~", 1)[0]), dates.now().tzinfo)
            if "~" in claim_token
            else dt.datetime.fromisoformat(row[1])
        )
        age = (dates.now() - issued).total_seconds()
        if row[2] is not None or age > CLAIM_SECONDS:
            db.execute("UPDATE sessions SET claim_hash = NULL WHERE id = ?", [row[0]])
            return None
        db.execute(
            "UPDATE sessions SET claim_hash = NULL, token_hash = ? WHERE id = ?", [_digest(token), row[0]]
        )
    return TimestampSigner(secret_key(db)).sign(token).decode()


def end(db: Database, session_id: str | None = None, cookie: str | None = None) -> None:
    """Log out: end the session known by id or by cookie (audited as ``logout``; another window of the
    session is then told 已在其他地方退出登录)."""
    if cookie and not session_id:
        live = resume_from_cookie(db, cookie)
        session_id = live[0] if live else None
    if not session_id:
        return
    with write(db, housekeeping=True):
        ended = db.execute(
            "UPDATE sessions SET ended_at = ?, ended_reason = 'logout' WHERE id = ? AND ended_at IS NULL",
            [dates.stamp(), session_id],
        ).rowcount
        if ended:
            user_id, key = db.execute(
                "SELECT user_id, sso_key FROM sessions WHERE id = ?", [session_id]
            ).fetchone()
            how = {"cas": "统一身份认证（CAS）登录", "oidc": "统一身份认证（OIDC）登录"}
            audit.record(db, user_id, "logout", how.get((key or "").split(":", 1)[0], "密码登录"))


# Why a session ended, as the login page says it (sessions.ended_reason; the two a session reaches by
# itself are worked out from its timestamps).
ENDED = {
    "logout": "您已在其他地方退出登录，请重新登录。",
    "password_changed": "密码已更改，请用新密码重新登录。",
    "password_reset": "管理员已重置您的密码，请用新密码登录。",
    "disabled": "账号已停用，请联系管理员。",
    "single_logout": "您已在统一身份认证退出（在其他系统中退出），请重新登录。",
    "unlinked": "统一身份认证关联已解除，请联系管理员。",
}


def _by_itself(reason: str) -> str:
    limits = config.settings()
    if reason == "idle":
        return f"会话已超时（{limits.session_idle // 60} 分钟无操作），请重新登录。"
    return f"登录已超过最长登录时间（{limits.session_max_age // 60} 分钟），请重新登录。"


def end_all(db: Database, user_id: int, reason: str, keep: str | None = None, sso_only: bool = False) -> int:
    """End every live session of an account (but ``keep``), for ``reason`` (a key of ``ENDED``); inside
    the caller's transaction. Returns how many ended."""
    if reason not in ENDED:
        raise ValueError(reason)
    return db.execute(
        "UPDATE sessions SET ended_at = ?, ended_reason = ? WHERE user_id = ? AND ended_at IS NULL "
        f"AND id IS NOT ?{' AND sso_key IS NOT NULL' if sso_only else ''}",
        [dates.stamp(), reason, user_id, keep],
    ).rowcount


def settle(db: Database, session_id: str) -> str | None:
    """Why a session that is no longer live ended: a key of ``ENDED``, ``idle`` or ``expired`` (None:
    still live, or unknown). A session that ended by itself — idle too long, past its maximum age —
    is marked ended here and audited (``session.end``), once."""
    row = db.execute(
        "SELECT s.user_id, s.created_at, s.last_seen, s.ended_at, s.ended_reason, u.is_active "
        "FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ?",
        [session_id],
    ).fetchone()
    if row is None:
        return None
    if row[3] is not None:
        return row[4] or "logout"
    if not row[5]:
        reason, detail = "disabled", "账号已停用"
    else:
        now, limits = dates.now(), config.settings()
        with _seen_lock:
            noted = _seen.get((_db_file(db), session_id))
        last_seen = max(dt.datetime.fromisoformat(row[2]), dt.datetime.fromisoformat(noted or row[2]))
        if (now - dt.datetime.fromisoformat(row[1])).total_seconds() > limits.session_max_age:
            reason, detail = "expired", f"超过最长登录时间（{limits.session_max_age // 60} 分钟）"
        elif (now - last_seen).total_seconds() > limits.session_idle:
            reason, detail = "idle", f"闲置超时（{limits.session_idle // 60} 分钟无操作）"
        else:
            return None
    with write(db, housekeeping=True):
        if db.execute(
            "UPDATE sessions SET ended_at = ?, ended_reason = ? WHERE id = ? AND ended_at IS NULL",
            [dates.stamp(), reason, session_id],
        ).rowcount:
            audit.record(db, row[0], "session.end", detail)
    return reason


def ended_notice(db: Database, session_id: str | None = None, cookie: str | None = None) -> str | None:
    """What the login page says about a session that has ended (known by id, or by the browser's
    cookie after a reload): 会话已超时, 已在其他地方退出登录, 密码已更改 … None: nothing to say."""
    if session_id is None and cookie:
        try:
            token = TimestampSigner(secret_key(db)).unsign(cookie).decode()
        except BadSignature:
            return None
        row = db.execute("SELECT id FROM sessions WHERE token_hash = ?", [_digest(token)]).fetchone()
        if row is None:  # purged long after it ended
            return _by_itself("expired")
        session_id = row[0]
    reason = settle(db, session_id) if session_id else None
    if reason is None:
        return None
    return ENDED.get(reason) or _by_itself(reason)


def username_for_cookie(db: Database, cookie: str | None) -> str:
    """The account name of a live session's cookie, for the request log ('' when none). Cheap and
    without side effects: it neither resumes the session nor notes it as seen."""
    if not cookie:
        return ""
    try:
        token = TimestampSigner(secret_key(db)).unsign(cookie, max_age=config.settings().session_max_age)
    except BadSignature:
        return ""
    row = db.execute(
        "SELECT u.username FROM sessions s JOIN users u ON u.id = s.user_id "
        "WHERE s.token_hash = ? AND s.ended_at IS NULL",
        [_digest(token.decode())],
    ).fetchone()
    return row[0] if row else ""
