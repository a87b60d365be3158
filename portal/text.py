"""What text the portal accepts, judged the same way everywhere.

* ``code``: identifiers people type (工号, 学号, account names): letters, digits and ``_ . @ -``.
* ``name``: names of people, units and posts: printable, no markup or shell characters,
  no emoji; ``·`` and Latin letters are fine (少数民族 and foreign names).
* ``free_text``: what people write (descriptions, opinions, notes): anything printable, emoji
  included, line breaks kept (``multiline=False``: refused); control characters are refused.
* ``line``: one line of free text (names of contact targets, places): spaces collapsed.
* ``control_character``: the one definition of a control character — the Unicode categories
  Cc, Cf, Cs, Co, Cn, Zl, Zp: controls, invisible format characters (right-to-left overrides,
  zero-width spaces, byte-order marks), unpaired surrogates, private-use and unassigned code
  points (noncharacters such as U+FFFF among them), line/paragraph separators. A zero-width
  joiner is allowed only inside an emoji sequence. Imported sheets (``tabular``) use it too.
* ``xml_safe``: text for .xlsx/.docx, for data stored before these rules.
* ``email``: one e-mail address as people type it (``name@example.edu.cn``): ASCII, never a list.

Each returns the cleaned text or raises ``ValidationError`` naming the field in Chinese.
"""

from __future__ import annotations

import re
import unicodedata

from .errors import ValidationError
from .phone import mask as _mask_phone
from .phone import normalize as _normalize_phone

_CODE = re.compile(r"[A-Za-z0-9_.@-]+")
# a comma or semicolon would make one address several (an SMTP server writes to each), quotes and
# angle brackets a display name: none of them in an address people type for themselves
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_NAME_FORBIDDEN = set('<>{}[]\\;|`$"=')
_BAD_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
LINE_BREAKS = "\n\t"
# zero-width joiners and variation selectors (Cf) belong to emoji; other format characters do not
EMOJI_JOINERS = "\u200d\ufe0f"
_ZWJ, _VS16 = "\u200d", "\ufe0f"
_EMOJI_PARTS = {"So", "Sk"}  # pictographs, skin-tone modifiers


def _inside_emoji(text: str, i: int) -> bool:
    """Whether the joiner at ``i`` joins two emoji (👨‍👩‍👧), not two letters (张‍三)."""
    if not 0 < i < len(text) - 1:
        return False
    before, after = text[i - 1], text[i + 1]
    return (before == _VS16 or unicodedata.category(before) in _EMOJI_PARTS) and (
        unicodedata.category(after) == "So"
    )


def control_character(text: str, allow: str = "") -> str | None:
    """The first control character in ``text`` that ``allow`` does not list, else None.
    An allowed zero-width joiner still counts unless it sits inside an emoji sequence."""
    for i, ch in enumerate(text):
        if ch in allow and (ch != _ZWJ or _inside_emoji(text, i)):
            continue
        if unicodedata.category(ch) in _BAD_CATEGORIES:
            return ch
    return None


def _refuse_control(text: str, what: str, allow: str = "") -> None:
    ch = control_character(text, allow)
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
    _refuse_control(text, what)
    if any(ch in _NAME_FORBIDDEN or unicodedata.category(ch) == "So" for ch in text):
        raise ValidationError(f"{what}含有不允许的符号（如 < > {{ }} ; 或表情符号）")
    return text


def free_text(
    value: object, what: str, max_len: int = 5000, required: bool = False, multiline: bool = True
) -> str:
    text = str(value if value is not None else "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        if required:
            raise ValidationError(f"{what}不能为空")
        return ""
    if len(text) > max_len:
        raise ValidationError(f"{what}过长（{len(text)} 个字，上限 {max_len}）")
    _refuse_control(text, what, allow=EMOJI_JOINERS + (LINE_BREAKS if multiline else ""))
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
    _refuse_control(text, what, allow=EMOJI_JOINERS)
    return text


# Characters XML 1.0 cannot hold at all (so neither .xlsx nor .docx): C0 controls but tab and
# line breaks, surrogates, U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(value: str) -> str:
    """Text for a file format built on XML: what XML cannot hold becomes U+FFFD (shown as �),
    everything else is kept. Input is refused such characters; this covers older data."""
    return _NOT_XML.sub("\ufffd", value)


def phone(value: object, what: str = "联系电话", required: bool = True) -> str:
    """A mobile number or a campus extension: the one rule is ``portal.phone.normalize``."""
    return _normalize_phone(value, what, required)


def mask_phone(value: str) -> str:
    """138****1234 — phone numbers in lists are masked (``portal.phone.mask``)."""
    return _mask_phone(value)


def email(value: object, what: str = "电子邮件地址", max_len: int = 200) -> str:
    """One e-mail address, stripped; raises ``ValidationError`` (in Chinese) for anything else."""
    text = str(value or "").strip()
    if len(text) > max_len or not _EMAIL.fullmatch(text):
        raise ValidationError(f"{what}“{text[:50]}”格式不正确")
    return text
