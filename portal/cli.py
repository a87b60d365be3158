"""``portal`` — the command line for the IT office and for scheduled jobs.

A command that needs a heavy library (Streamlit, openpyxl, python-docx, docxtpl) imports the module
that uses it when it runs, so the others — ``portal notify run --once``, started every minute by a
timer — start without it."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import sys
from pathlib import Path
from typing import NoReturn

import click

from . import (
    __version__,
    accounts,
    api_tokens,
    audit,
    backups,
    case_actions,  # noqa: F401 - listens to calendar changes (portal calendar load)
    case_export,
    case_messages,
    cases,
    config,
    dates,
    imports,
    jobs,
    logs,
    notify,
    org,
    provisioning,
    retention,
    seeds,
    sessions,
    sso,
    workdays,
)
from . import quota as quotas
from .accounts import Role, User
from .db import open_db
from .errors import ImportRejected, PortalError
from .notify import dispatch, outbox
from .reception import roster

log = logging.getLogger("portal.cli")


def fail(message: str) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(1)


DEMO_WARNING = (
    "警告：本数据库中仍有使用公开演示密码 demo1234 的演示账号（包括管理员 admin），任何能访问本平台的人都能登录。"
    "正式使用前请用 portal init 新建数据库，或修改这些账号的密码。\n"
    "WARNING: demo accounts (the administrator admin among them) still have the published demo password "
    "demo1234: anyone who reaches the portal can log in. Start from a new database (portal init) or change "
    "their passwords before real use."
)


def check_settings() -> None:
    """Every command starts by checking the settings: a bad value stops it here, named, in
    Chinese and English (exit status 2), before it touches anything."""
    try:
        config.settings()
    except config.SettingsError as exc:
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


@cli.command("config")
def config_command() -> None:
    """Check the settings and print those in force, and where each came from (secrets hidden)."""
    for variable, value, source in config.describe():
        click.echo(f"{variable}={value}\t# {source}")


@cli.command()
def init() -> None:
    """Create the database or migrate it to the current schema."""
    with open_db() as db:
        sessions.secret_key(db)
        added = seeds.seed(db)  # holidays (and years a newer chinesecalendar brings), semesters
    click.echo(f"数据库已就绪：{config.db_path()}")
    if added:
        click.echo(f"已载入 {added[0]}–{added[-1]} 年的法定节假日安排")


@cli.command()
@click.option("--seed", default=1, show_default=True, help="随机种子：同一种子生成同样的数据")
@click.option("--scale", default=1, show_default=True, help="规模倍数（--scale 10 用于基准测试）")
@click.option("--force", is_flag=True, help="数据库已有数据时先清空")
def demo(seed: int, scale: int, force: bool) -> None:
    """Fill the database with a believable demo university."""
    from . import demo as demo_data  # per command: the demo university is for demos and tests only

    path = config.db_path()
    if path.exists():
        with open_db() as db:
            populated = db.execute("SELECT count(*) FROM units").fetchone()[0] > 0
        if populated and not force:
            click.echo(f"数据库 {path} 已有数据，未作修改（使用 --force 清空后重建）。")
            return
        if populated:
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
    with open_db() as db:
        summary = demo_data.build(db, seed=seed, scale=scale)  # its calendar step seeds
    for line in summary:
        click.echo(line)


@cli.command()
@click.option("--port", default=8501, show_default=True)
@click.option(
    "--address",
    default="127.0.0.1",
    show_default=True,
    help="监听地址：默认只有本机可访问（由 nginx 转发）；0.0.0.0 对所有网络开放",
)
def serve(port: int, address: str) -> None:
    """Start the production server (app, login routes, /_stcore/health)."""
    try:
        sso.require_public_url(sso.cas_settings())
    except sso.PublicUrlMissing as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    with contextlib.ExitStack() as held:
        try:  # held until the server stops: no `portal restore` under it, and none under way now
            held.enter_context(backups.serving())
        except PortalError as exc:
            fail(exc.message)
        with open_db() as db:
            demo_exposed = accounts.demo_passwords_in_use(db)
        if demo_exposed:
            click.echo(DEMO_WARNING, err=True)
        from .server import serve as run  # per command: Streamlit and uvicorn load only to serve

        run(port=port, address=address)


@cli.command("import")
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


@cli.group()
def user() -> None:
    """Accounts."""


@user.command("add")
@click.argument("username")
@click.option("--name", "display_name", help="姓名（默认同账号）")
@click.option("--admin", is_flag=True, help="管理员")
@click.option("--role", "roles", multiple=True, type=click.Choice(["visitor", "cadre", "department"]))
@click.option("--department", default="", help="部门角色所属的责任部门")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def user_add(
    username: str,
    display_name: str | None,
    admin: bool,
    roles: tuple[str, ...],
    department: str,
    password: str,
) -> None:
    """Create an account (the first administrator: portal user add admin --admin)."""
    role_list = [accounts.Role(role=r, department=department if r == "department" else "") for r in roles]
    if admin:
        role_list.append(accounts.Role(role="admin"))
    try:
        # linked to the person with this 工号, and named after him or her when --name is absent
        with open_db() as db:
            # an initial password, as an administrator's: changed at the first login
            created = accounts.create_user(db, username, display_name, password, role_list, must_change=True)
    except PortalError as exc:
        fail(exc.message)
    click.echo(f"已建立账号 {created.username}（{'、'.join(r.label for r in created.roles) or '无角色'}）")


@user.command("reset-password")
@click.argument("username")
@click.option("--password", help="新密码（不给则随机生成并显示）")
def user_reset(username: str, password: str | None) -> None:
    """Set a new password, unlock the account and end its sessions."""
    try:
        with open_db() as db:
            new = accounts.reset_password(db, username, password)
    except PortalError as exc:
        fail(exc.message)
    click.echo(f"账号 {username} 的密码已重置。" + ("" if password else f"新密码：{new}"))


@user.command("link")
@click.argument("username")
@click.argument("identity")
def user_link(username: str, identity: str) -> None:
    """Let the campus identity IDENTITY (工号/学号) log into USERNAME: the only way to an administrator's
    or a department's account by single sign-on (audited)."""
    try:
        with open_db() as db:
            provisioning.link(db, username, identity)
    except PortalError as exc:
        fail(exc.message)
    click.echo(f"已关联：统一身份认证账号 {identity} 可登录账号 {username}")


