"""Reports for the IT office and scheduled jobs: ``portal quota``, ``portal cases`` (督办, with its e-mail
reminders), ``portal assess`` (年度考核), ``portal ledger`` (工作台账)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .. import case_export, case_messages, cases, dates, jobs, notify
from .. import quota as quotas
from ..accounts import Role, User
from ..db import open_db
from ..errors import PortalError
from .common import fail


@click.command()
@click.option("--cadre", "staff_no", help="只看此工号的干部")
@click.option("--period", help="只看此期间：2026-11、2026-2027-1、2026-2027、2026")
@click.option("--since", help="开始日期（默认：--on 所在学年的开始）")
@click.option("--on", "on", help="截至日期（默认今天）")
@click.option("--json", "as_json", is_flag=True, help="按 docs/formats.md 输出 JSON")
@click.option("--institutional", is_flag=True, help="改为输出学校层面的制度落实情况（部门台账）")
def quota(
    staff_no: str | None,
    period: str | None,
    since: str | None,
    on: str | None,
    as_json: bool,
    institutional: bool,
) -> None:
    """Quotas per cadre, rule and period (every period overlapping [since, on])."""
    try:
        on_day = dates.parse_date(on, "截至日期") if on else dates.today()
        since_day = dates.parse_date(since, "开始日期") if since else None
        with open_db() as db:
            if institutional:
                duties = quotas.compute_institutional(db, period=period, since=since_day, on=on_day)
            else:
                results = quotas.compute(db, staff_no=staff_no, period=period, since=since_day, on=on_day)
    except PortalError as exc:
        fail(exc.message)
    if institutional:
        for w in sorted({d.warning for d in duties if d.warning}):
            click.echo(f"警告：{w}", err=True)
        for d in duties:
            click.echo(f"{d.rule}\t{d.period}\t{d.done:g}/{d.required:g}\t{d.status_label}\t{d.title}")
            for line in d.details[:10]:
                click.echo(f"    {line}")
        return
    if as_json:
        click.echo(json.dumps(quotas.report_json(results), ensure_ascii=False, indent=1))
        return
    click.echo("工号\t姓名\t规则\t期间\t要求\t完成\t状态")
    for r in results:
        want = f"{r.required:g}" if r.max is None else f"{r.required:g}～{r.max:g}"
        flag = "（进度滞后）" if r.behind else ""
        click.echo(
            f"{r.staff_no}\t{r.name}\t{r.rule}\t{r.period}\t{want}\t{r.done:g}\t{r.status_label}{flag}"
        )


@click.command("cases")
@click.option("--overdue", is_flag=True, help="只列逾期未答复的件")
@click.option("--on", "on", help="按此日期计算逾期、临期（默认今天）")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.option("--remind", is_flag=True, help="按 PORTAL_SMTP_* 配置给责任部门发督办提醒邮件")
def cases_command(overdue: bool, on: str | None, as_json: bool, remind: bool) -> None:
    """Open cases by deadline, for the daily supervision job (意见建议督办)."""
    day = dates.parse_date(on, "--on") if on else dates.today()
    system = User(id=0, username="system", display_name="定时任务", roles=[Role(role="admin")])
    with open_db() as db:
        found = cases.list_cases(db, system, states=list(cases.OPEN_STATES), overdue_only=overdue, on=day)
    if as_json:
        click.echo(case_export.to_json(found))
    else:
        for c in found:
            unit = c.handling_unit_name or "-"
            click.echo(f"{c.number}\t{c.due_date}\t{c.state_label}\t{c.responsible_dept}\t{unit}\t{c.flag}")
        tally = cases.counts(found)
        click.echo(
            f"未答复 {tally['open']} 件，其中逾期 {tally['overdue']} 件，临期 {tally['at_risk']} 件", err=True
        )
    if remind:
        cfg = notify.config_from_env()
        if cfg is None:
            click.echo("未配置 PORTAL_SMTP_HOST，不发送提醒邮件", err=True)
        else:
            with jobs.run("cases.remind") as job:
                sent = notify.send(cfg, case_messages.digests(cfg, found))
                job.summary = f"已发送督办提醒邮件 {sent} 封"
            click.echo(f"已发送督办提醒邮件 {sent} 封", err=True)


@click.command("assess")
@click.option("--year", type=int, required=True, help="考核年度，如 2026")
@click.option("--out", type=click.Path(dir_okay=False), required=True, help="Excel 文件（.xlsx）")
@click.option(
    "--word", "word_dir", type=click.Path(file_okay=False), help="另在此文件夹为每个单位生成 Word 报告"
)
def assess_command(year: int, out: str, word_dir: str | None) -> None:
    """Annual assessment (年度考核): per cadre and unit, heatmap and ranking, as a workbook."""
    from .. import assessment  # per command: openpyxl and python-docx load only for the assessment

    try:
        with open_db() as db:
            result = assessment.assess(db, year)
    except PortalError as exc:
        fail(exc.message)
    Path(out).write_bytes(assessment.export_xlsx(result))
    t = result.total
    click.echo(
        f"{year} 年度：干部 {len(result.cadres)} 人，单位 {len(result.units)} 个，考核项 {t.assessed} 项，"
        f"已完成 {t.met}，未完成 {t.missed}，进行中 {t.in_progress}，完成率 {t.rate_text}；已写入 {out}"
    )
    if word_dir:
        folder = Path(word_dir)
        folder.mkdir(parents=True, exist_ok=True)
        for u in result.units:
            safe = "".join(ch if ch not in '\\/:*?"<>|' else "_" for ch in u.unit)
            (folder / f"{year}年度考核-{safe}.docx").write_bytes(assessment.unit_report_docx(result, u.unit))
        click.echo(f"已生成 {len(result.units)} 份单位报告：{folder}")


@click.command("ledger")
@click.option("--dept", "department", default="", help="责任部门，如 党办、教务处（默认：全校全部制度）")
@click.option("--from", "start", required=True, help="开始日期 YYYY-MM-DD")
@click.option("--to", "end", help="截止日期 YYYY-MM-DD（默认今天）")
@click.option("--out", type=click.Path(dir_okay=False), required=True, help="Excel 文件（.xlsx）")
def ledger_command(department: str, start: str, end: str | None, out: str) -> None:
    """A responsible department's ledger (工作台账) as a workbook, one sheet per system."""
    from .. import ledger  # per command: openpyxl (its workbook) stays out of every other command's start

    system = User(id=0, username="system", display_name="命令行", roles=[Role(role="admin")])
    try:
        since = dates.parse_date(start, "--from")
        until = dates.parse_date(end, "--to") if end else dates.today()
        with open_db() as db:
            book = ledger.build(db, system, department=department, since=since, until=until)
            data = ledger.export_xlsx(db, book)
    except PortalError as exc:
        fail(exc.message)
    Path(out).write_bytes(data)
    counts = "，".join(f"{s} {n}" for s, n in book.sizes.items())
    click.echo(f"{book.name} {since} 至 {until}：{counts}；学校层面制度 {len(book.duties)} 项；已写入 {out}")
