"""Data in and out: ``portal import`` (the sheets of docs/formats.md), ``portal backup`` and
``portal restore``, ``portal purge`` (the retention rules)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .. import backups, config, imports, jobs, retention
from ..db import open_db
from ..errors import ImportRejected, PortalError
from .common import fail


@click.command("import")
@click.argument("kind", type=click.Choice(sorted(imports.IMPORTERS)))
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="只检查并预览，不写入")
def import_(kind: str, file: str, dry_run: bool) -> None:
    """Import a CSV or .xlsx sheet (docs/formats.md): all rows or none."""
    data = Path(file).read_bytes()
    try:
        with open_db() as db:
            report = imports.run_import(db, kind, Path(file).name, data, dry_run=dry_run)
    except ImportRejected as exc:
        for warning in getattr(exc, "warnings", []):
            click.echo(f"提示：{warning}", err=True)
        fail(exc.report())
    except PortalError as exc:
        fail(exc.message)
    click.echo(report.summary())
    for note in report.notes:
        click.echo(note)
    for warning in report.warnings:  # imported all the same (docs/formats.md §1)
        click.echo(f"提示：{warning}")
    for username, password in report.secrets:
        click.echo(f"{username}\t{password}")


@click.command()
@click.argument("file", type=click.Path(dir_okay=False))
def backup(file: str) -> None:
    """Write a consistent copy of the live database (safe while the server runs), mode 0600."""
    try:
        with jobs.run("backup") as job:
            backups.backup(Path(file))
            job.summary = str(file)
    except PortalError as exc:
        fail(exc.message)
    click.echo(f"已备份到 {file}（仅属主可读写；含密钥，请加密后再复制到其他主机）")


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False), required=False)
@click.option(
    "--from-replica", "replica", metavar="URL|DIR", help="从 Litestream 副本恢复（地址或副本文件夹）"
)
@click.option(
    "--litestream-config",
    type=click.Path(exists=True, dir_okay=False),
    help="从此 Litestream 配置文件为本数据库指定的副本恢复",
)
@click.option(
    "--timestamp", metavar="TIME", help="恢复到此时刻的状态（RFC 3339，例如 2026-11-24T08:00:00+08:00）"
)
@click.option("--yes", is_flag=True, help="不再确认，直接覆盖当前数据库")
def restore(
    file: str | None, replica: str | None, litestream_config: str | None, timestamp: str | None, yes: bool
) -> None:
    """Replace the database with a backup FILE, or with the Litestream replica's latest state
    (stop the server first); older schemas migrate forward."""
    if sum(x is not None for x in (file, replica, litestream_config)) != 1:
        fail("请给出一个来源：备份文件 FILE、--from-replica URL|DIR 或 --litestream-config FILE")
    if timestamp and file:
        fail("--timestamp 只用于从副本恢复")
    fetched = None
    try:
        if file:
            backups.check(Path(file))
            source, path = file, Path(file)
        else:
            fetched = backups.fetch_replica(
                replica,
                litestream_config=Path(litestream_config) if litestream_config else None,
                timestamp=timestamp,
            )
            path = fetched[1]
            source = f"副本 {backups.shown(replica) if replica else litestream_config}" + (
                f"（{timestamp} 时的状态）" if timestamp else ""
            )
            backups.check(path)
        if not yes:
            click.confirm(f"用 {source} 覆盖 {config.db_path()}？", abort=True)
        backups.restore(path)
    except PortalError as exc:
        fail(exc.message)
    finally:
        if fetched is not None:  # the fetched copy goes, whatever happened
            fetched[0].cleanup()
    click.echo(f"已从 {source} 恢复到 {config.db_path()}")


@click.command("purge")
@click.option("--apply", "apply_", is_flag=True, help="执行（不加此项只列出将要处理的记录，不做任何修改）")
def purge_command(apply_: bool) -> None:
    """Carry out the retention rules (docs/security.md): a dry run unless --apply."""
    with jobs.run("retention.purge") as job, open_db() as db:
        outcomes = retention.run(db, apply=apply_)
        failed = [o for o in outcomes if o.error]
        job.summary = "；".join(o.describe() for o in outcomes if o.count or o.error) or "没有到期的记录"
        job.failed = bool(failed) and apply_
    click.echo("按保存期限处理个人信息" + ("：" if apply_ else "（演练，未做任何修改；加 --apply 执行）："))
    for o in outcomes:
        setting = f"［{o.rule.setting}］" if o.rule.setting else ""
        click.echo(f"  · {o.describe()}{setting}")
    total = sum(o.count for o in outcomes)
    click.echo(
        ("已处理" if apply_ else "将处理")
        + f" {total} 条"
        + ("，已记入操作日志。" if apply_ and total else "。")
    )
    if failed:
        sys.exit(3)
