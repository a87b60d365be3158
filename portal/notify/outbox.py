"""The notification outbox: who gets which message on which channel, written in the caller's transaction.

A feature that changes something says so inside its ``write(db)`` (its own messages module: what each
change says, and to whom); ``emit`` adds one row per recipient and channel to ``notify_outbox`` in that
same transaction, so a message exists exactly when
the change does (a rolled-back booking sends nothing). ``portal notify run`` (``dispatch``) sends them.

Each user chooses a channel and the topics he or she does not want on 我的账号 (``notify_prefs``);
users who never chose get ``PORTAL_NOTIFY_DEFAULT_CHANNEL`` (default: none). A row that keeps failing
ends as a dead letter, which an administrator can see and send again.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from pydantic import BaseModel
from sqlite_utils import Database

from .. import audit, config, dates, links
from ..accounts import User
from ..db import write
from ..errors import PermissionDenied, ValidationError
from ..text import email as valid_email

CHANNELS = {
    "none": "不接收",
    "email": "电子邮件",
    "wecom": "企业微信（应用消息）",
    "wecom_robot": "企业微信群机器人",
    "dingtalk": "钉钉群机器人",
}
# topics a user may turn off …
TOPICS = {
    "booking": "预约确认、变动和取消",
    "reminder": "接待日前一天的提醒",
    "roster": "值班安排及其变动",
    "case": "意见建议交办、即将到期和逾期提醒",
    "answer": "所提意见建议的答复",
}
# … and those he or she must turn on
OPT_IN_TOPICS = {"quota": "联系工作进度滞后提醒（期间过去 80% 时）"}
EVENTS = {
    "booking.confirmed": "booking",
    "booking.changed": "booking",
    "booking.cancelled": "booking",
    "booking.reminder": "reminder",
    "waitlist.promoted": "booking",
    "waitlist.ended": "booking",
    "booking.restricted": "booking",
    "duty.reminder": "reminder",
    "roster.published": "roster",
    "roster.changed": "roster",
    "case.assigned": "case",
    "case.due": "case",
    "case.overdue": "case",
    "case.answered": "answer",
    "case.published": "answer",
    "quota.behind": "quota",
}
STATE_LABELS = {"pending": "待发送", "sent": "已发送", "dead": "发送失败", "skipped": "已取消"}
INACTIVE_REASON = "账号已停用"  # why a message queued for an account disabled since was not sent
_WECOM_ID = re.compile(r"[A-Za-z0-9_.@-]{1,64}")


class Prefs(BaseModel):
    channel: str = "none"
    email: str = ""
    wecom_userid: str = ""
    webhook: str = ""
    webhook_secret: str = ""
    opt_out: list[str] = []
    opt_in: list[str] = []

    def wants(self, topic: str) -> bool:
        if topic in OPT_IN_TOPICS:
            return topic in self.opt_in
        return topic not in self.opt_out


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    url: str
    qr: str = ""  # a link the message carries as a QR code too (a booking's check-in)
    actions: tuple[tuple[str, str], ...] = ()  # one-tap links: (label, url)

    def payload(self) -> str:
        body: dict = {"subject": self.subject, "text": self.text, "url": self.url}
        if self.qr:
            body["qr"] = self.qr
        if self.actions:
            body["actions"] = [list(a) for a in self.actions]
        return json.dumps(body, ensure_ascii=False)

    @classmethod
    def from_payload(cls, payload: str) -> Message:
        found = json.loads(payload)
        found["actions"] = tuple(tuple(a) for a in found.get("actions", ()))
        return cls(**found)

    def lines(self) -> str:
        """The one-tap links and the check-in link as plain lines (every channel carries them)."""
        out = [f"{label}：{url}" for label, url in self.actions]
        if self.qr:
            out.append(f"签到链接（到达后出示其二维码）：{self.qr}")
        return "\n".join(out)


class Entry(BaseModel):
    id: int
    event: str
    user_id: int
    user_name: str = ""
    channel: str
    payload: str
    urgent: bool
    state: str
    attempts: int
    next_attempt_at: str
    last_error: str
    created_at: str
    sent_at: str | None = None
    user_active: bool = True

    @property
    def message(self) -> Message:
        return Message.from_payload(self.payload)

    @property
    def channel_label(self) -> str:
        return CHANNELS.get(self.channel, self.channel)

    @property
    def state_label(self) -> str:
        return STATE_LABELS.get(self.state, self.state)


# --- preferences ----------------------------------------------------------------------------


def default_channel() -> str:
    return config.settings().notify_default_channel


def get_prefs(db: Database, user_id: int) -> Prefs:
    row = db.execute(
        "SELECT channel, email, wecom_userid, webhook, webhook_secret, opt_out, opt_in FROM notify_prefs "
        "WHERE user_id = ?",
        [user_id],
    ).fetchone()
    if row is None:
        return Prefs(channel=default_channel())
    return Prefs(
        channel=row[0],
        email=row[1],
        wecom_userid=row[2],
        webhook=row[3],
        webhook_secret=row[4],
        opt_out=json.loads(row[5]),
        opt_in=json.loads(row[6]),
    )


def webhook_hosts() -> set[str]:
    """Hosts a robot address may point at: the server posts there, so never anywhere a user types."""
    return set(config.settings().webhook_hosts)


def _webhook(url: str, channel: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or host not in webhook_hosts():
        allowed = "、".join(sorted(webhook_hosts()))
        raise ValidationError(f"{CHANNELS[channel]}的地址应为 {allowed} 上的 Webhook 地址")
    if parts.scheme == "http" and host not in ("127.0.0.1", "localhost"):
        raise ValidationError("Webhook 地址应以 https:// 开头")
    if len(url) > 500:
        raise ValidationError("Webhook 地址过长")
    return url


def save_prefs(db: Database, user_id: int, prefs: Prefs) -> Prefs:
    """Check and keep a user's choice; raises ValidationError (in Chinese) on a bad address."""
    if prefs.channel not in CHANNELS:
        raise ValidationError("请选择接收方式")
    clean = Prefs(
        channel=prefs.channel,
        email=prefs.email.strip(),
        wecom_userid=prefs.wecom_userid.strip(),
        webhook=prefs.webhook.strip(),
        webhook_secret=prefs.webhook_secret.strip(),
        opt_out=sorted(t for t in set(prefs.opt_out) if t in TOPICS),
        opt_in=sorted(t for t in set(prefs.opt_in) if t in OPT_IN_TOPICS),
    )
    if clean.email:
        clean.email = valid_email(clean.email)
    if clean.wecom_userid and not _WECOM_ID.fullmatch(clean.wecom_userid):
        raise ValidationError("企业微信账号只能包含字母、数字和 _ . @ -")
    if clean.channel == "email" and not clean.email:
        raise ValidationError("选择电子邮件接收时，请填写电子邮件地址")
    if clean.channel in ("wecom_robot", "dingtalk"):
        clean.webhook = _webhook(clean.webhook, clean.channel)
    elif clean.webhook:
        clean.webhook = _webhook(clean.webhook, "wecom_robot")
    if clean.channel == "dingtalk" and not clean.webhook_secret.startswith("SEC"):
        raise ValidationError("钉钉机器人请开启“加签”，并填写以 SEC 开头的密钥")
    with write(db):
        db.execute(
            "INSERT INTO notify_prefs (user_id, channel, email, wecom_userid, webhook, webhook_secret, opt_out, "
            "opt_in, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(user_id) DO UPDATE SET "
            "channel = excluded.channel, email = excluded.email, wecom_userid = excluded.wecom_userid, "
            "webhook = excluded.webhook, webhook_secret = excluded.webhook_secret, opt_out = excluded.opt_out, "
            "opt_in = excluded.opt_in, updated_at = excluded.updated_at",
            [
                user_id,
                clean.channel,
                clean.email,
                clean.wecom_userid,
                clean.webhook,
                clean.webhook_secret,
                json.dumps(clean.opt_out),
                json.dumps(clean.opt_in),
                dates.stamp(),
            ],
        )
    return clean


