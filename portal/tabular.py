"""Reading the sheets people keep in Excel or WPS: CSV/tab text or .xlsx (first sheet).

What real files look like, and what this module does about it:

* Text: Excel on a Chinese Windows saves "CSV (逗号分隔)" in GBK, "Unicode 文本" as UTF-16 with
  a BOM and tabs; others save UTF-8 with or without a BOM. The encoding is decided by the BOM,
  else by strict decoding as UTF-8, then GB18030 (a superset of GBK: 4-byte characters such as
  𠀀 survive) — never a guess that could produce mojibake. The separator is a comma or a tab.
* .xlsx is read by a small streaming reader (lxml parser targets): number formats are seen by
  id, so date cells using the zh-CN built-in formats (31 = ``yyyy"年"m"月"d"日"``, referenced
  without a ``<numFmt>`` entry) come back as dates, where general readers see a bare number.
* Hostile files: the declared uncompressed size of every part is checked before anything is
  parsed (a zip inflates no further than it declares: zipfile stops there and the CRC check
  fails), as is its compression ratio; a part with a DTD (billion laughs, XXE) is refused. The
  parts are read through parser targets, which build no tree (``iterparse`` builds a whole
  ``<row>`` before yielding it: one row of ten million empty cells, 440 KB zipped, took 1.2 GB),
  and everything is counted as it starts: elements per part and per row, cells per row (Excel's
  16,384 columns) and per file, rows, characters per cell, cell formats; reading stops at the
  first limit passed. Any damage becomes one Chinese message (``ImportRejected``), never a
  traceback.

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
from collections.abc import Iterator, Mapping, Sequence
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
# Counted while parsing, so that a small file cannot make the parse long or large: Excel and WPS
# write at most 16,384 columns a row and 64,000 cell formats; 5 million cells is 200,000 rows of 25.
MAX_ROW_CELLS = 16_384
MAX_CELLS = 5_000_000
MAX_ELEMENTS = 4 * MAX_CELLS  # any element of one part (a cell is two or three: <c>, <v>, <is><t>)
MAX_ROW_ELEMENTS = 4 * MAX_ROW_CELLS  # any element inside one <row>
MAX_STYLES = 64_000
MAX_TEXT = 32_767  # characters of one cell: Excel's own limit
ENCODINGS_TRIED = "UTF-8、GB18030（含 GBK）、UTF-16"
_CJK = re.compile(r"[\u4e00-\u9fff]")


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
        table, encoding = _read_xlsx(data), "Excel 工作簿（.xlsx）"
    elif name.endswith((".csv", ".txt", ".tsv")):
        text, encoding = decode(data)
        table = _read_text(text)
    else:
        raise _refuse(
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
    return decode(data)[0]


ENCODING_NAMES = {
    "utf-8": "UTF-8",
    "utf-16-le": "UTF-16",
    "utf-16-be": "UTF-16",
    "gb18030": "GB18030（含 GBK）",
}


def decode(data: bytes) -> tuple[str, str]:
    """(text, the name of the encoding it was read in) of an uploaded text file (``decode_text``)."""
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(encoding), ENCODING_NAMES[encoding]
            except UnicodeDecodeError:
                raise _refuse(f"文件开头标明为 {encoding.upper()} 编码，但内容无法按此编码读取") from None
    try:
        return data.decode("utf-8"), ENCODING_NAMES["utf-8"]
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
        return data.decode("gb18030"), ENCODING_NAMES["gb18030"]
    except UnicodeDecodeError:
        pass
    raise _refuse(
        f"无法识别文件的文字编码（已尝试 {ENCODINGS_TRIED}）；请在 Excel/WPS 中另存为“CSV UTF-8”或 .xlsx"
    )


def _read_text(text: str) -> Iterator[tuple[int, list[object]]]:
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
_ROW, _C, _V, _IS, _T = (f"{_NS}{name}" for name in ("row", "c", "v", "is", "t"))
_CHUNK = 64 * 1024


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


class _Target:
    """An lxml parser target: lxml calls ``start``/``data``/``end`` as it reads and builds no tree,
    so memory stays that of one chunk and what the target keeps, whatever the part holds. Every
    element counts towards ``MAX_ELEMENTS``: a part of millions of empty elements is refused early."""

    def __init__(self) -> None:
        self.elements = 0

    def start(self, tag: str, attrib) -> None:
        self.elements += 1
        if self.elements > MAX_ELEMENTS:
            raise _refuse(f"文件中的元素超过 {MAX_ELEMENTS:,} 个（疑似恶意构造的文件），已拒绝", "文件过大")

    def end(self, tag: str) -> None:
        pass

    def data(self, text: str) -> None:
        pass

    def close(self) -> None:
        return None

    @staticmethod
    def _collect(parts: list[str], text: str) -> None:
        """Add a piece of one cell's text; a cell longer than Excel allows is refused."""
        parts.append(text)
        if (len(text) if len(parts) == 1 else sum(map(len, parts))) > MAX_TEXT:
            raise _refuse(f"单元格内容超过 {MAX_TEXT:,} 个字符（Excel 的上限），已拒绝", "文件过大")


