"""CSV and tab-separated text as people save it.

Excel on a Chinese Windows saves "CSV (逗号分隔)" in GBK, "Unicode 文本" as UTF-16 with a BOM and tabs;
others save UTF-8 with or without a BOM. The encoding is decided by the BOM, else by strict decoding as
UTF-8, then GB18030 (a superset of GBK: 4-byte characters such as 𠀀 survive) — never a guess that could
produce mojibake. The separator is a comma or a tab.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator

from . import limits
from .limits import refuse

ENCODINGS_TRIED = "UTF-8、GB18030（含 GBK）、UTF-16"
_CJK = re.compile(r"[\u4e00-\u9fff]")


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
                raise refuse(f"文件开头标明为 {encoding.upper()} 编码，但内容无法按此编码读取") from None
    try:
        return data.decode("utf-8"), ENCODING_NAMES["utf-8"]
    except UnicodeDecodeError as exc:
        # UTF-8 with a few damaged bytes would often still "decode" as GB18030, as mojibake: when
        # most of its Chinese reads as UTF-8, it is a damaged UTF-8 file, not a GBK one
        lenient = data.decode("utf-8", errors="replace")
        if _CJK.findall(lenient).__len__() > lenient.count("\ufffd"):
            line = data[: exc.start].count(b"\n") + 1
            raise refuse(
                f"文件是 UTF-8 编码，但第 {line} 行有损坏的字节（已尝试 {ENCODINGS_TRIED}）；请检查该行后重新保存"
            ) from None
    try:
        return data.decode("gb18030"), ENCODING_NAMES["gb18030"]
    except UnicodeDecodeError:
        pass
    raise refuse(
        f"无法识别文件的文字编码（已尝试 {ENCODINGS_TRIED}）；请在 Excel/WPS 中另存为“CSV UTF-8”或 .xlsx"
    )


def read_text(text: str) -> Iterator[tuple[int, list[object]]]:
    if "\x00" in text:
        raise refuse("文件含有二进制内容，不是文本 CSV")
    first = text.split("\n", 1)[0]
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    return _csv_rows(reader)


def _csv_rows(reader) -> Iterator[tuple[int, list[object]]]:
    number = 0
    try:
        for number, row in enumerate(reader, start=1):  # noqa: B007 — number names the bad line
            if number > limits.MAX_ROWS + 1:
                raise refuse(f"行数超过上限 {limits.MAX_ROWS:,}，请分成几个文件导入", "文件过大")
            yield number, list(row)
    except csv.Error as exc:
        raise refuse(f"第 {number + 1} 行 CSV 格式错误（{exc}）") from None
