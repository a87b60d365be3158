"""What text the portal accepts, judged the same way everywhere.

* ``code``: identifiers people type (工号, 学号, account names): letters, digits and ``_ . @ -``.
* ``name``: names of people, units and posts: printable, no markup or shell characters,
  no emoji; ``·`` and Latin letters are fine (少数民族 and foreign names).
* ``free_text``: what people write (descriptions, opinions): anything printable, emoji
  included, line breaks kept.
* ``line``: one line of free text (names of contact targets, places): whitespace collapsed.

All of them refuse characters that hide or reorder what a reader sees (``hidden_char``):
control and format characters (right-to-left overrides, zero-width spaces, byte-order
marks), line/paragraph separators, surrogates, private-use code points and
noncharacters such as U+FFFF. A zero-width joiner is kept only inside an emoji sequence.

Each returns the cleaned text or raises ``ValidationError`` naming the field in Chinese.
"""

from __future__ import annotations

import re
import unicodedata

from .errors import ValidationError

_CODE = re.compile(r"[A-Za-z0-9_.@-]+")
_NAME_FORBIDDEN = set('<>{}[]\\;|`$"=')
_BAD_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
_ZWJ = "\u200d"
_EMOJI_PARTS = {"So", "Sk"}  # pictographs, skin-tone modifiers
_VS16 = "\ufe0f"


def hidden_char(text: str, multiline: bool = False) -> str | None:
    """The first character that would hide or reorder text, or None. ``multiline`` allows
    line breaks and tabs."""
    for i, ch in enumerate(text):
        if multiline and ch in "\n\t":
            continue
        if unicodedata.category(ch) not in _BAD_CATEGORIES:
            continue
        if ch == _ZWJ and 0 < i < len(text) - 1:
            before, after = text[i - 1], text[i + 1]
            emoji_before = before == _VS16 or unicodedata.category(before) in _EMOJI_PARTS
            if emoji_before and unicodedata.category(after) == "So":
                continue  # 👨‍👩‍👧: a joiner inside an emoji sequence
        return ch
    return None


def _refuse_hidden(text: str, what: str, multiline: bool = False) -> None:
    ch = hidden_char(text, multiline)
    if ch is not None:
        raise ValidationError(f"{what}含有不可见的控制字符（U+{ord(ch):04X}），请删除后重新输入")


def code(value: object, what: str = "工号", max_len: int = 30) -> str:
    text = str(value if value is not None else "").strip()
    if not text:
        raise ValidationError(f"{what}不能为空")
    if len(text) > max_len:
        raise ValidationError(f"{what}过长（{len(text)} 个字符，上限 {max_len}）")
    if not _CODE.fullmatch(text):
        raise ValidationError(f"{what}只能由字母、数字和 _ . @ - 组成")
    return text


def name(value: object, what: str = "姓名", max_len: int = 50, required: bool = True) -> str:
    text = " ".join(str(value if value is not None else "").split())
    if not text:
        if required:
            raise ValidationError(f"{what}不能为空")
        return ""
    if len(text) > max_len:
        raise ValidationError(f"{what}过长（{len(text)} 个字，上限 {max_len}）")
    _refuse_hidden(text, what)
    if any(ch in _NAME_FORBIDDEN or unicodedata.category(ch) == "So" for ch in text):
        raise ValidationError(f"{what}含有不允许的符号（如 < > {{ }} ; 或表情符号）")
    return text


def free_text(value: object, what: str, max_len: int = 5000, required: bool = False) -> str:
    text = str(value if value is not None else "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        if required:
            raise ValidationError(f"{what}不能为空")
        return ""
    if len(text) > max_len:
        raise ValidationError(f"{what}过长（{len(text)} 个字，上限 {max_len}）")
    _refuse_hidden(text, what, multiline=True)
    return text


def line(value: object, what: str, max_len: int = 100, required: bool = True) -> str:
    """One line of free text: runs of spaces collapse to one; no line breaks."""
    raw = str(value if value is not None else "").strip()
    if "\n" in raw or "\r" in raw:
        raise ValidationError(f"{what}不能换行")
    text = re.sub(r"[ \t]+", " ", raw)
    if not text:
        if required:
            raise ValidationError(f"{what}不能为空")
        return ""
    if len(text) > max_len:
        raise ValidationError(f"{what}过长（{len(text)} 个字，上限 {max_len}）")
    _refuse_hidden(text, what)
    return text


# Characters XML 1.0 cannot hold at all (so neither .xlsx nor .docx): C0 controls but tab and
# line breaks, surrogates, U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(value: str) -> str:
    """Text for a file format built on XML: what XML cannot hold becomes U+FFFD (shown as �),
    everything else is kept. Input is refused such characters; this covers older data."""
    return _NOT_XML.sub("\ufffd", value)


def phone(value: object, what: str = "联系电话", required: bool = True) -> str:
    text = re.sub(r"[\s-]", "", str(value if value is not None else ""))
    if not text:
        if required:
            raise ValidationError(f"{what}不能为空")
        return ""
    if not re.fullmatch(r"(\+?86)?1\d{10}|0\d{2,3}\d{7,8}|\d{4,8}", text):
        raise ValidationError(f"{what}“{text[:20]}”不是有效的手机号或电话号码")
    return text


def mask_phone(value: str) -> str:
    """138****1234 — phone numbers in lists are masked."""
    if len(value) >= 7:
        return value[:3] + "*" * (len(value) - 7) + value[-4:]
    return "*" * len(value)
