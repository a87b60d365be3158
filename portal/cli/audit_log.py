"""``portal audit …``: the audit log's hash chain verified, entries past their retention purged."""

from __future__ import annotations

import sys

import click

from .. import audit, dates, jobs
from ..db import open_db
from ..errors import PortalError
from .common import fail, log


@click.group("audit")
def audit_group() -> None:
    """The audit log (操作日志): verify its hash chain; purge entries past the retention period."""


@audit_group.command("verify")
def audit_verify() -> None:
    """Check every entry's link to the one before; report the first broken one (exit 3)."""
    with open_db() as db:
        verdict = audit.verify(db)
    if not verdict.ok:
        log.error("audit chain broken at #%s", verdict.broken_at, extra={"broken_at": verdict.broken_at})
        fail_with = f"操作日志的哈希链在第 {verdict.broken_at} 条断开：{verdict.reason}（此前 {verdict.entries - 1} 条完好）"
        click.echo(fail_with, err=True)
        sys.exit(3)
    anchor = f"，自锚点 #{verdict.anchor_id} 起" if verdict.anchor_id else ""
    click.echo(f"操作日志完好：{verdict.entries} 条{anchor}；最新 #{verdict.head_id} {verdict.head_hash}")
    log.info(
        "audit chain verified",
        extra={"entries": verdict.entries, "head_id": verdict.head_id, "head_hash": verdict.head_hash},
    )


@audit_group.command("purge")
@click.option(
    "--before", help="清理此日期之前的记录 YYYY-MM-DD（默认按 PORTAL_AUDIT_KEEP_DAYS；至少保留 180 天）"
)
def audit_purge(before: str | None) -> None:
    """Remove entries older than the retention period; the chain stays verifiable from its anchor."""
    try:
        day = dates.parse_date(before, "--before") if before else None
        with jobs.run("audit.purge") as job, open_db() as db:
            removed = audit.purge(db, day)
            job.summary = f"已清理操作日志 {removed} 条"
    except PortalError as exc:
        fail(exc.message)
    click.echo(f"已清理操作日志 {removed} 条")
