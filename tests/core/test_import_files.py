"""Reading the files people really have: encodings, date spellings, and hostile files (issues 10, 11)."""

import datetime as dt
import io
import zipfile
import zlib

import pytest
from openpyxl import Workbook

from portal import imports, tabular, workdays
from portal.errors import ImportRejected, PortalError
from portal.tabular import limits

UNITS = "单位名称,单位类型\n计算机科学与技术学院,学院\n𠀀研究所,部门\n"
CADRES = "工号,姓名,单位,职务,级别,任职开始\n"


def names(db):
    return sorted(r[0] for r in db.execute("SELECT name FROM units"))


@pytest.mark.parametrize(
    "encoding", ["utf-8", "utf-8-sig", "gb18030", "utf-16"], ids=["utf8", "utf8-bom", "gb18030", "utf16-tab"]
)
def test_each_encoding_imports_exact(db, encoding):
    text = UNITS.replace(",", "\t") if encoding == "utf-16" else UNITS
    report = imports.run_import(db, "units", "units.csv", text.encode(encoding))
    assert report.counts["created"] == 2
    assert names(db) == ["计算机科学与技术学院", "𠀀研究所"]  # the 4-byte character survives


def test_gbk_csv_as_excel_saves_it(db):
    data = "单位名称,单位类型\n计算机科学与技术学院,学院\n".encode("gbk")
    assert imports.run_import(db, "units", "units.csv", data).counts["created"] == 1
    assert names(db) == ["计算机科学与技术学院"]


def test_tab_separated_utf8_and_crlf(db):
    data = "单位名称\t单位类型\r\n教务处\t部门\r\n".encode()
    assert imports.run_import(db, "units", "units.csv", data).counts["created"] == 1


def test_undecodable_file_is_refused_naming_the_encodings_tried(db):
    data = "单位名称,单位类型\n".encode() + b"\xff\xfe\xfd\x80\x80,\xa1\n"[2:] + b"\x80\xff"
    with pytest.raises(ImportRejected) as exc:
        imports.run_import(db, "units", "units.csv", data)
    reason = exc.value.errors[0].reason
    assert "UTF-8" in reason and "GB18030" in reason and "UTF-16" in reason
    assert names(db) == []


# --- dates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spelling", ["2026-03-05", "2026-3-5", "2026/3/5", "2026.3.5", "2026年3月5日", "2026/03/05 00:00:00"]
)
def test_date_spellings_in_text(db, spelling):
    imports.run_import(db, "units", "u.csv", "单位名称,单位类型\n教务处,部门\n".encode())
    data = (CADRES + f"10010001,李处长,教务处,处长,正处,{spelling}\n").encode("gb18030")
    imports.run_import(db, "cadres", "c.csv", data)
    start = db.execute("SELECT start_date FROM cadre_posts").fetchone()[0]
    assert start == "2026-03-05"


def xlsx_with_format(value, fmt_id: int, custom: str | None = None) -> bytes:
    """A workbook whose 任职开始 cell uses number format ``fmt_id`` the way Excel/WPS on zh-CN
    write it: a built-in id referenced from cellXfs with no <numFmt> entry."""
    wb = Workbook()
    ws = wb.active
    ws.append(["工号", "姓名", "单位", "职务", "级别", "任职开始"])
    ws.append(["10010001", "李处长", "教务处", "处长", "正处", value])
    if custom:
        ws["F2"].number_format = custom
    buf = io.BytesIO()
    wb.save(buf)
    if custom:
        return buf.getvalue()
    # rewrite styles.xml: one extra xf that references the built-in id, used by F2
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            body = src.read(item.filename)
            if item.filename == "xl/styles.xml":
                text = body.decode()
                head, rest = text.split("<cellXfs", 1)
                count_part, tail = rest.split(">", 1)
                xf = f'<xf numFmtId="{fmt_id}" fontId="0" fillId="0" borderId="0" applyNumberFormat="1"/>'
                text = head + '<cellXfs count="2">' + tail.replace("</cellXfs>", xf + "</cellXfs>", 1)
                assert "<numFmt " not in text
                body = text.encode()
            if item.filename == "xl/worksheets/sheet1.xml":
                text = body.decode()
                body = (
                    text.replace('<c r="F2"', '<c r="F2" s="1"', 1)
                    .replace('<c r="F2" s="1" s=', '<c r="F2" s=')
                    .encode()
                )
            dst.writestr(item, body)
    return out.getvalue()


