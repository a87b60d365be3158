"""An .xlsx "element bomb" is refused quickly, in Chinese, in bounded memory (issue 19 §9).

A 440 KB workbook whose one row holds ten million empty cells passes the zip-bomb checks (its
compression ratio is 92); a reader that builds a whole ``<row>`` before looking at it peaked at
1.26 GB. Each file is read in a child process of its own, so that its peak memory is measured
alone (``ru_maxrss`` before and after reading)."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from portal import tabular
from portal.errors import ImportRejected
from portal.tabular import limits
from tests.hostile import xlsx_element_bomb, xlsx_parts

ROOT = Path(__file__).resolve().parents[2]
MEASURE = """
import json, resource, sys
from portal import tabular
from portal.errors import ImportRejected
import lxml.etree, openpyxl.styles.numbers  # loaded before the baseline, as in the server
data = open(sys.argv[1], "rb").read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    sheet = tabular.read_sheet("bomb.xlsx", data)
    message = None
except ImportRejected as exc:
    message = exc.message
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(json.dumps({"message": message, "grown_mb": grown / 1024}))
"""


def read_in_child(tmp_path: Path, data: bytes) -> dict:
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(data)
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path)], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_bomb_is_what_the_issue_describes():
    data = xlsx_element_bomb()
    sheet = zipfile.ZipFile(__import__("io").BytesIO(data)).getinfo("xl/worksheets/sheet1.xml")
    assert len(data) < 460 * 1024
    assert 80 < sheet.file_size / sheet.compress_size < limits.MAX_RATIO  # under the zip-bomb check


def test_a_row_of_ten_million_empty_cells_is_refused_in_bounded_memory(tmp_path):
    found = read_in_child(tmp_path, xlsx_element_bomb())
    assert found["message"] and "第 1 行的单元格超过 16,384 个" in found["message"], found
    assert found["grown_mb"] < 32, found  # 1,221 MB before


def test_a_row_of_ten_million_other_elements_is_refused_too(tmp_path):
    found = read_in_child(tmp_path, xlsx_element_bomb(elements=(b"<x/>", b"<x />")))
    assert found["message"] and "第 1 行的元素超过" in found["message"], found
    assert found["grown_mb"] < 32, found


def test_a_shared_string_of_two_million_runs_is_refused(tmp_path):
    import io
    import random

    letters = [b"<r><t>%c</t></r>" % c for c in b"abcdefghijklmnop"]
    runs = b"".join(random.Random(2).choices(letters, k=2_000_000))  # 30 MB, a ratio of 30
    strings = (
        b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b"<si>" + runs + b"</si></sst>"
    )
    book = xlsx_parts(
        b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData></worksheet>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(book)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item))
        dst.writestr("xl/sharedStrings.xml", strings)
    found = read_in_child(tmp_path, out.getvalue())
    assert found["message"] and "32,767" in found["message"], found
    assert found["grown_mb"] < 32, found


def _sheet(rows: int, columns: int) -> bytes:
    ns = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    body = b"".join(
        b'<row r="%d">' % (r + 1) + b"".join(b"<c><v>%d</v></c>" % c for c in range(columns)) + b"</row>"
        for r in range(rows)
    )
    return xlsx_parts(
        b'<?xml version="1.0"?><worksheet ' + ns + b"><sheetData>" + body + b"</sheetData></worksheet>"
    )


def test_cells_are_counted_per_file(monkeypatch):
    monkeypatch.setattr(limits, "MAX_CELLS", 1000)
    tabular.read_sheet("ok.xlsx", _sheet(50, 20))  # exactly 1,000 cells
    with pytest.raises(ImportRejected, match="单元格超过 1,000 个"):
        tabular.read_sheet("big.xlsx", _sheet(51, 20))


def test_a_cell_longer_than_excel_allows_is_refused():
    ns = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    text = "测".encode() * 40_000
    data = xlsx_parts(
        b'<?xml version="1.0"?><worksheet '
        + ns
        + b'><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>'
        + text
        + b"</t></is></c></row></sheetData></worksheet>"
    )
    with pytest.raises(ImportRejected, match="32,767"):
        tabular.read_sheet("long.xlsx", data)


def test_a_real_sheet_still_reads_the_same():
    """The same values, dates and numbers as before, through the new reader (openpyxl writes it)."""
    import datetime as dt
    import io

    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["工号", "日期", "课时", "备注"])
    ws.append(["10010001", dt.datetime(2026, 3, 5), 2, "富文本\n第二行"])
    ws.append([None, None, 1.5, "=不是公式"])
    ws["D3"].data_type = "s"
    buf = io.BytesIO()
    wb.save(buf)
    sheet = tabular.read_sheet("real.xlsx", buf.getvalue())
    assert sheet.header == ["工号", "日期", "课时", "备注"]
    (n1, r1), (n2, r2) = sheet.rows
    assert (n1, r1["工号"], r1["日期"], r1["课时"], r1["备注"]) == (
        2,
        "10010001",
        dt.datetime(2026, 3, 5),
        2,
        "富文本\n第二行",
    )
    assert (n2, r2["工号"], r2["课时"], r2["备注"]) == (3, None, 1.5, "=不是公式")
