"""How much of an uploaded sheet is read before it is refused, and the refusal itself: a small file must
not make the parse long or large (docs/security.md), and anything that stops the reading becomes one
Chinese message (``ImportRejected``), never a traceback."""

from __future__ import annotations

from ..errors import ImportRejected, RowError

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


def refuse(reason: str, title: str = "无法读取文件") -> ImportRejected:
    return ImportRejected([RowError(1, "", reason)], f"{title}：{reason}")