def test_builtin_format_31_date_cell_imports_the_date(db):
    imports.run_import(db, "units", "u.csv", "单位名称,单位类型\n教务处,部门\n".encode())
    serial = (dt.date(2026, 3, 5) - dt.date(1899, 12, 30)).days
    data = xlsx_with_format(serial, 31)
    report = imports.run_import(db, "cadres", "c.xlsx", data)
    assert report.counts["created"] == 1
    assert db.execute("SELECT start_date FROM cadre_posts").fetchone()[0] == "2026-03-05"


def test_real_date_cell_and_text_date_cell_in_xlsx(db):
    imports.run_import(db, "units", "u.csv", "单位名称,单位类型\n教务处,部门\n".encode())
    imports.run_import(db, "cadres", "c.xlsx", xlsx_with_format(dt.datetime(2026, 3, 5), 0, "yyyy-mm-dd"))
    assert db.execute("SELECT start_date FROM cadre_posts").fetchone()[0] == "2026-03-05"


def test_bare_number_in_a_general_cell_is_refused_saying_to_format_as_date(db):
    imports.run_import(db, "units", "u.csv", "单位名称,单位类型\n教务处,部门\n".encode())
    wb = Workbook()
    ws = wb.active
    ws.append(["工号", "姓名", "单位", "职务", "级别", "任职开始"])
    ws.append(["10010001", "李处长", "教务处", "处长", "正处", 46086])
    buf = io.BytesIO()
    wb.save(buf)
    with pytest.raises(ImportRejected) as exc:
        imports.run_import(db, "cadres", "c.xlsx", buf.getvalue())
    error = exc.value.errors[0]
    assert error.column == "任职开始" and "日期格式" in error.reason


# --- hostile files -------------------------------------------------------------------------


def valid_xlsx() -> bytes:
    wb = Workbook()
    wb.active.append(["单位名称", "单位类型"])
    wb.active.append(["教务处", "部门"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def replace_part(data: bytes, name: str, body: bytes | None = None, *, stream=None) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            if item.filename != name:
                dst.writestr(item, src.read(item.filename))
            elif stream is not None:
                info = zipfile.ZipInfo(name)
                info.compress_type = zipfile.ZIP_DEFLATED
                with dst.open(info, "w", force_zip64=True) as fh:
                    for chunk in stream:
                        fh.write(chunk)
            else:
                dst.writestr(item, body)
        if name not in src.namelist():
            dst.writestr(name, body)
    return out.getvalue()


def zip_bomb() -> bytes:
    """A small .xlsx whose worksheet inflates to 300 MB."""
    head = b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    blank = b" " * (1 << 20)
    return replace_part(valid_xlsx(), "xl/worksheets/sheet1.xml", stream=[head, *([blank] * 300)])


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode()
        for i in range(1, 10)
    )
    + b']><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    b'<row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>'
)
XXE = (
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    b'<row r="1"><c r="A1" t="inlineStr"><is><t>&e;</t></is></c></row></sheetData></worksheet>'
)


def hostile_files() -> dict[str, bytes]:
    good = valid_xlsx()
    return {
        "zip bomb": zip_bomb(),
        "truncated": good[: len(good) // 2],
        "billion laughs": replace_part(good, "xl/worksheets/sheet1.xml", BILLION_LAUGHS),
        "xxe": replace_part(good, "xl/worksheets/sheet1.xml", XXE),
        "xxe in shared strings": replace_part(good, "xl/sharedStrings.xml", XXE),
        "not a zip": b"PK\x03\x04" + b"\x00" * 200,
    }


@pytest.fixture(scope="module")
def hostile():
    return hostile_files()


@pytest.mark.parametrize(
    "what", ["zip bomb", "truncated", "billion laughs", "xxe", "xxe in shared strings", "not a zip"]
)
def test_hostile_xlsx_is_refused_in_chinese_and_writes_nothing(db, hostile, what):
    import resource
    import time

    started = time.monotonic()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ImportRejected) as exc:
        imports.run_import(db, "units", "u.xlsx", hostile[what])
    assert time.monotonic() - started < 10
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200 * 1024  # KiB: < 200 MB more
    text = exc.value.report()
    assert "文件" in text and "Traceback" not in text and "passwd" not in text and "root:" not in text
    assert names(db) == []


@pytest.mark.parametrize("what", ["zip bomb", "truncated", "billion laughs", "xxe"])
def test_hostile_holiday_calendar_upload_is_refused(db, hostile, what):
    with pytest.raises(PortalError) as exc:
        workdays.load_year(db, None, [], filename="2027.xlsx", data=hostile[what])
    assert "文件" in exc.value.message
    assert db.execute("SELECT count(*) FROM calendar_days WHERE date LIKE '2027%'").fetchone()[0] == 0


