"""How long personal data is kept, and ``portal purge``, which carries the rules out (PIPL Art. 19,
47: kept no longer than the purpose needs; 等保2.0 个人信息保护).

One rule per kind of record (``RULES``; docs/security.md lists them with their settings):

* **bookings** — a booking's and a waiting-list entry's personal fields (telephone number, 具体情况,
  the reason given for a cancellation) are emptied ``PORTAL_BOOKINGS_KEEP_DAYS`` after the reception
  day; the subject and the on-the-spot answer are kept, with the visitor's name, numbers and unit
  hidden (``portal.scrub``); the reminder's single-use links and no-show restrictions that ended
  then are deleted. The booking row stays: the day's counts (booked, received, 未到) do not change.
* **cases** — a case's raiser (his account, his name) is detached and the question's text loses
  what identifies him ``PORTAL_CASES_KEEP_DAYS`` after the case was closed (or withdrawn; answered
  and never closed: after its last answer). The case, its answers, ratings and history stay — every
  count of the ledgers, the assessment and the KPIs stays (a rating's follow-up window is long past).
* **accounts** — the account of a person who left (disabled ``PORTAL_ACCOUNTS_KEEP_DAYS`` ago) is
  anonymised: name, account name and password go, with its roles, sessions, notification settings,
  feed keys, campus-identity links and unsent messages; the person's telephone number goes; the
  person's name and 工号 go too unless he or she held a cadre post (a cadre's name stays on the
  official work records and the assessments that count them). Rows that others' records point at
  stay, anonymised, so nothing is counted differently.
* **messages** — sent messages ``PORTAL_NOTIFY_KEEP_DAYS`` after sending (``notify.outbox.purge``,
  which ``portal notify run`` also applies);
* **sessions** — sessions that can never be live again (``sessions.purge``);
* **login attempts** — failed-login counts, with the name typed, ``accounts.ATTEMPTS_KEEP_DAYS`` after the
  last failure, unless their lock is still in force (``accounts.purge_attempts``);
* **forms** — the exactly-once tokens of submitted forms (``submissions.purge``);
* **audit** — the audit log past ``PORTAL_AUDIT_KEEP_DAYS`` (at least 180 days, ``audit.purge``).

Records the portal keeps as the university's official work records — contact activities and their
record forms, cases' answers and history, the duty roster — are not purged here: they follow the
university's archive rules (docs/security.md).

``run(db, apply=False)`` is a dry run: every rule is carried out inside one transaction that is then
rolled back, so the figures are exactly what applying would do. Applying commits it and writes one
audit entry per rule that changed something.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from sqlite_utils import Database

from . import accounts, audit, config, dates, scrub, sessions, submissions
from .db import write
from .errors import PortalError
from .migrations import RETENTION_TEXTS
from .notify import outbox

ANONYMOUS_USER = "已注销用户"
ANONYMOUS_PERSON = "已注销人员"
ACCOUNT_PREFIX = "已注销-"


@dataclass(frozen=True)
class Rule:
    key: str
    title: str  # the kind of record, in Chinese
    what: str  # what happens to it
    setting: str  # the variable that sets the period ('' when the period is fixed elsewhere)
    days: Callable[[], int | None]
    apply: Callable[[Database, dt.date, dt.datetime], int]  # (db, cutoff day, now) → records changed


@dataclass(frozen=True)
class Outcome:
    rule: Rule
    cutoff: dt.date | None
    count: int
    error: str = ""  # why the rule could not be carried out ('' when it was)

    def describe(self) -> str:
        if self.error:
            return f"{self.rule.title}：未能处理（{self.error}）"
        before = f"{self.cutoff.isoformat()} 之前的" if self.cutoff else ""
        return f"{self.rule.title}：{before}{self.count} 条 —— {self.rule.what}"


def _known(db: Database, user_id: int | None, *extra: str) -> scrub.Known:
    """What identifies the account's person: name, 工号/学号, account name, telephone, unit."""
    names: set[str] = set(extra)
    numbers: set[str] = set()
    units: set[str] = set()
    if user_id is not None:
        row = db.execute(
            "SELECT u.username, u.display_name, p.name, p.staff_no, p.phone, un.name FROM users u "
            "LEFT JOIN people p ON p.id = u.person_id LEFT JOIN units un ON un.id = p.unit_id WHERE u.id = ?",
            [user_id],
        ).fetchone()
        if row:
            numbers.update(v for v in (row[0], row[3], row[4]) if v)
            names.update(v for v in (row[1], row[2]) if v)
            if row[5]:
                units.add(row[5])
    return scrub.Known(
        names=tuple(sorted(n for n in names if n)), numbers=tuple(sorted(numbers)), units=tuple(sorted(units))
    )