def address(db: Database, user_id: int, channel: str) -> str:
    """Where the channel reaches the user now ('' when unknown): read at sending time, so a fixed
    address makes a retried dead letter go through."""
    prefs = get_prefs(db, user_id)
    username = db.execute("SELECT username FROM users WHERE id = ?", [user_id]).fetchone()
    if channel == "email":
        domain = config.settings().notify_email_domain.strip()
        return prefs.email or (f"{username[0]}@{domain}" if username and domain else "")
    if channel == "wecom":
        return prefs.wecom_userid or (username[0] if username else "")  # 企业微信 userid is usually the 工号
    return prefs.webhook


# --- recipients ------------------------------------------------------------------------------


def department_users(db: Database, *departments: str) -> list[int]:
    """Active accounts holding the department role of any of ``departments``."""
    if not departments:
        return []
    return [
        r[0]
        for r in db.execute(
            "SELECT DISTINCT u.id FROM users u JOIN user_roles r ON r.user_id = u.id WHERE r.role = 'department' "
            f"AND r.department IN ({','.join('?' * len(departments))}) AND u.is_active = 1 ORDER BY u.id",
            list(departments),
        )
    ]


def admin_users(db: Database) -> list[int]:
    """督办: the administrators, who see every case."""
    return [
        r[0]
        for r in db.execute(
            "SELECT DISTINCT u.id FROM users u JOIN user_roles r ON r.user_id = u.id WHERE r.role = 'admin' "
            "AND u.is_active = 1 ORDER BY u.id"
        )
    ]


def person_users(db: Database, person_id: int | None) -> list[int]:
    if person_id is None:
        return []
    return [
        r[0]
        for r in db.execute(
            "SELECT id FROM users WHERE person_id = ? AND is_active = 1 ORDER BY id", [person_id]
        )
    ]


# --- emitting --------------------------------------------------------------------------------


