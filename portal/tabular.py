"""Reading the sheets people keep in Excel or WPS: CSV/tab text or .xlsx (first sheet).

What real files look like, and what this module does about it:

* Text: Excel on a Chinese Windows saves "CSV (逗号分隔)" in GBK, "Unicode 文本" as UTF-16 with
  a BOM and tabs; others save UTF-8 with or without a BOM. The encoding is decided by the BOM,
  else by strict decoding as UTF-8, then GB18030 (a superset of GBK: 4-byte characters such as
  𠀀 survive) — never a guess that could produce mojibake. The separator is a comma or a tab.
* .xlsx is read by a small streaming reader (lxml ``iterparse``): number formats are seen by
  id, so date cells using the zh-CN built-in formats (31 = ``yyyy"年"m"月"d"日"``, referenced
  without a ``<numFmt>`` entry) come back as dates, where general readers see a bare number.
* Hostile files: the declared uncompressed size of every part is checked before anything is
  parsed (a zip inflates no further than it declares: zipfile stops there and the CRC check
  fails), as is its compression ratio; a part with a DTD (billion laughs, XXE) is refused; rows
  are counted while reading and reading stops at the limit; any damage becomes one Chinese
  message (``ImportRejected``), never a traceback.

Rows come back with the row number the spreadsheet shows (header = its row), so that error
reports point where the user looks.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from . import config
from .errors import ImportRejected, RowError
from .text import EMOJI_JOINERS, LINE_BREAKS, control_character

LIST_SPLIT = re.compile(r"[;；]")
MAX_ROWS = 200_000
MAX_CELL = 5_000
MAX_COLUMNS = 200
MAX_XLSX_BYTES = 400 * 1024 * 1024  # all parts together, uncompressed
MAX_RATIO = 100  # real sheets deflate 5–30×; bombs thousands of times
ENCODINGS_TRIED = "UTF-8、GB18030（含 GBK）、UTF-16"
_CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass
class Sheet:
    header: list[str]
    rows: list[tuple[int, Row]]  # (spreadsheet row number, {column: value})


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


def _refuse(reason: str, title: str = "无法读取文件") -> ImportRejected:
    return ImportRejected([RowError(1, "", reason)], f"{title}：{reason}")


def read_sheet(filename: str, data: bytes) -> Sheet:
    """Parse an uploaded file; raises ImportRejected (in Chinese) when it cannot be read at all."""
    name = filename.lower()
    if not data:
        raise _refuse("文件是空的")
    if len(data) > config.settings().max_upload_bytes:
        limit = config.settings().max_upload_bytes / 1024 / 1024
        raise _refuse(f"文件过大（{len(data) / 1024 / 1024:.1f} MB，上限 {limit:g} MB）", "文件过大")
    if name.endswith(".xlsx"):
        table = _read_xlsx(data)
    elif name.endswith((".csv", ".txt", ".tsv")):
        table = _read_text(data)
    else:
        raise _refuse(
            "只接受 .csv、.txt 或 .xlsx 文件（.xls 请在 Excel/WPS 中另存为 .xlsx）", "文件类型不受支持"
        )
    return _sheet(table)


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
            header = [cell_text(c) for c in raw[:MAX_COLUMNS]]
            errors = [RowError(number, h, "表头重复") for i, h in enumerate(header) if h and h in header[:i]]
            if errors:
                raise ImportRejected(errors)
            index = {h: i for i, h in enumerate(header) if h}
            width = len(header)
            continue
        if len(rows) >= MAX_ROWS:
            raise _refuse(f"行数超过上限 {MAX_ROWS:,}，请分成几个文件导入", "文件过大")
        values = raw if len(raw) <= width else raw[:width]
        if all(v is None or v == "" or (isinstance(v, str) and not v.strip()) for v in values):
            continue
        rows.append((number, Row(index, values)))
    if header is None:
        raise _refuse("第一行应为表头，但文件中没有表头")
    return Sheet(header=header, rows=rows)


# --- text: CSV / tab-separated --------------------------------------------------------------


def decode_text(data: bytes) -> str:
    """The text of an uploaded text file: BOM first, then strict UTF-8, then strict GB18030."""
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(encoding)
            except UnicodeDecodeError:
                raise _refuse(f"文件开头标明为 {encoding.upper()} 编码，但内容无法按此编码读取") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        # UTF-8 with a few damaged bytes would often still "decode" as GB18030, as mojibake: when
        # most of its Chinese reads as UTF-8, it is a damaged UTF-8 file, not a GBK one
        lenient = data.decode("utf-8", errors="replace")
        if _CJK.findall(lenient).__len__() > lenient.count("\ufffd"):
            line = data[: exc.start].count(b"\n") + 1
            raise _refuse(
                f"文件是 UTF-8 编码，但第 {line} 行有损坏的字节（已尝试 {ENCODINGS_TRIED}）；请检查该行后重新保存"
            ) from None
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        pass
    raise _refuse(
        f"无法识别文件的文字编码（已尝试 {ENCODINGS_TRIED}）；请在 Excel/WPS 中另存为“CSV UTF-8”或 .xlsx"
    )


def _read_text(data: bytes) -> Iterator[tuple[int, list[object]]]:
    text = decode_text(data)
    if "\x00" in text:
        raise _refuse("文件含有二进制内容，不是文本 CSV")
    first = text.split("\n", 1)[0]
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    return _csv_rows(reader)


def _csv_rows(reader) -> Iterator[tuple[int, list[object]]]:
    number = 0
    try:
        for number, row in enumerate(reader, start=1):  # noqa: B007 — number names the bad line
            if number > MAX_ROWS + 1:
                raise _refuse(f"行数超过上限 {MAX_ROWS:,}，请分成几个文件导入", "文件过大")
            yield number, list(row)
    except csv.Error as exc:
        raise _refuse(f"第 {number + 1} 行 CSV 格式错误（{exc}）") from None


# --- .xlsx -----------------------------------------------------------------------------------

_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
# built-in number formats that are dates: 14–17, 22 everywhere; 27–31, 36, 50–58 in zh-CN/ja/ko,
# where Excel and WPS reference them by id only (no <numFmt> entry in styles.xml)
DATE_FORMAT_IDS = frozenset({14, 15, 16, 17, 22, 27, 28, 29, 30, 31, 36, 50, 51, 52, 53, 54, 55, 56, 57, 58})
_CELL_REF = re.compile(r"([A-Z]{1,3})(\d+)")


def _check_zip(data: bytes) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        parts = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise _refuse("不是有效的 .xlsx 文件（文件不完整或已损坏）") from None
    total = 0
    for part in parts:
        total += part.file_size
        ratio = part.file_size / max(part.compress_size, 1)
        if part.file_size > 1024 * 1024 and ratio > MAX_RATIO:
            raise _refuse(
                f"文件中的“{part.filename[:40]}”压缩比异常（{ratio:,.0f} 倍），疑似压缩炸弹，已拒绝"
            )
    if total > MAX_XLSX_BYTES:
        raise _refuse(
            f"文件解压后过大（{total / 1024 / 1024:,.0f} MB，上限 {MAX_XLSX_BYTES // 1024 // 1024} MB），已拒绝"
        )
    return archive


def _no_dtd(archive: zipfile.ZipFile, name: str) -> None:
    """Refuse a part whose prolog holds a DOCTYPE: OOXML never has one, attacks always do."""
    with archive.open(name) as fh:
        head = fh.read(64 * 1024)
    pos = 3 if head.startswith(codecs.BOM_UTF8) else 0
    while True:
        while pos < len(head) and head[pos : pos + 1].isspace():
            pos += 1
        if head.startswith(b"<?", pos):
            end = head.find(b"?>", pos)
        elif head.startswith(b"<!--", pos):
            end = head.find(b"-->", pos)
        elif head.startswith(b"<!", pos):
            raise _refuse("文件含有 DTD/实体声明（可能是恶意文件），已拒绝")
        elif head.startswith(b"<", pos):
            return
        else:
            raise _refuse("不是有效的 .xlsx 文件（内容已损坏）")
        if end < 0:
            raise _refuse("不是有效的 .xlsx 文件（内容已损坏）")
        pos = end + 2


def _parse(archive: zipfile.ZipFile, name: str, tag: str):
    """Stream the elements ``tag`` of one part; the caller clears them."""
    from lxml import etree

    _no_dtd(archive, name)
    with archive.open(name) as fh:
        for _, elem in etree.iterparse(
            fh,
            events=("end",),
            tag=tag,
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=False,
        ):
            yield elem


def _first_sheet(archive: zipfile.ZipFile) -> tuple[str, bool]:
    """The path of the first worksheet and whether the workbook counts dates from 1904."""
    sheet_rid, date1904 = None, False
    for elem in _parse(archive, "xl/workbook.xml", (f"{_NS}workbookPr", f"{_NS}sheet")):
        if elem.tag == f"{_NS}workbookPr":
            date1904 = elem.get("date1904") in ("1", "true")
        elif sheet_rid is None:
            sheet_rid = elem.get(f"{_REL_NS}id")
    if sheet_rid is None:
        raise _refuse("工作簿中没有工作表")
    for elem in _parse(archive, "xl/_rels/workbook.xml.rels", f"{_PKG_REL}Relationship"):
        if elem.get("Id") == sheet_rid:
            target = elem.get("Target", "")
            path = target.lstrip("/") if target.startswith("/") else "xl/" + target
            return path, date1904
    raise _refuse("工作簿结构不完整（找不到第一个工作表）")


def _shared_strings(archive: zipfile.ZipFile) -> list[str]:
    if "xl/sharedStrings.xml" not in archive.namelist():
        return []
    out = []
    for si in _parse(archive, "xl/sharedStrings.xml", f"{_NS}si"):
        # rich text runs joined; phonetic guides (<rPh>, 拼音/振假名) left out
        out.append("".join(t.text or "" for t in si.iter(f"{_NS}t") if t.getparent().tag != f"{_NS}rPh"))
        si.clear()
    return out


def _date_styles(archive: zipfile.ZipFile) -> set[int]:
    """Indices of the cell formats (cellXfs) that show a date."""
    from openpyxl.styles.numbers import is_date_format

    if "xl/styles.xml" not in archive.namelist():
        return set()
    custom: dict[int, str] = {}
    out: set[int] = set()
    index = 0
    for elem in _parse(archive, "xl/styles.xml", (f"{_NS}numFmt", f"{_NS}cellXfs")):
        if elem.tag == f"{_NS}numFmt":
            custom[int(elem.get("numFmtId", "0"))] = elem.get("formatCode", "")
            continue
        for index, xf in enumerate(elem.iterchildren(f"{_NS}xf")):
            fmt = int(xf.get("numFmtId", "0"))
            if fmt in custom:
                if is_date_format(custom[fmt]) and not _is_time_only(custom[fmt]):
                    out.add(index)
            elif fmt in DATE_FORMAT_IDS:
                out.add(index)
    return out


def _is_time_only(code: str) -> bool:
    plain = re.sub(r'"[^"]*"|\[[^]]*]', "", code).lower()
    return not any(ch in plain for ch in "ydm") or plain.strip().startswith(("h", "[h"))


def _column(ref: str | None, fallback: int) -> int:
    if not ref:
        return fallback
    match = _CELL_REF.match(ref)
    if not match:
        return fallback
    n = 0
    for ch in match.group(1):
        n = n * 26 + ord(ch) - 64
    return n - 1


def _excel_date(serial: float, date1904: bool) -> dt.datetime:
    epoch = dt.datetime(1904, 1, 1) if date1904 else dt.datetime(1899, 12, 30)
    return epoch + dt.timedelta(days=serial)


def _number(text: str) -> int | float:
    if text.lstrip("-").isdigit():
        return int(text)
    return float(text)


def _read_xlsx(data: bytes) -> Iterator[tuple[int, list[object]]]:
    archive = _check_zip(data)
    try:
        sheet_path, date1904 = _first_sheet(archive)
        strings = _shared_strings(archive)
        dates = _date_styles(archive)
    except ImportRejected:
        raise
    except Exception as exc:  # noqa: BLE001 — any failure reading an untrusted file is the file's damage
        raise _damaged(exc) from None
    return _guarded(_xlsx_rows(archive, sheet_path, strings, dates, date1904))


def _damaged(exc: Exception) -> ImportRejected:
    return _refuse(f"不是有效的 .xlsx 文件（内容不完整或已损坏：{type(exc).__name__}）")


def _guarded(rows: Iterator[tuple[int, list[object]]]) -> Iterator[tuple[int, list[object]]]:
    try:
        yield from rows
    except ImportRejected:
        raise
    except Exception as exc:  # noqa: BLE001 — as above, while the rows stream
        raise _damaged(exc) from None


def _xlsx_rows(archive, path, strings, dates, date1904) -> Iterator[tuple[int, list[object]]]:
    c_tag, v_tag, is_tag, t_tag = f"{_NS}c", f"{_NS}v", f"{_NS}is", f"{_NS}t"
    number = 0
    count = 0
    for row in _parse(archive, path, f"{_NS}row"):
        number = int(row.get("r") or number + 1)
        count += 1
        if count > MAX_ROWS + 1:
            raise _refuse(f"行数超过上限 {MAX_ROWS:,}，请分成几个文件导入", "文件过大")
        values: list[object] = []
        for position, cell in enumerate(row.iterchildren(c_tag)):
            col = _column(cell.get("r"), position)
            if col >= MAX_COLUMNS:
                continue
            kind = cell.get("t", "n")
            if kind == "inlineStr":
                node = cell.find(is_tag)
                value: object = "".join(t.text or "" for t in node.iter(t_tag)) if node is not None else ""
            else:
                v = cell.find(v_tag)
                raw = v.text if v is not None else None
                if raw is None:
                    value = None
                elif kind == "s":
                    value = strings[int(raw)]
                elif kind == "b":
                    value = raw == "1"
                elif kind in ("str", "e"):
                    value = raw
                elif kind == "d":
                    value = dt.datetime.fromisoformat(raw)
                else:
                    value = _number(raw)
                    if int(cell.get("s") or 0) in dates:
                        value = _excel_date(value, date1904)
            if col >= len(values):
                values.extend([None] * (col + 1 - len(values)))
            values[col] = value
        yield number, values
        row.clear()
        while row.getprevious() is not None:
            del row.getparent()[0]


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


def write_xlsx_template(columns: list[str], example: list[object] | None = None) -> bytes:
    """A template users download and fill: the header row, and one example row when given."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(columns)
    if example:
        ws.append([str(v) for v in example])
        for cell in ws[2]:
            cell.data_type = "s"  # text as typed: 工号 keeps leading zeros, dates stay as written
    for i, col in enumerate(columns, start=1):
        ws.column_dimensions[ws.cell(row=1, column=i).column_letter].width = max(12, len(col) * 3)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
