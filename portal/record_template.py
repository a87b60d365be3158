"""Builds ``templates/record_form.docx``: the policy's attachment 《领导干部联系师生工作记录表》.

The layout is the policy attachment's (附件; docs/rules.md §6): the title, then one bordered table
with the labels on the left — 领导干部姓名 | 职务 and 时间 | 地点 paired on one row each,
then 联系对象, 联系工作开展情况, 联系对象反映的意见和建议 and 落实情况 as tall rows — on A4,
with the East-Asian font set on every run and on the Normal style, and a line to sign.

Each value cell holds one docxtpl placeholder in a single run (``{{ name }}`` …), which
``portal.record_form`` fills with autoescape on. ``portal forms template`` rebuilds the file;
a test checks that the committed file matches this script.
"""

from __future__ import annotations

import io
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_ROW_HEIGHT_RULE, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from .config import TEMPLATES_DIR

TEMPLATE_PATH = TEMPLATES_DIR / "record_form.docx"
TITLE = "领导干部联系师生工作记录表"
BODY_FONT = "宋体"
TITLE_FONT = "黑体"
# (label as printed on the attachment, placeholder, row height in cm or None)
PAIRED_ROWS = [
    (("领导干部姓名", "name"), ("职  务", "post")),
    (("时  间", "date"), ("地  点", "place")),
]
TALL_ROWS = [
    ("联系对象", "counterpart", 2.6),
    ("联系工作\n开展情况", "content", 7.0),
    ("联系对象反映的意见和建议", "opinions", 5.2),
    ("落实情况", "followup", 4.2),
]
# label, value, label, value: 16 cm, the text width of A4 with 2.5 cm margins
COLUMN_WIDTHS = (Cm(3.6), Cm(5.0), Cm(2.4), Cm(5.0))
PLACEHOLDERS = [p for row in PAIRED_ROWS for _, p in row] + [p for _, p, _ in TALL_ROWS]
LABELS = [label for row in PAIRED_ROWS for label, _ in row] + [label for label, _, _ in TALL_ROWS]


def _font(run, name: str, size: float, bold: bool = False) -> None:
    run.font.name = name
    run.font.size = Pt(size)
    run.font.bold = bold
    rpr = run._element.get_or_add_rPr()
    rpr.get_or_add_rFonts().set(qn("w:eastAsia"), name)


def _write(cell, text: str, *, bold: bool = False, center: bool = True) -> None:
    """One paragraph per line of ``text``; every run with its East-Asian font."""
    for extra in cell.paragraphs[1:]:
        extra._element.getparent().remove(extra._element)
    lines = text.split("\n")
    paragraph = cell.paragraphs[0]
    for i, line in enumerate(lines):
        if i:
            paragraph = cell.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER if center else WD_ALIGN_PARAGRAPH.LEFT
        _font(paragraph.add_run(line), BODY_FONT, 12, bold)
    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER if center else WD_CELL_VERTICAL_ALIGNMENT.TOP


def build_template() -> bytes:
    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = BODY_FONT
    normal.font.size = Pt(12)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), BODY_FONT)
    normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.line_spacing = 1.25

    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2.5)
    section.top_margin, section.bottom_margin = Cm(2.5), Cm(2.2)

    title = doc.paragraphs[0] if doc.paragraphs else doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.paragraph_format.space_after = Pt(12)
    _font(title.add_run(TITLE), TITLE_FONT, 18, bold=True)

    table = doc.add_table(rows=len(PAIRED_ROWS) + len(TALL_ROWS), cols=4)
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for column, width in zip(table.columns, COLUMN_WIDTHS, strict=True):
        column.width = width  # the grid LibreOffice lays out by
    for row in table.rows:
        for cell, width in zip(row.cells, COLUMN_WIDTHS, strict=True):
            cell.width = width
    for r, pair in enumerate(PAIRED_ROWS):
        row = table.rows[r]
        row.height, row.height_rule = Cm(1.3), WD_ROW_HEIGHT_RULE.AT_LEAST
        for c, (label, placeholder) in enumerate(pair):
            _write(row.cells[2 * c], label, bold=True)
            _write(row.cells[2 * c + 1], "{{ " + placeholder + " }}")
    for r, (label, placeholder, height) in enumerate(TALL_ROWS, start=len(PAIRED_ROWS)):
        row = table.rows[r]
        row.height, row.height_rule = Cm(height), WD_ROW_HEIGHT_RULE.AT_LEAST
        _write(row.cells[0], label, bold=True)
        value = row.cells[1].merge(row.cells[3])
        _write(value, "{{ " + placeholder + " }}", center=False)

    # below the table: the cadre signs; who entered the record and when, for the file
    for text, before in (
        ("领导干部（签字）：" + "\u3000" * 9 + "年\u3000\u3000月\u3000\u3000日", 18),
        ("记录人：{{ recorder }}\u3000\u3000录入日期：{{ filled }}", 6),
    ):
        paragraph = doc.add_paragraph()
        paragraph.paragraph_format.space_before = Pt(before)
        _font(paragraph.add_run(text), BODY_FONT, 12)

    doc.core_properties.title = TITLE
    doc.core_properties.author = "联系师生服务平台"
    doc.core_properties.comments = ""
    for rid in [rid for rid, rel in doc.part.rels.items() if rel.reltype.endswith("/stylesWithEffects")]:
        doc.part.rels.pop(rid)  # Word 2010's optional copy of styles.xml: 440 KB for nothing
    package_rels = doc.part.package.rels
    for rid in [rid for rid, rel in package_rels.items() if rel.reltype.endswith("/thumbnail")]:
        package_rels.pop(rid)  # python-docx's default template carries a stock thumbnail
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def write_template(path: Path = TEMPLATE_PATH) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(build_template())
    return path
