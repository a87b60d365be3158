"""账号开通通知: what an administrator hands to the people whose accounts he just opened.

New accounts (an import of 账号, 新建账号, a reset password) come with a random initial password the
portal keeps only as a hash. The administrator who made them gets them once, as files to hand on:

* ``workbook`` — 新开通账号清单.xlsx: account, name, roles, initial password, one row each;
* ``notices`` — 账号开通通知.docx: one page per person (the portal's address, the account, the initial
  password, what to do at first login), to print and hand over or seal in an envelope;
* ``notices_pdf`` — the same as PDF, when LibreOffice is installed (``record_form.soffice``).

The files are built in memory and served a single time to that administrator only (``common.owned``
with ``once``; ``portal.downloads``); nothing of them is stored. User text (names) is set as text
in the Word file: python-docx escapes it, no template is rendered.
"""

from __future__ import annotations

import datetime as dt
import io
import tempfile
from dataclasses import dataclass
from pathlib import Path

from . import branding, dates, links

TITLE = "账号开通通知"
BODY_FONT = "宋体"


@dataclass(frozen=True)
class NewAccount:
    username: str
    name: str
    password: str
    roles: str = ""  # the roles' Chinese names, 、-separated


def workbook(accounts: list[NewAccount], made_by: str, on: dt.date | None = None) -> bytes:
    """新开通账号清单: one row per account, its initial password beside it."""
    # here: openpyxl loads only for a workbook, not for every importer
    from . import sheets

    wb, ws = sheets.workbook_sheet(
        "新开通账号",
        "新开通账号及初始密码",
        [("账号", 16), ("姓名", 14), ("角色", 24), ("初始密码", 18)],
        subtitle=f"{made_by}开通，{dates.format_date(on or dates.today())}。请妥善保管，转交本人后销毁本文件。",
    )
    for a in accounts:
        ws.append(sheets.safe_row([a.username, a.name, a.roles, a.password]))
    return sheets.to_bytes(wb)


def _font(run, size: float, bold: bool = False) -> None:
    # here: python-docx loads only when notices are made; every import of a file imports this module
    from docx.oxml.ns import qn
    from docx.shared import Pt

    run.font.name = BODY_FONT
    run.font.size = Pt(size)
    run.font.bold = bold
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), BODY_FONT)


def notices(accounts: list[NewAccount], on: dt.date | None = None) -> bytes:
    """账号开通通知: one printable page per person."""
    # here: python-docx loads only when notices are made; every import of a file imports this module
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK

    document = Document()
    day = dates.format_date(on or dates.today(), weekday=False)
    address = links.base_url()
    for n, a in enumerate(accounts):
        title = document.add_paragraph()
        title.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _font(title.add_run(branding.brand().headed(TITLE)), 18, bold=True)  # 河南理工大学账号开通通知
        greeting = document.add_paragraph()
        _font(greeting.add_run(f"{a.name}：" if a.name else "您好："), 12)
        intro = document.add_paragraph()
        _font(intro.add_run(f"您在{branding.brand().title}的账号已经开通，登录信息如下："), 12)
        table = document.add_table(rows=0, cols=2)
        table.style = "Table Grid"
        for label, value in (
            ("平台地址", address),
            ("账号（工号或学号）", a.username),
            ("初始密码", a.password),
            *((("角色", a.roles),) if a.roles else ()),
        ):
            cells = table.add_row().cells
            _font(cells[0].paragraphs[0].add_run(label), 12, bold=True)
            _font(cells[1].paragraphs[0].add_run(value), 14 if label == "初始密码" else 12)
        for line in (
            "首次登录后请立即修改密码（我的账号 → 修改密码）。初始密码不含容易混淆的字符（0 与 O、1 与 l 与 I）。",
            "请勿把密码告诉他人；本通知请妥善保管或阅后销毁。如忘记密码，请联系系统管理员重置。",
        ):
            _font(document.add_paragraph().add_run(line), 11)
        signed = document.add_paragraph()
        signed.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        _font(signed.add_run(f"{branding.brand().title}　{day}"), 11)
        if n < len(accounts) - 1:
            document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def notices_pdf(docx: bytes) -> bytes | None:
    """The notices as PDF, or None when LibreOffice is not installed."""
    from .record_form import soffice, to_pdf  # here: the record form loads docxtpl and Word's templates

    if soffice() is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / f"{TITLE}.docx"
        source.write_bytes(docx)
        (pdf,) = to_pdf([source], Path(tmp))
        return pdf.read_bytes()
