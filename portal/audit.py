"""The audit log (等保2.0 安全审计): who did what, when, from where, and with what outcome.

* **Writing** — ``record(db, actor_id, action, detail, outcome=…)`` inside the service's
  transaction. The client's address comes from the request being served (``portal serve`` sets it
  per connection, pages per rerun: ``at_address``); the command line's entries name the system user.
  Each entry is also logged (logger ``portal.audit``, after the commit), so a copy leaves the
  server with the logs (journald, syslog).
* **Append-only and tamper-evident** — each entry carries the hash of its content and of the entry
  before (``portal.chain``); SQLite triggers refuse UPDATE and DELETE (migration
  ``m021_audit_chain``). ``verify`` walks the chain and reports the first broken link.
* **Retention** — entries are kept at least 180 days (``PORTAL_AUDIT_KEEP_DAYS``, default 365);
  ``purge`` removes older ones from the start of the chain and keeps the last removed entry's hash
  as the anchor the remaining chain is verified from.
* **Reading** — filters, paging and the Chinese names of the actions (操作日志).
"""

from __future__ import annotations

import contextvars
import datetime as dt
import getpass
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlite_utils import Database

from . import config, dates, scrub
from .chain import COLUMNS, GENESIS, entry_hash
from .db import after_commit, write
from .errors import ValidationError

log = logging.getLogger("portal.audit")

MIN_KEEP_DAYS = 180  # the Cybersecurity Law keeps network logs at least six months
OUTCOMES = {"ok": "成功", "failed": "失败", "refused": "拒绝"}

# Where the request being served comes from, and who runs the command line.
_address: contextvars.ContextVar[str] = contextvars.ContextVar("portal_audit_address", default="")
_origin: contextvars.ContextVar[str] = contextvars.ContextVar("portal_audit_origin", default="")


def set_address(address: str) -> contextvars.Token[str]:
    """The client address of what this thread or task serves (``portal.server``, pages)."""
    return _address.set(address or "")


def reset_address(token: contextvars.Token[str]) -> None:
    _address.reset(token)


def current_address() -> str:
    return _address.get()


@contextmanager
def at_address(address: str) -> Iterator[None]:
    token = set_address(address)
    try:
        yield
    finally:
        reset_address(token)


