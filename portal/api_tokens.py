"""API tokens for other campus systems: issued by an administrator with scopes and an expiry.

The token is shown once, when issued; only its SHA-256 is stored. A token can be revoked.
Every use is written to the audit log (``api.use``), and so is every refusal.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets

from pydantic import BaseModel
from sqlite_utils import Database

from . import audit, dates, text
from .db import inserted_id, write
from .errors import NotFound, ValidationError

SCOPES = {
    "roster": "接待日安排",
    "bookings": "某日的接待日预约",
    "quota": "干部和单位的任务完成情况",
    "cases": "各部门未办结的意见建议",
    "kpis": "意见建议办理指标（三率、回访率）",
}
PREFIX = "cpt_"
MAX_DAYS = 366 * 2


class ApiToken(BaseModel):
    id: int
    name: str
    scopes: list[str]
    created_at: str
    expires_at: str
    revoked_at: str | None = None
    last_used_at: str | None = None

    @property
    def state_label(self) -> str:
        if self.revoked_at:
            return "已撤销"
        if self.expires_at < dates.stamp():
            return "已过期"
        return "有效"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _token(row: dict) -> ApiToken:
    return ApiToken(**{**row, "scopes": json.loads(row["scopes"])})


def issue(
    db: Database, name: str, scopes: list[str], days: int, actor_id: int | None
) -> tuple[ApiToken, str]:
    """A new token: returns (its record, the token itself — shown this once)."""
    name = text.name(name, "用途", 60)
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        raise ValidationError(f"请至少选择一个权限范围（{'、'.join(SCOPES)}）")
    if not 1 <= int(days) <= MAX_DAYS:
        raise ValidationError(f"有效期须为 1 至 {MAX_DAYS} 天")
    token = PREFIX + secrets.token_urlsafe(32)
    now = dates.now()
    expires = (now + dt.timedelta(days=int(days))).isoformat(timespec="seconds")
    with write(db):
        cur = db.execute(
            "INSERT INTO api_tokens (name, token_hash, scopes, created_by, created_at, expires_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [name, _digest(token), json.dumps(sorted(set(scopes))), actor_id, dates.stamp(), expires],
        )
        audit.record(db, actor_id, "api.issue", f"#{inserted_id(cur)} {name} {sorted(set(scopes))} {days}d")
    return get(db, inserted_id(cur)), token


def get(db: Database, token_id: int) -> ApiToken:
    rows = list(db.query("SELECT * FROM api_tokens WHERE id = ?", [token_id]))
    if not rows:
        raise NotFound("令牌不存在")
    return _token(rows[0])


def list_tokens(db: Database) -> list[ApiToken]:
    return [_token(r) for r in db.query("SELECT * FROM api_tokens ORDER BY id DESC")]


def revoke(db: Database, token_id: int, actor_id: int | None) -> None:
    get(db, token_id)
    with write(db):
        db.execute(
            "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            [dates.stamp(), token_id],
        )
        audit.record(db, actor_id, "api.revoke", f"#{token_id}")


class Refused(Exception):
    """The token cannot be used: status 401 (unknown, expired, revoked) or 403 (outside its scope)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def check(db: Database, token: str, scope: str, what: str) -> ApiToken:
    """The token's record if it may read ``scope``; the use (or the refusal) is audited."""
    rows = list(db.query("SELECT * FROM api_tokens WHERE token_hash = ?", [_digest(token or "")]))
    found = _token(rows[0]) if rows else None
    if found is None:
        problem = Refused(401, "令牌无效")
    elif found.revoked_at:
        problem = Refused(401, "令牌已撤销")
    elif found.expires_at < dates.stamp():
        problem = Refused(401, "令牌已过期")
    elif scope not in found.scopes:
        problem = Refused(403, f"令牌无权读取“{SCOPES.get(scope, scope)}”")
    else:
        problem = None
    if problem is None:
        assert found is not None  # without a problem the token was found
        with write(db):
            db.execute("UPDATE api_tokens SET last_used_at = ? WHERE id = ?", [dates.stamp(), found.id])
            audit.record(db, None, "api.use", what[:500], actor=f"接口令牌 #{found.id} {found.name}"[:100])
        return found
    ident = f"接口令牌 #{found.id} {found.name}" if found else "未知令牌"
    with write(db):
        audit.record(
            db,
            None,
            "api.refused",
            f"{problem.message} {what}"[:500],
            outcome="refused",
            actor=ident[:100],
        )
    raise problem