def _bookings(db: Database, cutoff: dt.date, now: dt.datetime) -> int:
    day = cutoff.isoformat()
    count = 0
    for table in ("bookings", "waitlist"):
        answer = ", answer" if table == "bookings" else ""
        reason = " OR cancel_reason != ''" if table == "bookings" else ""
        rows = db.execute(
            f"SELECT id, user_id, subject{answer} FROM {table} "
            f"WHERE date < ? AND (phone != '' OR description != ''{reason})",
            [day],
        ).fetchall()
        for row in rows:
            known = _known(db, row[1])
            fields = {"phone": "", "description": "", "subject": scrub.scrub(row[2], known).text}
            if table == "bookings":
                fields.update(cancel_reason="", answer=scrub.scrub(row[3] or "", known).text)
            db.table(table).update(row[0], fields)
        count += len(rows)
    db.execute(
        "DELETE FROM booking_links WHERE booking_id IN (SELECT id FROM bookings WHERE date < ?)", [day]
    )
    count += db.execute("DELETE FROM booking_bans WHERE until < ?", [day]).rowcount
    return count


def _cases(db: Database, cutoff: dt.date, now: dt.datetime) -> int:
    rows = db.execute(
        "SELECT id, raised_by, raiser_name, content FROM cases "
        "WHERE (raised_by IS NOT NULL OR raiser_name != '') "
        "AND COALESCE(closed_at, withdrawn_at, answered_at) < ? AND state IN ('closed', 'withdrawn', 'answered')",
        [cutoff.isoformat()],
    ).fetchall()
    if not rows:
        return 0
    # the append-only records' text may change only while this row exists (m033_retention_pass); it
    # exists inside this write transaction only, so no other connection ever sees it
    db.execute("INSERT INTO retention_pass (id) VALUES (1)")
    for case_id, raised_by, raiser_name, content in rows:
        known = _known(db, raised_by, raiser_name)
        answer = db.execute("SELECT answer FROM cases WHERE id = ?", [case_id]).fetchone()[0]
        db.table("cases").update(
            case_id,
            {
                "raised_by": None,
                "raiser_name": "",
                "content": scrub.scrub(content, known).text,
                "answer": scrub.scrub(answer or "", known).text,
            },
        )
        # the answers, ratings, 回访 and history (内部备注 included) name the raiser too
        for table, column, _ in RETENTION_TEXTS:
            for row_id, text in db.execute(
                f"SELECT id, {column} FROM {table} WHERE case_id = ? AND {column} != ''", [case_id]
            ).fetchall():
                cleaned = scrub.scrub(text, known).text
                if cleaned != text:
                    db.execute(f"UPDATE {table} SET {column} = ? WHERE id = ?", [cleaned, row_id])
    db.execute("DELETE FROM retention_pass")
    return len(rows)


def _accounts(db: Database, cutoff: dt.date, now: dt.datetime) -> int:
    rows = db.execute(
        "SELECT id, username, person_id FROM users WHERE is_active = 0 AND disabled_at < ? AND username NOT LIKE ?",
        [cutoff.isoformat(), ACCOUNT_PREFIX + "%"],
    ).fetchall()
    for user_id, username, person_id in rows:
        for table in ("user_roles", "sessions", "notify_prefs", "feed_keys", "sso_links"):
            db.execute(f"DELETE FROM {table} WHERE user_id = ?", [user_id])
        db.execute("DELETE FROM notify_outbox WHERE user_id = ? AND state != 'sent'", [user_id])
        for table in ("login_attempts", "login_attempts_by_address"):
            db.execute(f"DELETE FROM {table} WHERE username = ?", [username])
        db.execute(
            "UPDATE users SET username = ?, display_name = ?, password_hash = NULL WHERE id = ?",
            [f"{ACCOUNT_PREFIX}{user_id}", ANONYMOUS_USER, user_id],
        )
        if person_id is None:
            continue
        cadre = db.execute("SELECT 1 FROM cadre_posts WHERE person_id = ? LIMIT 1", [person_id]).fetchone()
        still_used = db.execute(
            "SELECT 1 FROM users WHERE person_id = ? AND is_active = 1 LIMIT 1", [person_id]
        ).fetchone()
        if still_used:  # another live account of the same person (rare): the person stays as is
            continue
        if cadre:
            db.execute("UPDATE people SET phone = '' WHERE id = ?", [person_id])
        else:
            db.execute(
                "UPDATE people SET name = ?, staff_no = ?, phone = '' WHERE id = ?",
                [ANONYMOUS_PERSON, f"{ACCOUNT_PREFIX}{person_id}", person_id],
            )
    return len(rows)


