"""The audit log: who did what and when, written by the services (``accounts.audit``) and read here.

The log is append-only evidence for administrators; this module only reads it: filters, paging and
the Chinese names of the actions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlite_utils import Database

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
    "sso.auto_provision": "设置自动开通师生账号",
    "sso.cas_login": "统一身份认证登录",
    "sso.cas_refused": "统一身份认证票据被拒",
    "sso.cas_single_logout": "统一身份认证单点退出",
    "api.issue": "签发接口令牌",
    "api.revoke": "撤销接口令牌",
    "api.use": "调用接口",
    "api.refused": "接口调用被拒",
    "feed.reset": "重置日历订阅地址",
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
    "target.": "联系对象",
    "import.": "数据导入",
    "case.": "意见建议",
    "api.": "接口",
    "notify.": "消息通知",
    "login.": "登录",
    "sso.": "统一身份认证",
    "feed.": "日历订阅",
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
    actor: str  # 账号 and name, or 系统 for unattended jobs
    action: str
    label: str
    detail: str


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
    offset: int = 0,
    limit: int = PAGE_SIZE,
) -> Page:
    """Entries newest first, filtered in SQL; ``total`` counts all matches, ``entries`` one page."""
    where, params = [], []
    if actor.strip():
        where.append("(u.username = ? COLLATE NOCASE OR u.display_name LIKE ? ESCAPE '\\')")
        params += [actor.strip(), _contains(actor)]
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
        f"SELECT a.id, a.at, u.username, u.display_name, a.action, a.detail {base} "
        "ORDER BY a.at DESC, a.id DESC LIMIT ? OFFSET ?",
        [*params, max(1, limit), max(0, offset)],
    ).fetchall()
    entries = [
        Entry(
            id=r[0],
            at=r[1],
            actor=f"{r[2]}（{r[3]}）" if r[2] else "系统",
            action=r[4],
            label=action_label(r[4]),
            detail=r[5],
        )
        for r in rows
    ]
    return Page(entries, total, offset)