class _Stop(Exception):
    """A target found what it was reading for: the rest of the part is not read."""


def _feed(archive: zipfile.ZipFile, name: str, target: _Target) -> Iterator[None]:
    """Stream one part through ``target`` in chunks, yielding after each (the sheet's rows leave
    the target there). A DTD is refused before parsing."""
    from lxml import etree  # here: lxml loads only for an .xlsx file, never for a CSV

    _no_dtd(archive, name)
    parser = etree.XMLParser(
        # lxml-stubs types a target's arguments as str | bytes; lxml gives an XML target str
        target=target,  # type: ignore[arg-type]
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
    )
    with archive.open(name) as fh:
        while chunk := fh.read(_CHUNK):
            parser.feed(chunk)
            yield
    parser.close()
    yield


def _read_part(archive: zipfile.ZipFile, name: str, target: _Target) -> None:
    try:
        for _ in _feed(archive, name, target):
            pass
    except _Stop:
        pass


class _Workbook(_Target):
    """xl/workbook.xml: the first sheet's relationship id and the date system."""

    def __init__(self) -> None:
        super().__init__()
        self.sheet_rid: str | None = None
        self.date1904 = False

    def start(self, tag: str, attrib) -> None:
        super().start(tag, attrib)
        if tag == f"{_NS}workbookPr":
            self.date1904 = attrib.get("date1904") in ("1", "true")
        elif tag == f"{_NS}sheet" and self.sheet_rid is None:
            self.sheet_rid = attrib.get(f"{_REL_NS}id")


class _Relationship(_Target):
    def __init__(self, rid: str) -> None:
        super().__init__()
        self.rid, self.target = rid, None

    def start(self, tag: str, attrib) -> None:
        super().start(tag, attrib)
        if tag == f"{_PKG_REL}Relationship" and attrib.get("Id") == self.rid:
            self.target = attrib.get("Target", "")
            raise _Stop


def _first_sheet(archive: zipfile.ZipFile) -> tuple[str, bool]:
    """The path of the first worksheet and whether the workbook counts dates from 1904."""
    book = _Workbook()
    _read_part(archive, "xl/workbook.xml", book)
    if book.sheet_rid is None:
        raise _refuse("工作簿中没有工作表")
    rel = _Relationship(book.sheet_rid)
    _read_part(archive, "xl/_rels/workbook.xml.rels", rel)
    if rel.target is None:
        raise _refuse("工作簿结构不完整（找不到第一个工作表）")
    target = rel.target
    return (target.lstrip("/") if target.startswith("/") else "xl/" + target), book.date1904


