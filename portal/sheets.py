"""Workbooks laid out like the ledgers departments keep by hand (台账): a merged title row,
an optional subtitle, a bold header row with borders, set column widths and a frozen header;
data cells bordered and wrapped, overdue rows coloured.

Workbooks are written in openpyxl's *write-only* mode: rows stream to a temporary file as they
are appended, so a whole university's ledger (≈ 2 M cells) neither sits in memory as cell
objects nor needs a styling pass before saving. The price: a row's look (its kind, number
formats) is given when it is appended, and the layout is fixed before the first row.

User text is written as it was typed, always as a *text* cell: openpyxl would store a string
starting with ``=`` as a formula (``=HYPERLINK(…)`` in an opinion would run in Excel), so every
string becomes an explicit string cell. Text cells are never evaluated, so ``+ - @`` need
nothing, and no apostrophe is added (that would change the user's text).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.formatting.formatting import ConditionalFormattingList
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.cell_range import MultiCellRange
from openpyxl.worksheet.dimensions import DimensionHolder

from . import branding, text

_THIN = Side(style="thin", color="999999")
BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
HEADER_FILL = PatternFill("solid", fgColor="DDE7F3")
DATA_ALIGNMENT = Alignment(vertical="top", wrap_text=True)
_SHEET_FORBIDDEN = str.maketrans({c: "_" for c in "[]:*?/\\"})

# Named styles: a cell given a named style shares one style record; the data rows' kinds
# (``台账逾期`` red, ``台账提醒`` amber) are named styles too.
STYLES: dict[str, dict[str, Any]] = {
    "台账标题": {
        "font": Font(bold=True, size=14),
        "alignment": Alignment(horizontal="center", vertical="center"),
    },
    "台账副标题": {"alignment": Alignment(horizontal="right")},
    "台账表头": {
        "font": Font(bold=True),
        "fill": HEADER_FILL,
        "border": BORDER,
        "alignment": Alignment(horizontal="center", vertical="center", wrap_text=True),
    },
    "台账正文": {"border": BORDER, "alignment": DATA_ALIGNMENT},
    "台账逾期": {
        "border": BORDER,
        "alignment": DATA_ALIGNMENT,
        "fill": PatternFill("solid", fgColor="FDE2E1"),
        "font": Font(color="B00020"),
    },
    "台账提醒": {
        "border": BORDER,
        "alignment": DATA_ALIGNMENT,
        "fill": PatternFill("solid", fgColor="FFF4CE"),
    },
}
ROW_KINDS = ("台账正文", "台账逾期", "台账提醒")


def safe_cell(value: object) -> object:
    """A value for a plain openpyxl ``ws.append``: text that openpyxl would take for a formula
    becomes a string cell. (``Sheet.append`` does this itself.)"""
    if not isinstance(value, str):
        return value
    value = text.xml_safe(value)
    if value.startswith("="):
        # a cell of no sheet yet: ws.append adopts it, setting its sheet, row and column
        # (types-openpyxl types the sheet as required; openpyxl takes None)
        cell = Cell(None, row=1, column=1, value=value)  # type: ignore[arg-type]
        cell.data_type = "s"
        return cell
    return value


def safe_row(values: Iterable[object]) -> list[object]:
    return [safe_cell(v) for v in values]


def sheet_title(name: str) -> str:
    """A valid worksheet name (≤31 characters, none of []:*?/\\)."""
    return name.translate(_SHEET_FORBIDDEN)[:31] or "Sheet"


class _Cell(Cell):
    """A reusable data cell. ``ws.append`` first tries each value as a plain value and formats
    the error message with the cell's repr; a cheap repr keeps that from costing ~30 % of the export."""

    __slots__ = ("_sid",)
    _value: object  # openpyxl's slot behind ``value``, set directly for plain text and numbers

    def __repr__(self) -> str:
        return "<台账单元格>"

    def fix_style(self) -> None:
        """Look the style up once: the cell keeps its style for every row it is reused in."""
        self._sid = super().style_id

    @property
    def style_id(self) -> int:
        return self._sid

    def put(self, value: object) -> None:
        if type(value) is str:
            self._value, self.data_type = text.xml_safe(value), "s"  # always text, never a formula
        elif type(value) is int or type(value) is float or value is None:
            self._value, self.data_type = value, "n"
        else:
            if isinstance(value, Cell):  # from safe_cell
                value = value.value
            # dates, booleans, Decimal…: openpyxl converts them (a date gets its number format)
            # and refuses any other type itself (ValueError: Cannot convert … to Excel)
            self.value = value  # type: ignore[assignment]
            if isinstance(value, str):
                self.data_type = "s"
            self.fix_style()


class _Row(list[_Cell]):
    """A row of ready ``_Cell`` objects (see ``_StreamedWorksheet``)."""


class _StreamedWorksheet(WriteOnlyWorksheet):
    """openpyxl's write-only worksheet, fed ready cells: for a ``_Row`` it skips the
    value-by-value conversion ``ws.append`` does (it tries each cell as a plain value first,
    fails, then builds a fresh cell after every styled one) — a third of the export's time."""

    # Set by Worksheet._setup, which the write-only worksheet borrows; types-openpyxl leaves them out.
    column_dimensions: DimensionHolder
    row_dimensions: DimensionHolder
    merged_cells: MultiCellRange
    conditional_formatting: ConditionalFormattingList

    def _values_to_row(self, values, row_idx):  # noqa: ANN001, ANN202 - openpyxl's signature
        if type(values) is not _Row:
            # openpyxl's private generator of a row's cells, absent from types-openpyxl (the pin
            # on openpyxl's minor version guards it)
            yield from super()._values_to_row(values, row_idx)  # type: ignore[misc]
            return
        for cell in values:
            cell.row = row_idx
            yield cell


