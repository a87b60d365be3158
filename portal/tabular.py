"""Reading the sheets people keep in Excel: CSV (UTF-8, with or without BOM) or .xlsx (first sheet).

Rows come back with the row number the spreadsheet shows (header = row 1), so that
error reports point where the user looks.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass

from . import config
from .errors import ImportRejected, RowError
from .text import EMOJI_JOINERS, LINE_BREAKS, control_character

LIST_SPLIT = re.compile(r"[;；]")
MAX_ROWS = 200_000
MAX_CELL = 5_000


@dataclass
class Sheet:
    header: list[str]
    rows: list[tuple[int, dict[str, object]]]  # (spreadsheet row number, {column: value})


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
        raise ImportRejected([RowError(1, "", "文件是空的")], "无法读取文件")
    if len(data) > config.MAX_UPLOAD_BYTES:
        limit = config.MAX_UPLOAD_BYTES / 1024 / 1024
        raise ImportRejected([RowError(1, "", f"文件过大（{len(data) / 1024 / 1024:.1f} MB，上限 {limit:g} MB）")],
                             "文件过大")
    if name.endswith(".xlsx"):
        table = _read_xlsx(data)
    elif name.endswith(".csv"):
        table = _read_csv(data)
    else:
        raise ImportRejected([RowError(1, "", "只接受 .csv 或 .xlsx 文件")], "文件类型不受支持")
    if not table or not any(cell_text(c) for c in table[0]):
        raise ImportRejected([RowError(1, "", "第一行应为表头，但文件中没有表头")], "无法读取文件")
    header = [cell_text(c) for c in table[0]]
    errors = [RowError(1, h, "表头重复") for i, h in enumerate(header) if h and h in header[:i]]
    if errors:
        raise ImportRejected(errors)
    rows = []
    for number, raw in enumerate(table[1:], start=2):
        values = {h: raw[i] if i < len(raw) else None for i, h in enumerate(header) if h}
        if all(cell_text(v) == "" for v in values.values()):
            continue
        rows.append((number, values))
    if len(rows) > MAX_ROWS:
        raise ImportRejected([RowError(1, "", f"行数超过上限 {MAX_ROWS}")], "文件过大")
    return Sheet(header=header, rows=rows)


def _read_csv(data: bytes) -> list[list[object]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRejected(
            [RowError(1, "", "文件不是 UTF-8 编码；请在 Excel 中“另存为 CSV UTF-8”，或直接上传 .xlsx")],
            "无法读取文件",
        ) from None
    if "\x00" in text:
        raise ImportRejected([RowError(1, "", "文件含有二进制内容，不是文本 CSV")], "无法读取文件")
    try:
        return [list(r) for r in csv.reader(io.StringIO(text, newline=""))]
    except csv.Error as exc:
        raise ImportRejected([RowError(1, "", f"CSV 格式错误：{exc}")], "无法读取文件") from None


def _read_xlsx(data: bytes) -> list[list[object]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as exc:
        raise ImportRejected(
            [RowError(1, "", f"不是有效的 .xlsx 文件（{type(exc).__name__}）")], "无法读取文件"
        ) from None
    try:
        ws = wb.worksheets[0]
        return [list(r) for r in ws.iter_rows(values_only=True)]
    finally:
        wb.close()


def check_text(
    value: object,
    column: str,
    row: int,
    errors: list[RowError],
    required: bool = False,
    max_len: int = MAX_CELL,
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


def write_xlsx_header_only(columns: list[str]) -> bytes:
    """An empty template with just the header row, for users to download and fill."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(columns)
    for i, col in enumerate(columns, start=1):
        ws.column_dimensions[ws.cell(row=1, column=i).column_letter].width = max(12, len(col) * 3)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