def _messages(db: Database, cutoff: dt.date, now: dt.datetime) -> int:
    return outbox.purge(db, now)


def _sessions(db: Database, cutoff: dt.date, now: dt.datetime) -> int:
    return sessions.purge(db)


def _login_attempts(db: Database, cutoff: dt.date, now: dt.datetime) -> int:
    return accounts.purge_attempts(db, cutoff, now)


def _forms(db: Database, cutoff: dt.date, now: dt.datetime) -> int:
    return submissions.purge(db, now.replace(tzinfo=None))


def _audit(db: Database, cutoff: dt.date, now: dt.datetime) -> int:
    return audit.purge(db, cutoff)


RULES: list[Rule] = [
    Rule(
        "bookings",
        "接待日预约和候补的个人信息",
        "清空联系电话、具体情况、取消原因；反映事项和当面答复隐去来访人的姓名、编号、单位；删除单次链接和已结束的预约限制",
        "PORTAL_BOOKINGS_KEEP_DAYS",
        lambda: config.settings().bookings_keep_days,
        _bookings,
    ),
    Rule(
        "cases",
        "意见建议提出人的身份",
        "解除与提出人账号的关联，清空提出人姓名，问题原文隐去提出人的姓名、编号、电话、单位；答复、评价、回访和办理记录（含内部备注）保留，其中的姓名、编号、电话同样隐去",
        "PORTAL_CASES_KEEP_DAYS",
        lambda: config.settings().cases_keep_days,
        _cases,
    ),
    Rule(
        "accounts",
        "离校离职人员的账号",
        "停用满期的账号去标识化（姓名、账号、密码、角色、会话、通知设置、订阅、关联）；人员的手机号删除，非干部的姓名和工号删除",
        "PORTAL_ACCOUNTS_KEEP_DAYS",
        lambda: config.settings().accounts_keep_days,
        _accounts,
    ),
    Rule(
        "messages",
        "消息通知",
        "删除已发送和已取消的消息（发送失败的留待处理）",
        "PORTAL_NOTIFY_KEEP_DAYS",
        lambda: config.settings().notify_keep_days,
        _messages,
    ),
    Rule(
        "sessions", "登录会话", "删除已结束或已过期的会话", "PORTAL_SESSION_MAX_AGE", lambda: None, _sessions
    ),
    Rule(
        "login_attempts",
        "失败登录计数",
        f"删除最后一次失败登录在 {accounts.ATTEMPTS_KEEP_DAYS} 天前的计数（含所输入的账号名和失败登录的来源地址）；锁定未到期的保留",
        "",
        lambda: accounts.ATTEMPTS_KEEP_DAYS,
        _login_attempts,
    ),
    Rule(
        "forms",
        "表单防重复提交记录",
        f"删除 {submissions.KEEP_DAYS} 天前的记录",
        "",
        lambda: submissions.KEEP_DAYS,
        _forms,
    ),
    Rule(
        "audit",
        "操作日志",
        "删除超过保存期限的记录（至少保留 180 天），哈希链自锚点起仍可验证",
        "PORTAL_AUDIT_KEEP_DAYS",
        lambda: config.settings().audit_keep_days,
        _audit,
    ),
]


class _DryRun(Exception):
    """Raised at the end of a dry run to roll everything back."""


def run(db: Database, *, apply: bool = False, now: dt.datetime | None = None) -> list[Outcome]:
    """Carry out every rule (``apply``) or say what it would do (a dry run: the same work, rolled back)."""
    now = now or dates.now()
    outcomes: list[Outcome] = []
    try:
        with write(db):
            for rule in RULES:
                days = rule.days()
                cutoff = now.date() - dt.timedelta(days=days) if days is not None else None
                try:
                    with write(db):  # a savepoint: a rule that fails leaves the others' work
                        count = rule.apply(db, cutoff or now.date(), now)
                        if count and rule.key != "audit":  # the audit purge audits itself
                            when = f"（{cutoff.isoformat()} 之前）" if cutoff else ""
                            audit.record(db, None, "retention.purge", f"{rule.title}：{count} 条{when}")
                except (sqlite3.Error, PortalError) as exc:
                    outcomes.append(Outcome(rule, cutoff, 0, getattr(exc, "message", None) or str(exc)))
                    continue
                outcomes.append(Outcome(rule, cutoff, count))
            if not apply:
                raise _DryRun
    except _DryRun:
        pass
    return outcomes
