"""Text comes out as it went in: exports keep values that look like formulas (as text, never as
formulas), Word forms keep docxtpl's own escapes literally, and every free text refuses
characters that hide or reorder what a reader sees."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from docx import Document
from openpyxl import load_workbook

from portal import (
    accounts,
    assignments,
    case_export,
    case_opening,
    cases,
    imports,
    org,
    record_form,
    sheets,
    text,
)
from portal.accounts import Role
from portal.assignments import AssignmentInput, TargetInput
from portal.errors import ImportRejected, ValidationError

LOOKS_LIKE_FORMULAS = [
    '=HYPERLINK("http://evil.example/","点我查看")',
    "=1+1",
    "+86 138 0000 0000",
    "-5 分，扣分原因不明",
    "@所有人 请注意",
    "'已有的撇号",
]


def test_a_workbook_keeps_text_that_looks_like_a_formula_as_text():
    wb, ws = sheets.workbook_sheet("t", "标题", [("内容", 30), ("数", 8)])
    for value in LOOKS_LIKE_FORMULAS:
        ws.append(sheets.safe_row([value, 3]))
    back = load_workbook(io.BytesIO(sheets.to_bytes(wb))).active
    rows = list(back.iter_rows(min_row=3))
    assert [r[0].value for r in rows] == LOOKS_LIKE_FORMULAS  # no apostrophe added
    assert all(r[0].data_type == "s" for r in rows)  # text cells: Excel runs nothing
    assert all(r[1].value == 3 for r in rows)  # numbers stay numbers


def test_the_case_export_round_trips_an_opinion_that_looks_like_a_formula(db):
    admin = accounts.create_user(db, "admin1", "管理员", "Passw0rd!x", [Role(role="admin")])
    opened = [
        case_opening.open_case(
            db, source="other", content=value, responsible_dept="党办", contact_date=dt.date(2026, 11, 24)
        )
        for value in LOOKS_LIKE_FORMULAS
    ]
    listed = [cases.get_case(db, c.id, admin) for c in opened]
    ws = load_workbook(io.BytesIO(case_export.export_xlsx(listed))).active
    column = [c.value for c in ws[3]].index("反映内容") + 1 if "反映内容" in [c.value for c in ws[3]] else 7
    values = [ws.cell(row=4 + i, column=column) for i in range(len(listed))]
    assert [v.value for v in values] == LOOKS_LIKE_FORMULAS
    assert all(v.data_type == "s" for v in values)


# --- Word forms ---------------------------------------------------------------------------

TEMPLATE_LOOKING = "写法示例：{_{ 姓名 }_} 和 {_% if %_}，以及 {{ name }}、{% for %} 原样"


def _context(value: str) -> dict[str, str]:
    keys = [
        "name",
        "post",
        "date",
        "place",
        "counterpart",
        "content",
        "opinions",
        "followup",
        "recorder",
        "filled",
        "system",
    ]
    return {k: "x" for k in keys} | {"content": value, "opinions": "1. " + value}


@pytest.mark.parametrize("render", [record_form.render_fresh, lambda c: record_form.FormRenderer().render(c)])
def test_the_word_form_keeps_docxtpl_escapes_literally(render):
    doc = Document(io.BytesIO(render(_context(TEMPLATE_LOOKING))))
    cells = [c.text for row in doc.tables[0].rows for c in row.cells]
    assert TEMPLATE_LOOKING in cells
    assert "1. " + TEMPLATE_LOOKING in cells


# --- the one text module: invisible and reordering characters -------------------------------

HIDDEN = {
    "RTL override": "合同\u202egpj.exe",
    "zero-width space": "张\u200b三",
    "zero-width joiner between letters": "张\u200d三",
    "BOM": "\ufeff张三",
    "U+FFFF": "张三\uffff",
    "noncharacter U+FDD0": "张三\ufdd0",
    "plane-1 noncharacter": "张三\U0001fffe",
    "private use": "张三\ue000",
}


@pytest.mark.parametrize("label", list(HIDDEN))
def test_free_text_and_names_refuse_hidden_characters(label):
    with pytest.raises(ValidationError, match="不可见|控制字符"):
        text.free_text(HIDDEN[label], "内容")
    with pytest.raises(ValidationError, match="不可见|控制字符"):
        text.name(HIDDEN[label], "名称")
    with pytest.raises(ValidationError, match="不可见|控制字符"):
        text.line(HIDDEN[label], "名称")


def test_emoji_sequences_and_line_breaks_are_still_fine():
    family = "全家福 👨\u200d👩\u200d👧 ❤\ufe0f"
    assert text.free_text(family, "内容") == family
    assert text.free_text("第一行\n第二行\t缩进", "内容") == "第一行\n第二行\t缩进"
    assert text.line("  计算机学院 （软件学院）  ", "名称") == "计算机学院 （软件学院）"
    with pytest.raises(ValidationError, match="换行"):
        text.line("两\n行", "名称")


@pytest.mark.parametrize("label", ["RTL override", "zero-width space", "U+FFFF"])
def test_assignment_names_refuse_hidden_characters(demo_db, label):
    zuzhi = accounts.find_user(demo_db, "zuzhi")
    with pytest.raises(ValidationError, match="不可见|控制字符"):
        assignments.save_target(
            demo_db, TargetInput(kind="高层次人才", code="T-X", name=HIDDEN[label]), zuzhi
        )
    assignments.save_target(demo_db, TargetInput(kind="高层次人才", code="T-X", name="钱教授"), zuzhi)
    cadre = org.person_by_staff_no(demo_db, "10010001").id
    with pytest.raises(ValidationError, match="不可见|控制字符"):
        assignments.save_assignment(
            demo_db,
            AssignmentInput(
                cadre_id=cadre,
                kind="高层次人才",
                target_code="T-X",
                target_name=HIDDEN[label],
                start_date=dt.date(2026, 11, 24),
            ),
            zuzhi,
        )


def test_an_imported_cell_with_an_rtl_override_is_a_row_error(demo_db):
    sheet = "单位名称,单位类型\n甲\u202e学院,学院\n".encode()
    with pytest.raises(ImportRejected) as rejected:
        imports.run_import(demo_db, "units", "units.csv", sheet)
    assert "不可见" in rejected.value.report() or "控制字符" in rejected.value.report()


def test_the_activity_list_export_keeps_text_exactly(demo_db):
    from portal import activities, activity_export

    admin = accounts.find_user(demo_db, "admin")
    found = activities.list_activities(
        demo_db, admin, since=dt.date(2026, 11, 1), until=dt.date(2026, 11, 24)
    )
    assert found
    found[0] = found[0].model_copy(
        update={"content": LOOKS_LIKE_FORMULAS[0], "place": LOOKS_LIKE_FORMULAS[3]}
    )
    ws = load_workbook(io.BytesIO(activity_export.export_xlsx(found))).active
    row = [c for c in ws[4]]
    assert row[0].value == found[0].id
    assert row[9].value == LOOKS_LIKE_FORMULAS[0] and row[9].data_type == "s"
    assert row[6].value == LOOKS_LIKE_FORMULAS[3]
    assert ws.max_row == 3 + len(found)


def test_text_stored_before_these_rules_does_not_crash_an_export(demo_db, tmp_path):
    """A target name with U+FFFF saved before the text rules (or by hand) crashed `portal ledger`:
    characters XML cannot hold become U+FFFD in the file; everything else is kept."""
    from click.testing import CliRunner

    from portal.cli import cli

    demo_db.execute(
        "UPDATE activities SET content = content || ?, place = ? WHERE id IN "
        "(SELECT id FROM activities WHERE system = '听课' ORDER BY id LIMIT 3)",
        ["\uffff\x01", "=1+1 教室"],
    )
    demo_db.conn.commit()
    path = demo_db.execute("PRAGMA database_list").fetchone()[2]
    out = tmp_path / "ledger.xlsx"
    result = CliRunner().invoke(
        cli,
        [
            "--db",
            path,
            "ledger",
            "--dept",
            "教务处",
            "--from",
            "2025-11-24",
            "--to",
            "2026-11-24",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    values = [c.value for ws in load_workbook(out).worksheets for row in ws.iter_rows() for c in row]
    assert any(isinstance(v, str) and v.endswith("\ufffd\ufffd") for v in values)
    assert "=1+1 教室" in values
    activity_id = demo_db.execute(
        "SELECT id FROM activities WHERE content LIKE ? LIMIT 1", ["%\uffff%"]
    ).fetchone()[0]
    doc = Document(io.BytesIO(record_form.render_record_form(demo_db, activity_id)))
    assert any(c.text.endswith("\ufffd\ufffd") for row in doc.tables[0].rows for c in row.cells)