def test_rows_are_bounded_while_reading(monkeypatch):
    monkeypatch.setattr(limits, "MAX_ROWS", 5)
    data = ("单位名称,单位类型\n" + "".join(f"单位{i},部门\n" for i in range(1000))).encode()
    with pytest.raises(ImportRejected, match="行数"):
        tabular.read_sheet("u.csv", data)
    wb = Workbook()
    for i in range(50):
        wb.active.append([f"单位{i}", "部门"] if i else ["单位名称", "单位类型"])
    buf = io.BytesIO()
    wb.save(buf)
    with pytest.raises(ImportRejected, match="行数"):
        tabular.read_sheet("u.xlsx", buf.getvalue())


def test_csv_with_binary_content_or_a_huge_cell_is_refused():
    with pytest.raises(ImportRejected):
        tabular.read_sheet("u.csv", b"\x00\x01\x02" * 100)
    with pytest.raises(ImportRejected):
        tabular.read_sheet("u.csv", ("单位名称,单位类型\n" + "甲" * 200_000 + ",部门\n").encode())


def test_deflate_ratio_alone_flags_a_bomb():
    # a part that declares a modest size but compresses a thousandfold is refused before parsing
    body = b'<?xml version="1.0"?>' + b" " * (40 << 20)
    assert len(zlib.compress(body)) * 500 < len(body)
    data = replace_part(valid_xlsx(), "xl/worksheets/sheet1.xml", body)
    with pytest.raises(ImportRejected, match="压缩"):
        tabular.read_sheet("u.xlsx", data)


def test_damaged_utf8_is_refused_not_read_as_gbk_mojibake(db):
    data = "单位名称,单位类型\n学院,学院\n部门,部门\n".encode() + b"\x81\x40\n"
    assert data.decode("gb18030")  # as GB18030 it "reads" — as mojibake
    with pytest.raises(ImportRejected) as exc:
        imports.run_import(db, "units", "units.csv", data)
    assert "UTF-8" in exc.value.errors[0].reason and "第 4 行" in exc.value.errors[0].reason
    assert names(db) == []


def lying_bomb() -> bytes:
    """A zip bomb whose headers declare a tiny uncompressed size for the inflating worksheet."""
    import struct

    data = bytearray(zip_bomb())
    name = b"xl/worksheets/sheet1.xml"
    for signature, size_at in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        pos = 0
        while (pos := data.find(signature, pos)) >= 0:
            name_len = struct.unpack_from("<H", data, pos + (26 if signature == b"PK\x03\x04" else 28))[0]
            start = pos + (30 if signature == b"PK\x03\x04" else 46)
            if bytes(data[start : start + name_len]) == name:
                struct.pack_into("<I", data, pos + size_at, 2048)
            pos += 4
    # zip64 extra fields carry the real sizes: drop them by declaring the sizes in the headers only
    return bytes(data)


def test_the_bomb_is_small_and_refused_before_parsing():
    bomb = zip_bomb()
    assert len(bomb) < 1024 * 1024  # well under the upload limit: the uncompressed-size check refuses it
    with pytest.raises(ImportRejected, match="压缩炸弹"):
        tabular.read_sheet("u.xlsx", bomb)


@pytest.mark.timeout(120)  # a reader that believed the data instead of the header would run for ever
def test_a_zip_that_lies_about_its_size_stops_where_it_said(db):
    info = zipfile.ZipFile(io.BytesIO(lying_bomb())).getinfo("xl/worksheets/sheet1.xml")
    assert info.file_size == 2048 and info.compress_size > 100_000
    with pytest.raises(ImportRejected) as exc:
        imports.run_import(db, "units", "u.xlsx", lying_bomb())
    assert "文件" in exc.value.report() and names(db) == []


def test_the_preview_holds_the_first_rows_and_every_flagged_row_as_read():
    from portal import imports
    from portal.errors import RowError

    lines = ["单位名称,单位类型"] + [f"学院{n},学院" for n in range(1, 400)]
    sheet = tabular.read_sheet("u.csv", "\n".join(lines).encode("gb18030"))
    assert sheet.encoding.startswith("GB18030")
    warned = [RowError(n, "单位类型", "提示") for n in range(50, 400, 2)]
    found = imports.decoded(sheet, [RowError(300, "单位名称", "重复")], warned)
    assert found.total == 399 and found.flagged == len(warned)  # row 300, refused as well, is one of them
    numbers = [r.row for r in found.rows]
    assert numbers[:10] == list(range(2, 12))
    assert len(numbers) == 10 + imports.PREVIEW_FLAGGED and found.flagged_shown == imports.PREVIEW_FLAGGED
    assert next(r for r in found.rows if r.row == 50).cells == ["学院49", "学院"]
    assert tabular.read_sheet("u.xlsx", valid_xlsx()).encoding.startswith("Excel")
