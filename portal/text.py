"""What text the portal accepts, judged the same way everywhere.

* ``code``: identifiers people type (工号, 学号, account names): letters, digits and ``_ . @ -``.
* ``name``: names of people, units and posts: printable, no markup or shell characters,
  no emoji; ``·`` and Latin letters are fine (少数民族 and foreign names).
* ``free_text``: what people write (descriptions, opinions, notes): anything printable, emoji
  included, line breaks kept (``multiline=False``: refused); control characters are refused.
* ``control_character``: the one definition of a control character — the Unicode categories
  Cc, Cf, Cs, Co, Cn (controls, invisible format characters, unpaired surrogates, private-use
  and unassigned code points). Imported sheets (``tabular``) use it too.

Each returns the cleaned text or raises ``ValidationError`` naming the field in Chinese.
"""

from __future__ import annotations

import re
import unicodedata

from .errors import ValidationError
from .phone import mask as _mask_phone
from .phone import normalize as _normalize_phone

_CODE = re.compile(r"[A-Za-z0-9_.@-]+")
_NAME_FORBIDDEN = set('<>{}[]\\;|`$"=')
_BAD_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn"}
LINE_BREAKS = "\n\t"
# zero-width joiners and variation selectors (Cf) belong to emoji; other format characters do not
EMOJI_JOINERS = "\u200d\ufe0f"


def control_character(text: str, allow: str = "") -> str | None:
    """The first control character in ``text`` that ``allow`` does not list, else None."""
    for ch in text:
        if ch in allow:
            continue
        if unicodedata.category(ch) in _BAD_CATEGORIES:
            return ch
    return None


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
    if control_character(text) is not None:
        raise ValidationError(f"{what}含有不可见的控制字符")
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
    if control_character(text, allow=EMOJI_JOINERS + (LINE_BREAKS if multiline else "")) is not None:
        raise ValidationError(f"{what}含有不可见的控制字符")
    return text


def phone(value: object, what: str = "联系电话", required: bool = True) -> str:
    """A mobile number or a campus extension: the one rule is ``portal.phone.normalize``."""
    return _normalize_phone(value, what, required)


def mask_phone(value: str) -> str:
    """138****1234 — phone numbers in lists are masked (``portal.phone.mask``)."""
    return _mask_phone(value)
