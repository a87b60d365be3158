"""Cases out of the portal: the supervision list (督办台账) as a workbook, and as JSON (``portal cases --json``,
the API's shape)."""

from __future__ import annotations

import datetime as dt
import json

from . import dates
from .cases import Case

EXPORT_COLUMNS = [
    ("编号", 12),
    ("来源", 10),
    ("制度", 14),
    ("联系日期", 12),
    ("干部", 10),
    ("提出人", 10),
    ("意见建议", 50),
    ("责任部门", 10),
    ("承办单位", 22),
    ("状态", 9),
    ("办理期限", 12),
    ("提醒", 18),
    ("答复", 50),
    ("答复时间", 18),
    ("重新办理次数", 8),
    ("来源变动", 30),
]


def export_rows(cases: list[Case]) -> list[list]:
    return [
        [
            c.number,
            c.source_label,
            c.system,
            c.contact_date.isoformat(),
            c.cadre_name,
            c.raiser_name,
            c.content,
            c.responsible_dept,
            c.handling_unit_name,
            c.state_label,
            c.due_date.isoformat(),
            c.flag or ("逾期答复" if c.answered_late else ""),
            c.answer,
            dates.format_stamp(c.answered_at) if c.answered_at else "",
            c.reopen_count,
            c.alert,
        ]
        for c in cases
    ]


def export_xlsx(cases: list[Case], title: str = "意见建议办理督办台账", on: dt.date | None = None) -> bytes:
    """The supervision list as a workbook: title row, header, overdue rows in red."""
    # here: openpyxl loads only for a workbook, not for every importer
    from . import sheets

    wb, ws = sheets.workbook_sheet(
        "督办", title, EXPORT_COLUMNS, subtitle=f"截至 {dates.format_date(on or dates.today())}"
    )
    for c, values in zip(cases, export_rows(cases), strict=True):
        ws.append(values, kind="台账逾期" if c.overdue else "台账提醒" if c.at_risk else "台账正文")
    return sheets.to_bytes(wb)


def to_json(cases: list[Case]) -> str:
    return json.dumps(
        [
            {
                "number": c.number,
                "source": c.source,
                "system": c.system,
                "responsible_dept": c.responsible_dept,
                "handling_unit": c.handling_unit_name,
                "state": c.state,
                "contact_date": c.contact_date.isoformat(),
                "due_date": c.due_date.isoformat(),
                "days_left": c.days_left,
                "overdue": c.overdue,
                "at_risk": c.at_risk,
                "cadre": c.cadre_name,
                "content": c.content,
            }
            for c in cases
        ],
        ensure_ascii=False,
        indent=1,
    )