def from_command_line() -> contextvars.Token[str]:
    """Entries written by this command without an account name the system user (``portal …``)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container)
        user = "?"
    return _origin.set(f"命令行（{user}）")


def end_command_line(token: contextvars.Token[str]) -> None:
    _origin.reset(token)


def record(
    db: Database,
    actor_id: int | None,
    action: str,
    detail: str = "",
    *,
    outcome: str = "ok",
    actor: str = "",
    address: str | None = None,
) -> None:
    """Append an entry, chained to the one before, in the caller's transaction (or its own).

    ``actor`` names who acted when there is no account (the name typed at a failed login, an API
    token); ``address`` defaults to the address of the request being served."""
    record_many(db, actor_id, action, [detail], outcome=outcome, actor=actor, address=address)


def record_many(
    db: Database,
    actor_id: int | None,
    action: str,
    details: Iterable[str],
    *,
    outcome: str = "ok",
    actor: str = "",
    address: str | None = None,
) -> None:
    """One entry per detail (an import's 5,000 new accounts), chained in order like ``record``'s,
    written with one statement."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown audit outcome {outcome!r}")
    at = dates.stamp()
    who = (actor or ("" if actor_id else _origin.get()))[:100]
    where = (current_address() if address is None else address)[:64]
    entries: list[tuple[tuple, str]] = []
    with write(db, housekeeping=True):  # inside the caller's transaction: a savepoint of it
        row = db.execute("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
        previous = row[0] if row else _anchor(db)[1]
        for detail in details:
            # a reason is free text: a telephone number typed into it is kept masked, as lists show it
            values = (at, actor_id, who, action, scrub.mask_phones(detail), where, outcome)
            previous = entry_hash(previous, values)
            entries.append((values, previous))
        db.conn.executemany(
            f"INSERT INTO audit_log ({', '.join(COLUMNS)}, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [[*values, digest] for values, digest in entries],
        )

    def logged() -> None:
        for values, digest in entries:
            fields = dict(zip(COLUMNS, values, strict=True))
            log.info("%s %s", action, outcome, extra={**_log_fields(fields), "hash": digest})

    after_commit(db, logged)


def _log_fields(fields: dict) -> dict:
    # "action" and "detail" are plain words in a log line; "at" is the line's own time
    return {
        "audit_action": fields["action"],
        "audit_detail": fields["detail"][:500],
        "user_id": fields["user_id"],
        "actor": fields["actor"],
        "address": fields["address"],
        "outcome": fields["outcome"],
    }


def _anchor(db: Database) -> tuple[int, str]:
    row = db.execute("SELECT anchor_id, anchor_hash FROM audit_anchor WHERE id = 1").fetchone()
    return (row[0], row[1]) if row else (0, GENESIS)


# --- verifying --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    entries: int  # entries checked
    broken_at: int | None  # the id of the first entry whose link is broken, or None
    reason: str  # why, in Chinese ('' when the chain is whole)
    head_id: int | None  # the last entry and its hash: note them elsewhere to anchor the chain
    head_hash: str
    anchor_id: int  # the last purged entry (0: none)

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify(db: Database) -> Verdict:
    """Walk the chain from the anchor; the first entry whose hash is not what its content and the
    entry before make is the first broken link (changed, or an entry before it removed or added)."""
    anchor_id, previous = _anchor(db)
    count, last_id = 0, None
    expected_id = anchor_id + 1
    cursor = db.execute(f"SELECT id, {', '.join(COLUMNS)}, hash FROM audit_log ORDER BY id")
    for row in cursor:
        count += 1
        entry_id, values, stored = row[0], row[1:-1], row[-1]
        if entry_hash(previous, values) != stored:
            if entry_id != expected_id:
                why = f"第 {expected_id}–{entry_id - 1} 条记录已不在日志中（被删除）"
            else:
                why = "此条记录与前一条的链接断开：此条被改动，或其前有记录被改动、删除或插入"
            return Verdict(count, entry_id, why, last_id, previous, anchor_id)
        previous, last_id, expected_id = stored, entry_id, entry_id + 1
    return Verdict(count, None, "", last_id, previous, anchor_id)


# --- retention ---------------------------------------------------------------------------------


def keep_days() -> int:
    return config.settings().audit_keep_days


def purge(db: Database, before: dt.date | None = None, actor_id: int | None = None) -> int:
    """Remove the entries older than ``before`` (default: the retention period,
    ``PORTAL_AUDIT_KEEP_DAYS``); refused for anything younger than 180 days. The last entry removed
    becomes the anchor the chain is verified from; the purge itself is audited."""
    today = dates.today()
    before = before or today - dt.timedelta(days=keep_days())
    if before > today - dt.timedelta(days=MIN_KEEP_DAYS):
        raise ValidationError(
            f"操作日志至少保留 {MIN_KEEP_DAYS} 天：只能清理 {today - dt.timedelta(days=MIN_KEEP_DAYS)} 之前的记录"
        )
    with write(db):
        row = db.execute(
            "SELECT id, hash FROM audit_log WHERE at < ? ORDER BY id DESC LIMIT 1", [before.isoformat()]
        ).fetchone()
        if row is None:
            return 0
        last_id, last_hash = row
        db.execute(
            "UPDATE audit_anchor SET anchor_id = ?, anchor_hash = ?, purged_at = ? WHERE id = 1",
            [last_id, last_hash, dates.stamp()],
        )
        removed = db.execute("DELETE FROM audit_log WHERE id <= ?", [last_id]).rowcount
        record(db, actor_id, "audit.purge", f"{before.isoformat()} 之前 {removed} 条，锚点 #{last_id}")
    return removed


PAGE_SIZE = 100

# Chinese names of the actions the services write (an unknown action shows as written).
ACTION_LABELS: dict[str, str] = {
    "user.create": "新建账号",
    "user.roles": "修改角色",
    "user.active": "启用账号",
    "user.disable": "停用账号",
    "user.reset_password": "重置密码",
    "user.change_password": "修改本人密码",
    "calendar.load": "导入节假日安排",
    "calendar.override": "设置学校工作日调整",
    "calendar.override_removed": "删除学校工作日调整",
    "reception.plan": "接待日排班",
    "reception.swap": "接待日对调",
    "reception.substitute": "接待日替班",
    "reception.cancel_day": "取消接待日",
    "reception.restore_day": "恢复接待日",
    "reception.place": "修改接待地点",
    "reception.duty": "调整接待日值班",
    "reception.cancel_booking": "取消预约",
    "reception.template": "修改接待日设置",
    "reception.lift_ban": "解除预约限制",
    "rules.load": "导入规则文件",
    "rules.withdraw": "撤回规则修订",
    "activity.void": "作废联系活动",
    "assignment.end": "结束联系关系",
    "user.provision": "统一身份认证自动开通账号",
    "user.sso_link": "关联统一身份认证",
    "user.sso_unlink": "解除统一身份认证关联",
    "sso.auto_provision": "设置自动开通师生账号",
    "sso.cas_login": "统一身份认证登录",
    "sso.cas_refused": "统一身份认证票据被拒",
    "sso.cas_single_logout": "统一身份认证单点退出",
    "api.issue": "签发接口令牌",
    "api.revoke": "撤销接口令牌",
    "api.use": "调用接口",
    "api.refused": "接口调用被拒",
    "feed.reset": "重置日历订阅地址",
    "login.password": "密码登录",
    "login.cas": "统一身份认证登录（CAS）",
    "login.oidc": "统一身份认证登录（OIDC）",
    "logout": "退出登录",
    "session.end": "登录结束",
    "audit.purge": "清理过期操作日志",
    "token.issue": "签发接口令牌",
    "token.revoke": "撤销接口令牌",
    "notify.retry": "重发失败消息",
    "case.template": "保存常用答复",
    "case.template_deleted": "删除常用答复",
    "personal_data.export": "导出本人数据",
    "case.export": "导出意见建议台账",
    "case.followup": "记录回访",
    "case.urge": "填写督办意见",
    "activity.export": "导出联系活动记录",
    "assessment.export": "导出年度考核",
    "ledger.export": "导出工作台账",
    "forms.export": "导出联系活动记录表",
    "user.account_files": "下载新开通账号文件（含初始密码）",
    "personal_data.correct": "更正个人信息",
    "consent.give": "同意公开答复",
    "consent.withdraw": "撤回公开答复的同意",
    "publication.publish": "公开答复",
    "publication.unpublish": "撤下公开的答复",
    "retention.purge": "按保存期限处理个人信息",
}
_PREFIX_LABELS = {
    "import.": "数据导入",
    "target.": "联系对象名单",
    "assignment.": "联系关系",
}
CATEGORIES: dict[str, str] = {
    "user.": "账号",
    "calendar.": "校历与工作日",
    "reception.": "接待日",
    "rules.": "规则",
    "activity.": "联系活动",
    "assignment.": "联系对象",
    "target.": "联系对象名单",
    "import.": "数据导入",
    "case.": "意见建议",
    "api.": "接口",
    "notify.": "消息通知",
    "login.": "登录",
    "logout": "退出登录",
    "session.": "登录结束",
    "sso.": "统一身份认证",
    "feed.": "日历订阅",
    "audit.": "操作日志",
    "personal_data.": "个人信息查阅和更正",
    "consent.": "答复公开的同意",
    "publication.": "答复公开",
    "retention.": "个人信息保存期限",
    "assessment.": "年度考核",
    "ledger.": "工作台账",
    "forms.": "联系活动记录表",
}


def action_label(action: str) -> str:
    if action in ACTION_LABELS:
        return ACTION_LABELS[action]
    for prefix, label in _PREFIX_LABELS.items():
        if action.startswith(prefix):
            return f"{label}（{action.removeprefix(prefix)}）"
    return action


@dataclass(frozen=True)
class Entry:
    id: int
    at: str
    actor: str  # 账号 and name; the name typed, a token, the command line; or 系统 for unattended jobs
    action: str
    label: str
    detail: str
    address: str = ""
    outcome: str = "ok"

    @property
    def outcome_label(self) -> str:
        return OUTCOMES.get(self.outcome, self.outcome)


@dataclass(frozen=True)
class Page:
    entries: list[Entry]
    total: int
    offset: int


def _contains(value: str) -> str:
    """A LIKE pattern matching ``value`` literally anywhere (``%`` and ``_`` typed are plain characters)."""
    escaped = value.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search(
    db: Database,
    *,
    actor: str = "",
    category: str = "",
    since: dt.date | None = None,
    until: dt.date | None = None,
    text: str = "",
    address: str = "",
    outcome: str = "",
    offset: int = 0,
    limit: int = PAGE_SIZE,
) -> Page:
    """Entries newest first, filtered in SQL; ``total`` counts all matches, ``entries`` one page.
    ``address`` matches from its start (``10.1.`` finds a network), ``outcome`` exactly."""
    where: list[str] = []
    params: list[object] = []
    if actor.strip():
        where.append(
            "(u.username = ? COLLATE NOCASE OR u.display_name LIKE ? ESCAPE '\\' OR a.actor LIKE ? ESCAPE '\\')"
        )
        params += [actor.strip(), _contains(actor), _contains(actor)]
    if address.strip():
        where.append("a.address LIKE ? ESCAPE '\\'")
        params.append(_contains(address).removeprefix("%"))
    if outcome:
        where.append("a.outcome = ?")
        params.append(outcome)
    if category:
        where.append("substr(a.action, 1, ?) = ?")
        params += [len(category), category]
    if since:
        where.append("a.at >= ?")
        params.append(since.isoformat())
    if until:
        where.append("a.at < ?")
        params.append((until + dt.timedelta(days=1)).isoformat())
    if text.strip():
        where.append("(a.detail LIKE ? ESCAPE '\\' OR a.action LIKE ? ESCAPE '\\')")
        params += [_contains(text), _contains(text)]
    clause = ("WHERE " + " AND ".join(where)) if where else ""
    base = f"FROM audit_log a LEFT JOIN users u ON u.id = a.user_id {clause}"
    total = db.execute(f"SELECT count(*) {base}", params).fetchone()[0]
    rows = db.execute(
        f"SELECT a.id, a.at, u.username, u.display_name, a.action, a.detail, a.actor, a.address, a.outcome {base} "
        "ORDER BY a.at DESC, a.id DESC LIMIT ? OFFSET ?",
        [*params, max(1, limit), max(0, offset)],
    ).fetchall()
    entries = [
        Entry(
            id=r[0],
            at=r[1],
            actor=f"{r[2]}（{r[3]}）" if r[2] else (r[6] or "系统"),
            action=r[4],
            label=action_label(r[4]),
            detail=r[5],
            address=r[7],
            outcome=r[8],
        )
        for r in rows
    ]
    return Page(entries, total, offset)
