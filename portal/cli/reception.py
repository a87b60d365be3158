"""``portal reception …``: the duty roster of the reception day (接待日)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click

from .. import dates, org
from ..db import open_db
from ..errors import PortalError
from ..reception import roster
from .common import fail


@click.group()
def reception() -> None:
    """Reception day (接待日): the duty roster of the school leaders."""


@reception.command("roster")
@click.option("--from", "start", help="开始日期 YYYY-MM-DD（默认今天）")
@click.option("--to", "end", help="结束日期 YYYY-MM-DD（默认开始后 8 周）")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
def reception_roster(start: str | None, end: str | None, as_json: bool) -> None:
    """Print the roster: date, the leader's 工号 and name per duty day."""
    try:
        first = dates.parse_date(start, "开始日期") if start else dates.today()
        last = dates.parse_date(end, "结束日期") if end else first + dt.timedelta(weeks=8)
        with open_db() as db:
            days = roster.list_roster(db, first, last)
    except PortalError as exc:
        fail(exc.message)
    if as_json:
        rows = [d.published() for d in days]
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    for d in days:
        extra = f"\t已取消（{d.note}）" if d.cancelled else ""
        click.echo(f"{d.date.isoformat()}\t{d.leader_staff_no}\t{d.leader_name}{extra}")


@reception.command("plan")
@click.option("--semester", help="学期编号，如 2026-2027-1（排该学期教学周内的每个周三）")
@click.option("--from", "start", help="或：开始日期 YYYY-MM-DD")
@click.option("--to", "end", help="结束日期 YYYY-MM-DD")
@click.option("--place", help="接待地点（默认取接待日设置）")
def reception_plan(semester: str | None, start: str | None, end: str | None, place: str | None) -> None:
    """Put a school leader on every working Wednesday not yet on the roster (days already planned stay)."""
    if not semester and not (start and end):
        fail("请给出 --semester，或 --from 和 --to")
    try:
        with open_db() as db:
            if semester:
                result = roster.plan_semester(db, semester, None, place)
            else:
                first, last = dates.parse_date(start, "开始日期"), dates.parse_date(end, "结束日期")
                result = roster.plan(db, first, last, None, place)
    except PortalError as exc:
        fail(exc.message)
    for warning in result.warnings:
        click.echo(f"警告：{warning}", err=True)
    for d in result.created:
        click.echo(f"{d.date.isoformat()}\t{d.leader_staff_no}\t{d.leader_name}")
    for day, why in result.skipped:
        click.echo(f"{day.isoformat()}\t无接待\t{why}")
    click.echo(
        f"新排 {len(result.created)} 天，保留已有 {len(result.kept)} 天，跳过 {len(result.skipped)} 天"
    )


@reception.command("ics")
@click.argument("staff_no")
@click.option("--out", type=click.Path(dir_okay=False), help="写到此文件（默认输出到屏幕）")
def reception_ics(staff_no: str, out: str | None) -> None:
    """A school leader's duty days as an iCalendar (.ics) file."""
    with open_db() as db:
        person = org.person_by_staff_no(db, staff_no)
        if person is None:
            fail(f"工号 {staff_no} 不存在")
        data = roster.leader_ics(db, person.id)
    if out:
        Path(out).write_bytes(data)
        click.echo(f"已写入 {out}")
    else:
        click.echo(data.decode("utf-8"), nl=False)
