"""``portal forms …``: the record form's Word template and its batch export."""

from __future__ import annotations

from pathlib import Path

import click

from .. import accounts
from ..db import open_db
from ..errors import PortalError
from .common import fail


@click.group()
def forms() -> None:
    """《领导干部联系师生工作记录表》: the Word template and batch export."""


@forms.command("template")
@click.option("--out", type=click.Path(dir_okay=False), help="写到此文件（默认 templates/record_form.docx）")
def forms_template(out: str | None) -> None:
    """Rebuild the record-form template from portal/record_template.py."""
    from .. import record_template  # per command: python-docx loads only to build the template

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
    from .. import record_form  # per command: docxtpl and Word load only to write forms

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
