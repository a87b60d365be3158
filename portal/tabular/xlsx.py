""".xlsx, the first sheet, read by a small streaming reader (lxml parser targets).

Number formats are seen by id, so date cells using the zh-CN built-in formats (31 =
``yyyy"年"m"月"d"日"``, referenced without a ``<numFmt>`` entry) come back as dates, where general readers
see a bare number.

Hostile files: the declared uncompressed size of every part is checked before anything is parsed (a zip
inflates no further than it declares: zipfile stops there and the CRC check fails), as is its compression
ratio; a part with a DTD (billion laughs, XXE) is refused. The parts are read through parser targets,
which build no tree (``iterparse`` builds a whole ``<row>`` before yielding it: one row of ten million
empty cells, 440 KB zipped, took 1.2 GB), and everything is counted as it starts (``limits``): elements
per part and per row, cells per row (Excel's 16,384 columns) and per file, rows, characters per cell,
cell formats; reading stops at the first limit passed.
"""

from __future__ import annotations

import codecs
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterator

from ..errors import ImportRejected
from . import limits
from .limits import refuse

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
        raise refuse("不是有效的 .xlsx 文件（文件不完整或已损坏）") from None
    total = 0
    for part in parts:
        total += part.file_size
        ratio = part.file_size / max(part.compress_size, 1)
        if part.file_size > 1024 * 1024 and ratio > limits.MAX_RATIO:
            raise refuse(f"文件中的“{part.filename[:40]}”压缩比异常（{ratio:,.0f} 倍），疑似压缩炸弹，已拒绝")
    if total > limits.MAX_XLSX_BYTES:
        raise refuse(
            f"文件解压后过大（{total / 1024 / 1024:,.0f} MB，上限 {limits.MAX_XLSX_BYTES // 1024 // 1024} MB），已拒绝"
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
            raise refuse("文件含有 DTD/实体声明（可能是恶意文件），已拒绝")
        elif head.startswith(b"<", pos):
            return
        else:
            raise refuse("不是有效的 .xlsx 文件（内容已损坏）")
        if end < 0:
            raise refuse("不是有效的 .xlsx 文件（内容已损坏）")
        pos = end + 2


class _Target:
    """An lxml parser target: lxml calls ``start``/``data``/``end`` as it reads and builds no tree,
    so memory stays that of one chunk and what the target keeps, whatever the part holds. Every
    element counts towards ``limits.MAX_ELEMENTS``: a part of millions of empty elements is refused early."""

    def __init__(self) -> None:
        self.elements = 0

    def start(self, tag: str, attrib) -> None:
        self.elements += 1
        if self.elements > limits.MAX_ELEMENTS:
            raise refuse(
                f"文件中的元素超过 {limits.MAX_ELEMENTS:,} 个（疑似恶意构造的文件），已拒绝", "文件过大"
            )

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
        if (len(text) if len(parts) == 1 else sum(map(len, parts))) > limits.MAX_TEXT:
            raise refuse(f"单元格内容超过 {limits.MAX_TEXT:,} 个字符（Excel 的上限），已拒绝", "文件过大")


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
        raise refuse("工作簿中没有工作表")
    rel = _Relationship(book.sheet_rid)
    _read_part(archive, "xl/_rels/workbook.xml.rels", rel)
    if rel.target is None:
        raise refuse("工作簿结构不完整（找不到第一个工作表）")
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
            if len(self.strings) >= limits.MAX_CELLS:
                raise refuse(f"共享字符串超过 {limits.MAX_CELLS:,} 个，已拒绝", "文件过大")

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
            if len(self.formats) >= limits.MAX_STYLES:
                raise refuse(f"单元格格式超过 {limits.MAX_STYLES:,} 种（Excel 的上限），已拒绝")
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


def read_xlsx(data: bytes) -> Iterator[tuple[int, list[object]]]:
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
    return refuse(f"不是有效的 .xlsx 文件（内容不完整或已损坏：{type(exc).__name__}）")


def _guarded(rows: Iterator[tuple[int, list[object]]]) -> Iterator[tuple[int, list[object]]]:
    try:
        yield from rows
    except ImportRejected:
        raise
    except Exception as exc:  # noqa: BLE001 — as above, while the rows stream
        raise _damaged(exc) from None


class _Sheet(_Target):
    """The first worksheet, row by row: each finished row waits in ``rows`` until ``_xlsx_rows``
    takes it. Cells are counted as they start, per row (``limits.MAX_ROW_CELLS``) and per file
    (``limits.MAX_CELLS``), so a row of ten million empty cells is refused at its 16,385th."""

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
            if self._row_elements > limits.MAX_ROW_ELEMENTS:
                raise refuse(
                    f"第 {self.number} 行的元素超过 {limits.MAX_ROW_ELEMENTS:,} 个，疑似恶意构造的文件，已拒绝",
                    "文件过大",
                )
        if tag == _C:
            if self._values is None:
                return
            self._row_cells += 1
            self.cells += 1
            if self._row_cells > limits.MAX_ROW_CELLS:
                raise refuse(
                    f"第 {self.number} 行的单元格超过 {limits.MAX_ROW_CELLS:,} 个（Excel 每行最多 {limits.MAX_ROW_CELLS:,} 列），"
                    "疑似恶意构造的文件，已拒绝",
                    "文件过大",
                )
            if self.cells > limits.MAX_CELLS:
                raise refuse(f"单元格超过 {limits.MAX_CELLS:,} 个，请分成几个文件导入", "文件过大")
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
            if self.count > limits.MAX_ROWS + 1:
                raise refuse(f"行数超过上限 {limits.MAX_ROWS:,}，请分成几个文件导入", "文件过大")
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
        if col >= limits.MAX_COLUMNS:
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