@user.command("unlink")
@click.argument("identity")
def user_unlink(identity: str) -> None:
    """Remove the link of the campus identity IDENTITY (audited; the sessions it opened end)."""
    try:
        with open_db() as db:
            provisioning.unlink(db, identity)
    except PortalError as exc:
        fail(exc.message)
    click.echo(f"已解除统一身份认证账号 {identity} 的关联")


@user.command("links")
@click.argument("username", required=False)
def user_links(username: str | None) -> None:
    """List the campus identities linked to accounts (all, or USERNAME's)."""
    with open_db() as db:
        found = accounts.find_user(db, username) if username else None
        if username and found is None:
            fail(f"账号“{username}”不存在")
        for item in provisioning.links(db, found.id if found else None):
            click.echo(f"{item.staff_no}\t{item.username}\t{item.linked_at}\t{item.linked_by or '命令行'}")


@cli.command()
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


@cli.command()
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


@cli.group()
def forms() -> None:
    """《领导干部联系师生工作记录表》: the Word template and batch export."""


@forms.command("template")
@click.option("--out", type=click.Path(dir_okay=False), help="写到此文件（默认 templates/record_form.docx）")
def forms_template(out: str | None) -> None:
    """Rebuild the record-form template from portal/record_template.py."""
    from . import record_template  # per command: python-docx loads only to build the template

    path = record_template.write_template(Path(out) if out else record_template.TEMPLATE_PATH)
    click.echo(f"记录表模板已生成：{path}")


@forms.command("export")
@click.option(
    "--out", required=True, type=click.Path(), help="目录（每条记录一个 .docx），或以 .zip 结尾的文件"
)
@click.option("--cadre", help="只导出此工号的干部")
@click.option("--period", help="期间：2026、2026-03、2026-2027、2026-2027-1")
@click.option("--system", help="只导出此制度，如 听课")
@click.option("--pdf", is_flag=True, help="同时生成 PDF（需要安装 LibreOffice）")
def forms_export(out: str, cadre: str | None, period: str | None, system: str | None, pdf: bool) -> None:
    """Write one record form per activity, named by date, name and system."""
    from . import record_form  # per command: docxtpl and Word load only to write forms

    try:
        with open_db() as db:
            admin = accounts.User(
                id=0, username="cli", display_name="命令行", roles=[accounts.Role(role="admin")]
            )
            result = record_form.export_forms(
                db, admin, out, cadre=cadre, period=period, system=system, pdf=pdf
            )
    except PortalError as exc:
        fail(exc.message)
    extra = f"，PDF {result.pdf} 份" if pdf else ""
    click.echo(f"已导出记录表 {result.count} 份{extra}：{result.target}")


