"""A corpus of hostile input, shared by the tests that feed it to services and imports."""

from __future__ import annotations

import functools
import io
import zipfile

HUGE = "测" * 100_000

# Text that no name-like field (姓名, 单位名称, 职务) may accept.
BAD_NAMES = [
    "",
    " ",
    "\t\n ",
    HUGE,
    "x" * 61,
    "\x00",
    "张\x00三",
    "\x1b[31m红色",
    "李\x7f四",
    "王\x08五",
    "赵\u202e六",
    "孙\u200b七",
    "😀",
    "周😀",
    "吴👨‍👩‍👧",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "{{7*7}}",
    "{% for x in y %}",
    "'; DROP TABLE users; --",
    "Robert'); DROP TABLE people;--",
    "$(rm -rf /)",
    "`id`",
    "a|b",
    "\\\\server\\share",
    '" OR ""="',
    "\ud800",
    "\U000f0000",
]
# Text that no code-like field (工号, 学号, 账号) may accept.
BAD_CODES = [
    "",
    " ",
    HUGE,
    "1" * 65,
    "张三",
    "10 01",
    "1001\x00",
    "10\n01",
    "1' OR '1'='1",
    "1;DROP TABLE users",
    "<b>1</b>",
    "😀1",
    "../../etc/passwd",
    "１００１",  # full-width digits
    "%00",
    "1,2",
    "a/b",
    "a\\b",
]
# Dates that are not dates.
BAD_DATES = [
    "2026-02-30",
    "2026-13-01",
    "2026-00-10",
    "0000-00-00",
    "2026/11/32",
    "25.11.2026",
    "tomorrow",
    "明天",
    "2026-11-25T25:00",
    "-1",
    "99999-01-01",
    "2026-11",
    "20261125",
    "2026-11-31",
    "2025-02-29",
    "NaN",
    "1e10",
    "<script>",
    "'; --",
    "2026-1-5-",
    "２０２６-１１-２５",
    "2026-11-25 12:30",
    "2026-11-25abc",
]
# Free text that must be refused (free text otherwise accepts emoji and markup, shown escaped).
BAD_FREE_TEXT = ["\x00", "a\x00b", "\x1b[2J", "\x07bell", "\x7f", HUGE * 2, "\ud83d", "x\u2066y"]
BAD_PHONES = [
    "abc",
    "138 0013 800",
    "13800138000x",
    "0",
    "😀",
    "1380013800",
    "138001380000",
    "+1 555 0100",
    "电话",
    "13800138000; DROP",
    "<13800138000>",
]


def csv_bytes(header: str, *rows: str, encoding: str = "utf-8") -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode(encoding)


def malformed_files() -> list[tuple[str, bytes]]:
    """Files an import must refuse as a whole, with a reason in Chinese."""
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as zf:
        zf.writestr("hello.txt", "not a workbook")
    return [
        ("empty.csv", b""),
        ("bom-only.csv", b"\xef\xbb\xbf"),
        ("undecodable.csv", "单位名称,单位类型\n教务处,部门\n".encode("gbk") + b"\xff\x80"),
        ("binary.csv", b"\x00\x01\x02\x03" * 100),
        ("header-only.csv", "单位名称,单位类型\n".encode()),
        ("no-header.csv", b"\n\n\n"),
        ("dup-header.csv", "单位名称,单位名称,单位类型\n甲,乙,学院\n".encode()),
        ("wrong-columns.csv", b"name,type\nA,college\n"),
        ("quotes.csv", '单位名称,单位类型\n"未闭合的引号,学院\n'.encode()),
        ("fake.xlsx", b"PK\x03\x04 this is not really a zip"),
        ("zip-not-xlsx.xlsx", zipped.getvalue()),
        ("text.xlsx", "单位名称,单位类型\n教务处,部门\n".encode()),
        ("script.exe", b"MZ\x90\x00"),
        ("units.html", b"<html><script>alert(1)</script></html>"),
        ("noext", "单位名称,单位类型\n教务处,部门\n".encode()),
    ]


# Values for a URL's path segments and query parameters (issue 19 §10): numbers too large for SQLite
# or a date, digits that are not ASCII (str.isdigit says yes, int() says no), dates at the calendar's
# edges, control characters, surrogates, markup, traversal, header injection, very long values.
URL_VALUES = [
    "",
    "0",
    "-1",
    "1e999",
    "99999999999999999999999",
    "1" * 30,
    "1" * 30 + "-x",
    "9" * 400,
    "²",
    "²-x",
    "١٢٣",
    "１２３",
    "⑨",
    "9999-12-31",
    "0001-01-01",
    "0000-00-00",
    "2026-02-30",
    "2026-11-24T10:00",
    "NaN",
    "inf",
    "\x00",
    "a\x00b",
    "%00",
    "\ud800",
    "\U000f0000",
    "\u202e",
    "测" * 3000,
    "x" * 10000,
    "../../etc/passwd",
    "..\\..\\win.ini",
    "<script>alert(1)</script>",
    "' OR '1'='1",
    "{{7*7}}",
    "\r\nSet-Cookie: a=b",
    "//evil.example",
    "https://evil.example/",
    "/auth/claim?t=x",
    "2026-0221",
    "AB23CD",
    "admin",
    "10000001",
    "1-x",
    "-",
    "--",
    "1--1",
    "a" * 64 + "-" + "b" * 64,
]
# Already percent-encoded: bytes that are not UTF-8, overlong forms, broken escapes.
RAW_URL_VALUES = ["%ff", "%C0%AF", "%C2%B2-x", "%E6%B5%8B%ZZ", "%", "%%", "%ed%a0%80", "%F4%90%80%80"]


def xlsx_parts(sheet_xml: bytes) -> bytes:
    """A minimal workbook (the parts a reader needs) whose first sheet is ``sheet_xml``."""
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="xml" ContentType="application/xml"/></Types>',
        )
        zf.writestr(
            "xl/workbook.xml",
            f'<?xml version="1.0"?><workbook {ns} {rel}><sheets>'
            '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        zf.writestr(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        )
        zf.writestr("xl/worksheets/sheet1.xml", sheet_xml)
    return out.getvalue()


@functools.cache
def xlsx_element_bomb(cells: int = 10_000_000, elements: tuple[bytes, ...] = (b"<c/>", b"<c />")) -> bytes:
    """A small .xlsx whose one row holds ``cells`` empty cells: 440 KB for ten million, a
    compression ratio of 92 (the two spellings of an empty cell mixed at random, 31 to 1), under
    a zip-bomb check's threshold; a reader that builds a whole row before looking at it needs
    gigabytes. ``elements``: what the row is made of (any element, not only cells)."""
    import random

    ns = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    head = (
        b'<?xml version="1.0"?><worksheet ' + ns + b'><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>'
    )
    head += "单位名称".encode() + b"</t></is></c>"
    weights = [31] + [1] * (len(elements) - 1)
    body = b"".join(random.Random(1).choices(elements, weights=weights, k=cells))
    return xlsx_parts(head + body + b"</row></sheetData></worksheet>")