class _SharedStrings(_Target):
    """xl/sharedStrings.xml: each ``<si>``'s text, rich text runs joined, phonetic guides (<rPh>,
    拼音/振假名) left out."""

    def __init__(self) -> None:
        super().__init__()
        self.strings: list[str] = []
        self._parts: list[str] = []
        self._in_t = False
        self._in_phonetic = 0

    def start(self, tag: str, attrib) -> None:
        super().start(tag, attrib)
        if tag == f"{_NS}t":
            self._in_t = not self._in_phonetic
        elif tag == f"{_NS}rPh":
            self._in_phonetic += 1
        elif tag == f"{_NS}si":
            self._parts = []
            if len(self.strings) >= MAX_CELLS:
                raise _refuse(f"共享字符串超过 {MAX_CELLS:,} 个，已拒绝", "文件过大")

    def data(self, text: str) -> None:
        if self._in_t:
            self._collect(self._parts, text)

    def end(self, tag: str) -> None:
        if tag == f"{_NS}t":
            self._in_t = False
        elif tag == f"{_NS}rPh":
            self._in_phonetic -= 1
        elif tag == f"{_NS}si":
            self.strings.append("".join(self._parts))


def _shared_strings(archive: zipfile.ZipFile) -> list[str]:
    if "xl/sharedStrings.xml" not in archive.namelist():
        return []
    target = _SharedStrings()
    _read_part(archive, "xl/sharedStrings.xml", target)
    return target.strings


class _Styles(_Target):
    """xl/styles.xml: the custom number formats and, in order, the cell formats' number formats."""

    def __init__(self) -> None:
        super().__init__()
        self.custom: dict[int, str] = {}
        self.formats: list[int] = []
        self._in_xfs = False

    def start(self, tag: str, attrib) -> None:
        super().start(tag, attrib)
        if tag == f"{_NS}numFmt":
            self.custom[int(attrib.get("numFmtId", "0"))] = attrib.get("formatCode", "")
        elif tag == f"{_NS}cellXfs":
            self._in_xfs = True
        elif tag == f"{_NS}xf" and self._in_xfs:
            if len(self.formats) >= MAX_STYLES:
                raise _refuse(f"单元格格式超过 {MAX_STYLES:,} 种（Excel 的上限），已拒绝")
            self.formats.append(int(attrib.get("numFmtId", "0")))

    def end(self, tag: str) -> None:
        if tag == f"{_NS}cellXfs":
            self._in_xfs = False


def _date_styles(archive: zipfile.ZipFile) -> set[int]:
    """Indices of the cell formats (cellXfs) that show a date."""
    from openpyxl.styles.numbers import is_date_format  # here: openpyxl loads only for an .xlsx file

    if "xl/styles.xml" not in archive.namelist():
        return set()
    styles = _Styles()
    _read_part(archive, "xl/styles.xml", styles)
    out: set[int] = set()
    for index, fmt in enumerate(styles.formats):
        if fmt in styles.custom:
            code = styles.custom[fmt]
            if is_date_format(code) and not _is_time_only(code):
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
    return _guarded(_xlsx_rows(archive, sheet_path, _Sheet(strings, dates, date1904)))


def _damaged(exc: Exception) -> ImportRejected:
    return _refuse(f"不是有效的 .xlsx 文件（内容不完整或已损坏：{type(exc).__name__}）")


def _guarded(rows: Iterator[tuple[int, list[object]]]) -> Iterator[tuple[int, list[object]]]:
    try:
        yield from rows
    except ImportRejected:
        raise
    except Exception as exc:  # noqa: BLE001 — as above, while the rows stream
        raise _damaged(exc) from None


