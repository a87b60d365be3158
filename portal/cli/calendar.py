"""``portal calendar …``: working days, due dates and the official holiday arrangements."""

from __future__ import annotations

from pathlib import Path

import click

from .. import (
    case_actions,  # noqa: F401 - listens to calendar changes (portal calendar load)
    dates,
    workdays,
)
from ..db import open_db
from ..errors import ImportRejected, PortalError
from .common import fail


@click.group()
def calendar() -> None:
    """Working days: statutory holidays, 调休 days and the university's overrides."""


@calendar.command("due")
@click.argument("day")
@click.option("--days", "working_days", required=True, type=int, help="工作日数，如 5 或 10")
def calendar_due(day: str, working_days: int) -> None:
    """Print the deadline: the end of the N-th working day after DAY (YYYY-MM-DD)."""
    try:
        start = dates.parse_date(day)
        with open_db() as db:
            due = workdays.due_date(db, start, working_days)
            warning = workdays.calendar_warning(db, start, due)
    except PortalError as exc:
        fail(exc.message)
    if warning:
        click.echo(f"警告：{warning}", err=True)
    click.echo(due.isoformat())


@calendar.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--year", type=int, help="年份（默认取文件中的日期所在年份）")
def calendar_load(file: str, year: int | None) -> None:
    """Load a year's official arrangement (CSV/.xlsx with 日期, 类型, 名称)."""
    try:
        with open_db() as db:
            result = workdays.load_year(db, year, Path(file))
    except ImportRejected as exc:
        fail(exc.report())
    except PortalError as exc:
        fail(exc.message)
    click.echo(result.summary())


@calendar.command("years")
def calendar_years() -> None:
    """List the years whose official arrangement is loaded."""
    with open_db() as db:
        for info in workdays.loaded_years(db):
            click.echo(f"{info.year}\t{info.source}\t休息日 {info.holidays}\t调休工作日 {info.workdays}")
