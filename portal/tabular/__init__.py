"""Reading the sheets people keep in Excel or WPS: CSV/tab text (``delimited``) or .xlsx, its first
sheet (``xlsx``), within the limits of ``limits``; and the clean text of a cell (``check_text``).

Rows come back with the row number the spreadsheet shows (header = its row), so that error
reports point where the user looks. Any damage becomes one Chinese message (``ImportRejected``),
never a traceback.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from .. import config
from ..errors import ImportRejected, RowError
from ..text import EMOJI_JOINERS, LINE_BREAKS, control_character
from . import limits
from .delimited import decode, read_text
from .limits import refuse
from .xlsx import read_xlsx

LIST_SPLIT = re.compile(r"[;；]")


@dataclass
class Sheet:
    header: list[str]
    rows: list[tuple[int, Row]]  # (spreadsheet row number, {column: value})
    encoding: str = ""  # how the file was read: UTF-8, GB18030（含 GBK）, UTF-16, Excel 工作簿

    def texts(self, row: Row) -> list[str]:
        """A row's cells as the preview shows them (dates ISO), one per header column."""
        return [cell_text(row.get(h)) if h else "" for h in self.header]


class Row(Mapping):
    """One data row as a read-only mapping column → value, sharing the header's index (a
    100k-row sheet as dicts would cost several times the memory)."""

    __slots__ = ("_index", "_values")

    def __init__(self, index: dict[str, int], values: list[object]):
        self._index = index
        self._values = values

    def __getitem__(self, column: str) -> object:
        i = self._index[column]
        return self._values[i] if i < len(self._values) else None

    def get(self, column: str, default: object = None) -> object:
        i = self._index.get(column)
        if i is None or i >= len(self._values):
            return default
        return self._values[i]

    def __iter__(self):
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)


def split_list(value: object) -> list[str]:
    """A cell holding a list separated by ``;`` or ``；``."""
    return [part.strip() for part in LIST_SPLIT.split(str(value or "")) if part.strip()]


def cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def read_sheet(filename: str, data: bytes) -> Sheet:
    """Parse an uploaded file; raises ImportRejected (in Chinese) when it cannot be read at all."""
    name = filename.lower()
    if not data:
        raise refuse("文件是空的")
    if len(data) > config.settings().max_upload_bytes:
        limit = config.settings().max_upload_bytes / 1024 / 1024
        raise refuse(f"文件过大（{len(data) / 1024 / 1024:.1f} MB，上限 {limit:g} MB）", "文件过大")
    if name.endswith(".xlsx"):
        table, encoding = read_xlsx(data), "Excel 工作簿（.xlsx）"
    elif name.endswith((".csv", ".txt", ".tsv")):
        text, encoding = decode(data)
        table = read_text(text)
    else:
        raise refuse(
            "只接受 .csv、.txt 或 .xlsx 文件（.xls 请在 Excel/WPS 中另存为 .xlsx）", "文件类型不受支持"
        )
    sheet = _sheet(table)
    sheet.encoding = encoding
    return sheet


def _sheet(table: Iterator[tuple[int, list[object]]]) -> Sheet:
    header: list[str] | None = None
    rows: list[tuple[int, Row]] = []
    index: dict[str, int] = {}
    for number, raw in table:
        if header is None:
            if not any(cell_text(c) for c in raw):
                if number > 20:
                    break
                continue
            header = [cell_text(c) for c in raw[: limits.MAX_COLUMNS]]
            errors = [RowError(number, h, "表头重复") for i, h in enumerate(header) if h and h in header[:i]]
            if errors:
                raise ImportRejected(errors)
            index = {h: i for i, h in enumerate(header) if h}
            width = len(header)
            continue
        if len(rows) >= limits.MAX_ROWS:
            raise refuse(f"行数超过上限 {limits.MAX_ROWS:,}，请分成几个文件导入", "文件过大")
        values = raw if len(raw) <= width else raw[:width]
        if all(v is None or v == "" or (isinstance(v, str) and not v.strip()) for v in values):
            continue
        rows.append((number, Row(index, values)))
    if header is None:
        raise refuse("第一行应为表头，但文件中没有表头")
    return Sheet(header=header, rows=rows)


def check_text(
    value: object,
    column: str,
    row: int,
    errors: list[RowError],
    required: bool = False,
    max_len: int = limits.MAX_CELL,
) -> str:
    """A cell as clean text; records a RowError for a missing required value, control characters or length."""
    text = cell_text(value)
    if required and not text:
        errors.append(RowError(row, column, "必填，不能为空"))
    elif control_character(text, allow=LINE_BREAKS + "\r" + EMOJI_JOINERS) is not None:
        errors.append(RowError(row, column, "含有不可见的控制字符"))
    elif len(text) > max_len:
        errors.append(RowError(row, column, f"内容过长（{len(text)} 字，上限 {max_len}）"))
    return text


def write_xlsx_template(columns: Sequence[str], example: Sequence[object] | None = None) -> bytes:
    """A template users download and fill: the header row, and one example row when given."""
    # here: openpyxl loads only when a template is downloaded, not for every file read
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.worksheet import Worksheet

    wb = Workbook()
    ws = wb.active
    assert isinstance(ws, Worksheet)  # a new workbook's one sheet
    ws.append(list(columns))
    if example:
        ws.append([str(v) for v in example])
        for cell in ws[2]:
            cell.data_type = "s"  # text as typed: 工号 keeps leading zeros, dates stay as written
    for i, col in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = max(12, len(col) * 3)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