def _style(wb: Workbook, name: str) -> str:
    if name not in wb.named_styles:
        wb.add_named_style(NamedStyle(name=name, **STYLES[name]))
    return name


class Sheet:
    """One 台账 sheet being written: rows go below the header with ``append``."""

    def __init__(self, wb: Workbook, ws: _StreamedWorksheet, width: int, header: int) -> None:
        self.wb, self.ws, self.width, self.header = wb, ws, width, header
        self.rows = 0  # data rows appended so far
        # one styled cell per (kind, column, number format), reused row after row: the
        # write-only worksheet writes each cell out before it takes the next value
        self._cells: dict[tuple[str, int, str | None], _Cell] = {}
        self._rows: dict[tuple[str, int], _Row] = {}

    @property
    def title(self) -> str:
        return self.ws.title

    def _cell(self, kind: str, col: int, fmt: str | None) -> _Cell:
        key = (kind, col, fmt)
        cell = self._cells.get(key)
        if cell is None:
            cell = _Cell(self.ws, row=1, column=col)  # its column is fixed: one cell per column
            cell.style = _style(self.wb, kind)
            if fmt:
                cell.number_format = fmt
            cell.fix_style()
            self._cells[key] = cell
        return cell

    def _plain_row(self, kind: str, n: int) -> _Row:
        """The cells of a row of ``kind`` without number formats, ``n`` (≥ width) wide."""
        cells = self._rows.get((kind, n))
        if cells is None:
            cells = self._rows[(kind, n)] = _Row(self._cell(kind, col, None) for col in range(1, n + 1))
        return cells

    def append(
        self, values: Iterable[object], kind: str = "台账正文", formats: Mapping[int, str] | None = None
    ) -> None:
        """One data row, ``kind`` one of ``ROW_KINDS``; ``formats`` maps 1-based columns to
        number formats (e.g. ``{8: "0%"}``). Strings are always text cells."""
        if kind not in ROW_KINDS:
            raise ValueError(f"unknown row kind {kind!r}")
        values = list(values)
        n = max(len(values), self.width)  # a bordered table: its empty cells too
        values += [None] * (n - len(values))
        if formats:
            row = _Row(self._cell(kind, col, formats.get(col)) for col in range(1, n + 1))
        else:
            row = self._plain_row(kind, n)
        for cell, value in zip(row, values, strict=True):
            cell.put(value)
        self.ws.append(row)
        self.rows += 1

    def append_plain(self, values: Iterable[object]) -> None:
        """A row without borders (a note under the table)."""
        self.ws.append([v.value if isinstance(v, Cell) else v for v in values])
        self.rows += 1

    @property
    def first_data_row(self) -> int:
        return self.header + 1


def add_sheet(
    wb: Workbook,
    name: str,
    title: str,
    columns: Sequence[tuple[str, float]],
    subtitle: str = "",
) -> Sheet:
    """A new sheet with the 台账 layout; data rows go below with ``Sheet.append``."""
    ws = _StreamedWorksheet(parent=wb, title=sheet_title(name))
    # what wb.create_sheet does, with our worksheet class (a private method types-openpyxl leaves out)
    wb._add_sheet(ws)  # type: ignore[attr-defined]
    width = max(1, len(columns))
    last = get_column_letter(width)
    # layout first: the write-only sheet writes columns and panes before the first row
    for i, (_, w) in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = w
    header = 3 if subtitle else 2
    ws.freeze_panes = f"A{header + 1}"
    ws.row_dimensions[1].height = 28
    head = WriteOnlyCell(ws, value=branding.brand().headed(title))  # 河南理工大学……台账
    head.style = _style(wb, "台账标题")
    ws.append([head])
    ws.merged_cells.add(f"A1:{last}1")
    if subtitle:
        sub = WriteOnlyCell(ws, value=subtitle)
        sub.style = _style(wb, "台账副标题")
        ws.append([sub])
        ws.merged_cells.add(f"A2:{last}2")
    cells = []
    for c, _ in columns:
        cell = WriteOnlyCell(ws, value=text.xml_safe(c))
        cell.data_type = "s"
        cell.style = _style(wb, "台账表头")
        cells.append(cell)
    ws.append(cells)
    return Sheet(wb, ws, len(columns), header)


def new_workbook() -> Workbook:
    """A streaming workbook without sheets: add them with ``add_sheet``."""
    return Workbook(write_only=True)


def workbook_sheet(
    name: str, title: str, columns: Sequence[tuple[str, float]], subtitle: str = ""
) -> tuple[Workbook, Sheet]:
    wb = new_workbook()
    return wb, add_sheet(wb, name, title, columns, subtitle)


def header_row(ws: Sheet) -> int:
    """The row number of the header (the frozen row above the data)."""
    return ws.header


def save(wb: Workbook, out: str | IO[bytes]) -> None:
    """Write the workbook to a path or binary file (a temporary file for a big download)."""
    wb.save(out)


def to_bytes(wb: Workbook) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
