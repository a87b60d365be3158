"""``portal notify run``: send what the outbox holds, now or later.

* Scheduled events (``scan``) are queued first, then every pending row whose time has come is sent
  on its channel. A row is claimed before sending (its next attempt moved past the send), so two
  dispatchers started at once by cron never send it twice.
* **Quiet hours** (``PORTAL_QUIET_HOURS``, default ``22:00-07:30``, Beijing time): only urgent rows go
  out (a reception day cancelled or changed for today or tomorrow); the rest wait for the morning.
* **Retries**: a failure is retried after 1 min, 5 min, 30 min, 2 h and 6 h; after
  ``PORTAL_NOTIFY_MAX_ATTEMPTS`` (default 6) attempts the row becomes a **dead letter**, listed for
  administrators (消息通知 page, ``portal notify dead``) who may send it again.
* **Disabled accounts**: a row whose recipient's account is disabled when its turn comes is not sent
  but marked ``skipped`` (已取消, reason 账号已停用): the message was queued while the account was
  active, and someone who has left must not keep receiving the portal's news.
* Sent and skipped rows are kept ``PORTAL_NOTIFY_KEEP_DAYS`` (default 90), then deleted.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
from dataclasses import dataclass

from sqlite_utils import Database

from .. import config, dates, jobs
from ..db import write
from . import channels, outbox, scan

log = logging.getLogger("portal.notify")

BACKOFF_SECONDS = [60, 300, 1800, 7200, 21600]
CLAIM_SECONDS = 300  # a row being sent is invisible to other dispatchers this long


@dataclass
class Report:
    queued: int = 0
    sent: int = 0
    failed: int = 0  # will be retried
    dead: int = 0
    held: int = 0  # quiet hours
    purged: int = 0  # sent long ago
    skipped: int = 0  # the recipient's account was disabled meanwhile

    @property
    def went_wrong(self) -> bool:
        """A run counts as failed when messages died, or when some failed and none went out (a
        channel is down or misconfigured)."""
        return bool(self.dead or (self.failed and not self.sent))

    def describe(self) -> str:
        return (
            f"新增 {self.queued} 条，发送 {self.sent} 条，失败待重试 {self.failed} 条，"
            f"转入失败列表 {self.dead} 条，静默时段暂缓 {self.held} 条，"
            f"已取消 {self.skipped} 条（收件人账号已停用）"
        )


def max_attempts() -> int:
    return config.settings().notify_max_attempts


def quiet_hours() -> tuple[dt.time, dt.time] | None:
    """(start, end) in Beijing time, or None when there are none (``PORTAL_QUIET_HOURS=off``)."""
    return config.settings().quiet_hours


def in_quiet_hours(moment: dt.datetime) -> bool:
    span = quiet_hours()
    if span is None:
        return False
    start, end = span
    now = moment.astimezone(dates.TZ).time()
    return start <= now or now < end if start > end else start <= now < end


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dates.TZ).isoformat(timespec="seconds")


def _send(db: Database, entry: outbox.Entry) -> None:
    msg = entry.message
    address = outbox.address(db, entry.user_id, entry.channel)
    if not address:
        raise channels.ChannelError(f"用户没有设置{outbox.CHANNELS.get(entry.channel, entry.channel)}的地址")
    if entry.channel == "email":
        channels.send_email(address, msg)
    elif entry.channel == "wecom":
        channels.send_wecom(db, address, msg)
    elif entry.channel == "wecom_robot":
        channels.send_wecom_robot(address, msg)
    elif entry.channel == "dingtalk":
        channels.send_dingtalk(address, outbox.get_prefs(db, entry.user_id).webhook_secret, msg)
    else:  # pragma: no cover - the table's CHECK allows no other
        raise channels.ChannelError(f"未知的发送方式 {entry.channel}")


def run_once(db: Database, now: dt.datetime | None = None, *, scan_events: bool = True) -> Report:
    now = now or dates.now()
    report = Report()
    if scan_events:
        report.queued = scan.enqueue_due(db, now)
    quiet = in_quiet_hours(now)
    stamp = _stamp(now)
    report.purged = outbox.purge(db, now)
    due = list(
        db.query(
            "SELECT id, next_attempt_at, urgent FROM notify_outbox WHERE state = 'pending' AND next_attempt_at <= ? "
            "ORDER BY id",
            [stamp],
        )
    )
    for row in due:
        if quiet and not row["urgent"]:
            report.held += 1
            continue
        with write(db):  # claim it: a second dispatcher finds it not yet due
            claimed = db.execute(
                "UPDATE notify_outbox SET next_attempt_at = ? WHERE id = ? AND state = 'pending' "
                "AND next_attempt_at = ?",
                [_stamp(now + dt.timedelta(seconds=CLAIM_SECONDS)), row["id"], row["next_attempt_at"]],
            ).rowcount
        if not claimed:
            continue
        entry = outbox.get_entry(db, row["id"])
        if entry is None:  # pragma: no cover - deleted with its user meanwhile
            continue
        if not entry.user_active:
            with write(db):
                db.execute(
                    "UPDATE notify_outbox SET state = 'skipped', next_attempt_at = ?, last_error = ? WHERE id = ?",
                    [stamp, outbox.INACTIVE_REASON, entry.id],
                )
            report.skipped += 1
            continue
        try:
            _send(db, entry)
        except channels.ChannelError as exc:
            attempts = entry.attempts + 1
            dead = attempts >= max_attempts()
            wait = BACKOFF_SECONDS[min(attempts, len(BACKOFF_SECONDS)) - 1]
            with write(db):
                db.execute(
                    "UPDATE notify_outbox SET attempts = ?, state = ?, next_attempt_at = ?, last_error = ? WHERE id = ?",
                    [
                        attempts,
                        "dead" if dead else "pending",
                        _stamp(now + dt.timedelta(seconds=wait)),
                        str(exc)[:500],
                        entry.id,
                    ],
                )
            fields = {
                "message_id": entry.id,
                "event": entry.event,
                "channel": entry.channel,
                "attempts": attempts,
            }
            if dead:
                report.dead += 1
                log.error("message %s is a dead letter: %s", entry.id, exc, extra=fields)
            else:
                report.failed += 1
                log.warning("message %s not sent, retried in %s s: %s", entry.id, wait, exc, extra=fields)
            continue
        with write(db):
            db.execute(
                "UPDATE notify_outbox SET state = 'sent', attempts = attempts + 1, sent_at = ?, last_error = '' "
                "WHERE id = ?",
                [_stamp(dates.now()), entry.id],
            )
        report.sent += 1
        log.info(
            "message %s sent",
            entry.id,
            extra={
                "message_id": entry.id,
                "event": entry.event,
                "channel": entry.channel,
                "user_id": entry.user_id,
            },
        )
    log.info("notify run: %s", report.describe(), extra=dataclasses.asdict(report))
    return report


def run_forever(open_db, interval: float = 60.0) -> None:  # pragma: no cover - a loop for a service
    """Dispatch every ``interval`` seconds until stopped (a connection per round; each round a job
    run, so that a failing round shows on the health route and the loop goes on)."""
    while True:
        try:
            with jobs.run("notify.run") as job, open_db() as db:
                report = run_once(db)
                job.summary, job.failed = report.describe(), report.went_wrong
        except Exception:  # noqa: BLE001 - recorded and logged by jobs.run; the next round retries
            pass
        time.sleep(interval)