@cli.group()
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


@cli.group()
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
        rows = [
            {
                "date": d.date.isoformat(),
                "staff_no": d.leader_staff_no,
                "name": d.leader_name,
                "title": d.leader_title,
                "place": d.place,
                "status": d.status,
                "bookings": d.booked,
            }
            for d in days
        ]
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


@cli.command()
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


@cli.command("cases")
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


@cli.command("assess")
@click.option("--year", type=int, required=True, help="考核年度，如 2026")
@click.option("--out", type=click.Path(dir_okay=False), required=True, help="Excel 文件（.xlsx）")
@click.option(
    "--word", "word_dir", type=click.Path(file_okay=False), help="另在此文件夹为每个单位生成 Word 报告"
)
def assess_command(year: int, out: str, word_dir: str | None) -> None:
    """Annual assessment (年度考核): per cadre and unit, heatmap and ranking, as a workbook."""
    from . import assessment  # per command: openpyxl and python-docx load only for the assessment

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


@cli.command("ledger")
@click.option("--dept", "department", default="", help="责任部门，如 党办、教务处（默认：全校全部制度）")
@click.option("--from", "start", required=True, help="开始日期 YYYY-MM-DD")
@click.option("--to", "end", help="截止日期 YYYY-MM-DD（默认今天）")
@click.option("--out", type=click.Path(dir_okay=False), required=True, help="Excel 文件（.xlsx）")
def ledger_command(department: str, start: str, end: str | None, out: str) -> None:
    """A responsible department's ledger (工作台账) as a workbook, one sheet per system."""
    from . import ledger  # per command: openpyxl (its workbook) stays out of every other command's start

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


@cli.group("token")
def token_group() -> None:
    """API tokens for other campus systems (docs/api.md): issue, list, revoke."""


@token_group.command("issue")
@click.argument("name")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    type=click.Choice(sorted(api_tokens.SCOPES)),
    help="权限范围（可多次给出）",
)
@click.option("--days", default=180, show_default=True, help=f"有效期（天，至多 {api_tokens.MAX_DAYS}）")
def token_issue(name: str, scopes: tuple[str, ...], days: int) -> None:
    """Issue a token; it is printed once, on stdout (only its hash is kept)."""
    try:
        with open_db() as db:
            record, token = api_tokens.issue(db, name, list(scopes), days, None)
    except PortalError as exc:
        fail(exc.message)
    click.echo(
        f"已签发令牌 #{record.id}（{record.name}，{'、'.join(record.scopes)}，有效至 {record.expires_at}）",
        err=True,
    )
    click.echo(token)


@token_group.command("list")
def token_list() -> None:
    """Every token: id, name, scopes, state, expiry, last use (never the token itself)."""
    with open_db() as db:
        found = api_tokens.list_tokens(db)
    for t in found:
        click.echo(
            f"{t.id}\t{t.name}\t{','.join(t.scopes)}\t{t.state_label}\t{t.expires_at}\t{t.last_used_at or '未使用'}"
        )
    click.echo(f"共 {len(found)} 个令牌", err=True)


@token_group.command("revoke")
@click.argument("token_id", type=int)
def token_revoke(token_id: int) -> None:
    """Revoke a token by its id: it stops working at once."""
    try:
        with open_db() as db:
            api_tokens.revoke(db, token_id, None)
    except PortalError as exc:
        fail(exc.message)
    click.echo(f"已撤销令牌 #{token_id}")


@cli.command("provisioning")
@click.argument("state", type=click.Choice(["on", "off", "status"]), default="status")
def provisioning_command(state: str) -> None:
    """自动开通师生账号: whether single sign-on opens a 师生 account for an unknown person."""
    with open_db() as db:
        if state != "status":
            provisioning.set_enabled(db, state == "on", None)
        on = provisioning.enabled(db)
    click.echo("自动开通师生账号：" + ("已开启" if on else "已关闭"))


@cli.group("audit")
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


@cli.command("purge")
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


def main() -> None:  # pragma: no cover

    cli()


@cli.group("notify")
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