def emit(
    db: Database,
    event: str,
    user_ids: list[int],
    message: Message,
    *,
    key: str,
    urgent: bool = False,
) -> int:
    """Queue ``message`` for each user who wants this event's topic, on his or her channel.

    ``key`` names the occurrence (``booking.confirmed:17``): the same occurrence is queued once per
    user and channel however often it is emitted. Runs inside the caller's transaction when there is
    one. Returns how many rows were added.
    """
    topic = EVENTS[event]
    now = dates.stamp()
    rows = []
    wanted = list(dict.fromkeys(user_ids))
    # a disabled account (someone who has left) is told nothing; one disabled after its message was
    # queued is skipped when the message's turn comes (dispatch)
    active = {
        r[0]
        for r in db.execute(
            "SELECT id FROM users WHERE is_active = 1 AND id IN (SELECT value FROM json_each(?))",
            [json.dumps(wanted)],
        )
    }
    for user_id in wanted:
        if user_id not in active:
            continue
        prefs = get_prefs(db, user_id)
        if prefs.channel != "none" and prefs.wants(topic):
            rows.append([event, key, user_id, prefs.channel, message.payload(), int(urgent), now, now])
    if not rows:  # nobody to tell: no write lock taken
        return 0
    added = 0
    with write(db):
        for row in rows:
            added += db.execute(
                "INSERT OR IGNORE INTO notify_outbox (event, dedupe_key, user_id, channel, payload, urgent, state, "
                "next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
                row,
            ).rowcount
    return added


def message(
    subject: str,
    text: str,
    link: links.Link,
    *,
    qr: links.Link | None = None,
    actions: list[tuple[str, links.Link]] | None = None,
) -> Message:
    return Message(
        subject=subject,
        text=text,
        url=link.url,
        qr=qr.url if qr is not None else "",
        actions=tuple((label, target.url) for label, target in actions or ()),
    )


# --- reading and the dead letters ------------------------------------------------------------

_SQL = (
    "SELECT o.id, o.event, o.user_id, u.display_name AS user_name, o.channel, o.payload, o.urgent, o.state, "
    "o.attempts, o.next_attempt_at, o.last_error, o.created_at, o.sent_at, u.is_active AS user_active "
    "FROM notify_outbox o "
    "JOIN users u ON u.id = o.user_id "
)


def entries(
    db: Database, *, state: str | None = None, user_id: int | None = None, limit: int = 500
) -> list[Entry]:
    where: list[str] = ["1 = 1"]
    params: list[object] = []
    if state is not None:
        where.append("o.state = ?")
        params.append(state)
    if user_id is not None:
        where.append("o.user_id = ?")
        params.append(user_id)
    sql = _SQL + "WHERE " + " AND ".join(where) + f" ORDER BY o.id DESC LIMIT {int(limit)}"
    return [Entry(**r) for r in db.query(sql, params)]


def get_entry(db: Database, entry_id: int) -> Entry | None:
    rows = list(db.query(_SQL + "WHERE o.id = ?", [entry_id]))
    return Entry(**rows[0]) if rows else None


def counts(db: Database) -> dict[str, int]:
    found = dict(db.execute("SELECT state, count(*) FROM notify_outbox GROUP BY state").fetchall())
    return {s: found.get(s, 0) for s in STATE_LABELS}


def skipped(db: Database, actor: User | None, limit: int = 200) -> list[Entry]:
    """Messages not sent, newest first, each with its reason in ``last_error``."""
    _require_admin(actor)
    return entries(db, state="skipped", limit=limit)


def _require_admin(actor: User | None) -> None:
    if actor is not None and not actor.has("admin"):
        raise PermissionDenied("只有系统管理员可以查看和重发失败的通知")


def dead_letters(db: Database, actor: User | None) -> list[Entry]:
    _require_admin(actor)
    return entries(db, state="dead")


def retry(db: Database, ids: list[int], actor: User | None, now: str | None = None) -> int:
    """Send dead letters again (from the next dispatcher run, with a fresh count of attempts)."""
    _require_admin(actor)
    if not ids:
        return 0
    with write(db):
        cur = db.execute(
            "UPDATE notify_outbox SET state = 'pending', attempts = 0, next_attempt_at = ?, last_error = '' "
            f"WHERE state = 'dead' AND id IN ({','.join('?' * len(ids))})",
            [now or dates.stamp(), *ids],
        )
        audit.record(db, actor.id if actor else None, "notify.retry", f"{cur.rowcount} 条")
    return cur.rowcount


def keep_days() -> int:
    return config.settings().notify_keep_days


def purge(db: Database, now: dt.datetime) -> int:
    """Forget messages sent (or skipped) more than ``PORTAL_NOTIFY_KEEP_DAYS`` ago (dead letters stay
    until handled). A skipped row's ``next_attempt_at`` is when it was skipped."""
    cutoff = (now - dt.timedelta(days=keep_days())).astimezone(dates.TZ).isoformat(timespec="seconds")
    with write(db):
        return db.execute(
            "DELETE FROM notify_outbox WHERE (state = 'sent' AND sent_at < ?) "
            "OR (state = 'skipped' AND next_attempt_at < ?)",
            [cutoff, cutoff],
        ).rowcount
