"""台账 workbooks are streamed (openpyxl write-only) and still read back laid out as a 台账."""

from __future__ import annotations

import datetime as dt
import io

from openpyxl import load_workbook

from portal import sheets

COLUMNS = [("序号", 6), ("内容", 40), ("完成率", 9)]


def _book() -> bytes:
    wb, ws = sheets.workbook_sheet(
        "督办/清单", "意见建议办理督办台账", COLUMNS, subtitle="截至 2026年11月25日"
    )
    ws.append([1, '=HYPERLINK("http://x","点我")', 0.5], formats={3: "0%"})
    ws.append([2, "逾期的一条"], kind="台账逾期")
    ws.append([3, "快到期的一条", None], kind="台账提醒")
    return sheets.to_bytes(wb)


def test_the_workbook_is_written_in_streaming_mode():
    wb, ws = sheets.workbook_sheet("t", "标题", COLUMNS)
    assert wb.write_only  # rows go to a temporary file as appended, not kept as cells
    assert sheets.header_row(ws) == 2 and ws.first_data_row == 3
    assert sheets.to_bytes(wb)[:2] == b"PK"


def test_the_streamed_workbook_reads_back_as_a_ledger():
    ws = load_workbook(io.BytesIO(_book())).active
    assert ws.title == "督办_清单"
    assert ws["A1"].value == "意见建议办理督办台账" and ws["A1"].font.bold
    assert {str(r) for r in ws.merged_cells.ranges} == {"A1:C1", "A2:C2"}
    assert ws["A2"].value == "截至 2026年11月25日"
    assert [c.value for c in ws[3]] == ["序号", "内容", "完成率"]
    assert all(c.font.bold and c.border.left.style == "thin" for c in ws[3])
    assert ws.freeze_panes == "A4"
    assert ws.column_dimensions["B"].width == 40
    # user text that looks like a formula stays text
    assert ws["B4"].data_type == "s" and ws["B4"].value.startswith("=HYPERLINK")
    assert ws["C4"].number_format == "0%" and ws["C4"].value == 0.5
    # every data cell bordered and wrapped, the empty ones too (a table without holes)
    for row in ws.iter_rows(min_row=4, max_row=6):
        for cell in row:
            assert cell.border.bottom.style == "thin" and cell.alignment.wrap_text
    assert ws["A5"].fill.fgColor.rgb.endswith("FDE2E1") and ws["C5"].fill.fgColor.rgb.endswith("FDE2E1")
    assert ws["B6"].fill.fgColor.rgb.endswith("FFF4CE")
    assert not ws["B4"].fill.fgColor.rgb.endswith(("FDE2E1", "FFF4CE"))


def test_dates_and_booleans_keep_their_type():
    wb, ws = sheets.workbook_sheet("t", "标题", COLUMNS)
    ws.append([1, dt.date(2026, 11, 25), True])
    ws.append([2, "文字", False])
    back = load_workbook(io.BytesIO(sheets.to_bytes(wb))).active
    assert back["B3"].value == dt.datetime(2026, 11, 25) and back["B3"].is_date
    assert back["C3"].value is True and back["B4"].value == "文字" and back["C4"].value is False
    assert back["B3"].border.left.style == "thin"
