"""``portal`` — the command line for the IT office and for scheduled jobs.

Here the root group (``cli``: the ``--db`` option, the settings checked, logging and the audit origin set up,
a new database seeded) and ``main``, the ``portal`` entry point. The commands live beside it, one module per
group: ``instance`` (config, init, demo, serve), ``data`` (import, backup, restore, purge), ``users`` (user,
provisioning), ``tokens``, ``forms``, ``calendar``, ``reception``, ``reports`` (quota, cases, assess, ledger),
``audit_log``, ``notify``; ``common`` holds what they share.

A command that needs a heavy library (Streamlit, openpyxl, python-docx, docxtpl) imports the module
that uses it when it runs, so the others — ``portal notify run --once``, started every minute by a
timer — start without it."""

from __future__ import annotations

import sys

import click

from .. import __version__, audit, config, logs, seeds
from ..db import open_db
from ..settings import SettingsError
from . import audit_log, calendar, data, forms, instance, notify, reception, reports, tokens, users
from .common import log


def check_settings() -> None:
    """Every command starts by checking the settings: a bad value stops it here, named, in
    Chinese and English (exit status 2), before it touches anything."""
    try:
        config.settings()
    except SettingsError as exc:
        click.echo(exc.message, err=True)
        sys.exit(2)


def report_names() -> None:
    """Say which variables are spelt the old way or are no setting at all (a typo is otherwise
    silently ignored), and which values were accepted but are probably not meant."""
    for old in config.deprecated_names():
        log.warning("设置已更名 / setting renamed: %s", old)
    for name in config.unknown_names():
        log.warning("未知的设置 %s（拼写错误？）/ unknown setting %s (misspelt?)", name, name)
    for warning in config.warnings():
        log.warning("%s", warning)


@click.group()
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False),
    help="数据库文件（默认 db/portal.sqlite3，或环境变量 PORTAL_DB）",
)
@click.version_option(__version__, prog_name="portal")
@click.pass_context
def cli(ctx: click.Context, db_path: str | None) -> None:
    """联系师生服务平台 command line."""
    if db_path:
        config.use_database(db_path)
    check_settings()
    handler = logs.setup()
    ctx.call_on_close(lambda: logs.teardown(handler))
    report_names()
    origin = audit.from_command_line()
    ctx.call_on_close(lambda: audit.end_command_line(origin))
    if ctx.invoked_subcommand in ("restore", "config"):
        return
    if not config.db_path().exists():
        with open_db() as db:  # a new database starts seeded, whichever command makes it
            seeds.seed(db)


def main() -> None:  # pragma: no cover

    cli()


for command in (
    instance.config_command,
    instance.init,
    instance.demo,
    instance.serve,
    data.import_,
    data.backup,
    data.restore,
    data.purge_command,
    users.user,
    users.provisioning_command,
    tokens.token_group,
    forms.forms,
    calendar.calendar,
    reception.reception,
    reports.quota,
    reports.cases_command,
    reports.assess_command,
    reports.ledger_command,
    audit_log.audit_group,
    notify.notify_group,
):
    cli.add_command(command)