class _Sheet(_Target):
    """The first worksheet, row by row: each finished row waits in ``rows`` until ``_xlsx_rows``
    takes it. Cells are counted as they start, per row (``MAX_ROW_CELLS``) and per file
    (``MAX_CELLS``), so a row of ten million empty cells is refused at its 16,385th."""

    def __init__(self, strings: list[str], dates: set[int], date1904: bool) -> None:
        super().__init__()
        self.strings, self.dates, self.date1904 = strings, dates, date1904
        self.rows: list[tuple[int, list[object]]] = []
        self.number = 0  # the spreadsheet's row number
        self.count = 0  # rows read
        self.cells = 0
        self._values: list[object] | None = None  # the row being read
        self._row_cells = 0
        self._row_elements = 0
        self._cell: tuple[int, str, int] | None = None  # column, type, style of the cell being read
        self._value: str | None = None  # a <v>'s text
        self._inline: list[str] | None = None  # an inline string's text
        self._text: list[str] | None = None  # where character data goes now

    def start(self, tag: str, attrib) -> None:
        super().start(tag, attrib)
        if self._values is not None:
            self._row_elements += 1
            if self._row_elements > MAX_ROW_ELEMENTS:
                raise _refuse(
                    f"第 {self.number} 行的元素超过 {MAX_ROW_ELEMENTS:,} 个，疑似恶意构造的文件，已拒绝",
                    "文件过大",
                )
        if tag == _C:
            if self._values is None:
                return
            self._row_cells += 1
            self.cells += 1
            if self._row_cells > MAX_ROW_CELLS:
                raise _refuse(
                    f"第 {self.number} 行的单元格超过 {MAX_ROW_CELLS:,} 个（Excel 每行最多 {MAX_ROW_CELLS:,} 列），"
                    "疑似恶意构造的文件，已拒绝",
                    "文件过大",
                )
            if self.cells > MAX_CELLS:
                raise _refuse(f"单元格超过 {MAX_CELLS:,} 个，请分成几个文件导入", "文件过大")
            self._cell = (
                _column(attrib.get("r"), self._row_cells - 1),
                attrib.get("t", "n"),
                int(attrib.get("s") or 0),
            )
            self._value, self._inline = None, None
        elif tag == _V and self._cell is not None:
            self._text = []
        elif tag == _IS and self._cell is not None:
            self._inline = []
        elif tag == _T and self._inline is not None:
            self._text = self._inline
        elif tag == _ROW:
            self.number = int(attrib.get("r") or self.number + 1)
            self.count += 1
            if self.count > MAX_ROWS + 1:
                raise _refuse(f"行数超过上限 {MAX_ROWS:,}，请分成几个文件导入", "文件过大")
            self._values, self._row_cells, self._row_elements = [], 0, 0

    def data(self, text: str) -> None:
        if self._text is not None:
            self._collect(self._text, text)

    def end(self, tag: str) -> None:
        if tag == _V and self._text is not None:
            self._value, self._text = "".join(self._text), None
        elif tag == _T:
            self._text = None
        elif tag == _C and self._cell is not None:
            if self._values is not None:  # always: a cell is read only inside its row
                self._store(self._cell, self._values)
            self._cell = None
        elif tag == _ROW and self._values is not None:
            self.rows.append((self.number, self._values))
            self._values = None

    def _store(self, cell: tuple[int, str, int], values: list[object]) -> None:
        col, kind, style = cell
        if col >= MAX_COLUMNS:
            return
        raw = self._value
        if kind == "inlineStr":
            value: object = "".join(self._inline) if self._inline is not None else ""
        elif raw is None:
            value = None
        elif kind == "s":
            value = self.strings[int(raw)]
        elif kind == "b":
            value = raw == "1"
        elif kind in ("str", "e"):
            value = raw
        elif kind == "d":
            value = dt.datetime.fromisoformat(raw)
        else:
            value = _number(raw)
            if style in self.dates:
                value = _excel_date(value, self.date1904)
        if col >= len(values):
            values.extend([None] * (col + 1 - len(values)))
        values[col] = value


def _xlsx_rows(archive, path, sheet: _Sheet) -> Iterator[tuple[int, list[object]]]:
    for _ in _feed(archive, path, sheet):
        if sheet.rows:
            yield from sheet.rows
            sheet.rows = []


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
