"""``portal notify …``: send the outbox; see and retry the messages that could not be sent."""

from __future__ import annotations

import sys

import click

from .. import jobs
from ..db import open_db
from ..notify import dispatch, outbox
from .common import log


@click.group("notify")
def notify_group() -> None:
    """Notifications (e-mail, 企业微信, 钉钉): send the outbox, see and retry dead letters."""


@notify_group.command("run")
@click.option("--once", is_flag=True, help="发送一轮后退出（供 cron 或 systemd 定时器使用）")
@click.option("--interval", default=60, show_default=True, help="持续运行时每轮间隔的秒数")
def notify_run(once: bool, interval: int) -> None:
    """Queue the scheduled reminders and send every message whose time has come."""
    if not once:
        log.info("通知发送服务已启动，每 %s 秒一轮（Ctrl+C 停止）", interval)
        dispatch.run_forever(open_db, interval)
        return
    with jobs.run("notify.run") as job, open_db() as db:
        report = dispatch.run_once(db)
        job.summary, job.failed = report.describe(), report.went_wrong
    click.echo(report.describe())
    if report.dead:
        sys.exit(2)  # a timer's failure shows in `systemctl status`


@notify_group.command("dead")
def notify_dead() -> None:
    """List the messages that could not be sent (dead letters)."""
    with open_db() as db:
        found = outbox.dead_letters(db, None)
    for e in found:
        click.echo(
            f"{e.id}\t{e.created_at}\t{e.event}\t{e.user_name}\t{e.channel_label}\t{e.attempts}\t{e.last_error}"
        )
    click.echo(f"发送失败 {len(found)} 条", err=True)


@notify_group.command("retry")
@click.argument("ids", nargs=-1, type=int)
@click.option("--all", "every", is_flag=True, help="重发全部发送失败的消息")
def notify_retry(ids: tuple[int, ...], every: bool) -> None:
    """Queue dead letters again (by id, or --all); the next run sends them."""
    with open_db() as db:
        chosen = [e.id for e in outbox.dead_letters(db, None)] if every else list(ids)
        count = outbox.retry(db, chosen, None)
    click.echo(f"已重新排队 {count} 条")
