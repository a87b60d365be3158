"""The listed contact activities as a workbook (the safe replacement for a table's CSV download)."""

from __future__ import annotations

from . import states
from .activities import Activity

EXPORT_COLUMNS = [
    ("编号", 8),
    ("日期", 12),
    ("领导干部", 10),
    ("工号", 11),
    ("制度", 12),
    ("类别", 14),
    ("地点", 16),
    ("联系对象", 22),
    ("参加人员", 18),
    ("联系工作开展情况", 40),
    ("意见和建议", 40),
    ("落实情况", 30),
    ("录入人", 10),
    ("状态", 8),
]


def export_xlsx(found: list[Activity], title: str = "联系活动记录") -> bytes:
    """The listed activities as a workbook, every text exactly as typed (text cells: a value such
    as ``=HYPERLINK(…)`` is shown, never run); the safe replacement for a table's CSV download."""
    # here: openpyxl loads only for a workbook, not for every importer
    from . import sheets

    wb, ws = sheets.workbook_sheet("联系活动", title, EXPORT_COLUMNS, subtitle=f"共 {len(found)} 条")
    for a in found:
        ws.append(
            sheets.safe_row(
                [
                    a.id,
                    a.date.isoformat(),
                    a.cadre_name,
                    a.cadre_staff_no,
                    a.system,
                    a.subtype,
                    a.place,
                    a.counterpart_text,
                    a.participants,
                    a.content,
                    a.opinions_text,
                    a.followup,
                    a.entered_by_name,
                    states.activity_label(True) if a.voided else "",
                ]
            )
        )
    return sheets.to_bytes(wb)
