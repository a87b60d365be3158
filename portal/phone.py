"""The one rule for telephone numbers: a mainland mobile number or a campus extension.

Bookings, people (accounts' 手机号) and imports all call ``normalize``, so a number accepted in
one place is accepted everywhere and stored the same way:

* a mainland mobile number — 11 digits ``1[3-9]xxxxxxxxx``, optionally written with ``+86``/``86``,
  spaces or hyphens (``+86 138-0013-8000`` is stored as ``13800138000``);
* a campus extension — by default 4 or 5 digits (``8123``, ``39801``). A campus whose extensions look
  different sets the regular expression ``PORTAL_PHONE_EXTENSION`` (matched against the digits, after
  spaces and hyphens are removed), e.g. ``\\d{4,5}|0391\\d{7}`` to accept landlines with the 焦作 area code
  as well. See docs/configuration.md.
"""

from __future__ import annotations

import re
from functools import lru_cache

from . import config
from .errors import ValidationError

DEFAULT_EXTENSION = r"\d{4,5}"  # settings.Settings.phone_extension's default
MAX_DIGITS = 20
_MOBILE = re.compile(r"(?:\+?86)?(1[3-9]\d{9})", re.ASCII)
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212]")  # spaces and every kind of dash people type


def extension_pattern() -> re.Pattern[str]:
    """The campus extension rule in force (``PORTAL_PHONE_EXTENSION``, checked at start: an
    expression that does not compile is refused there)."""
    return _compiled(config.settings().phone_extension)


@lru_cache(maxsize=8)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def normalize(value: object, what: str = "联系电话", required: bool = True) -> str:
    """The number as stored (digits only, mobile numbers without +86), or a Chinese ValidationError."""
    text = _SEPARATORS.sub("", str(value if value is not None else ""))
    if not text:
        if required:
            raise ValidationError(f"{what}不能为空")
        return ""
    if len(text) > MAX_DIGITS:  # before any pattern runs: no phone number is this long
        raise ValidationError(f"{what}过长（{len(text)} 个字符）：请填写 11 位手机号或校内分机号")
    mobile = _MOBILE.fullmatch(text)
    if mobile:
        return mobile.group(1)
    if text.isascii() and text.isdigit() and extension_pattern().fullmatch(text):
        return text
    raise ValidationError(
        f"{what}“{text[:20]}”不是有效的号码：请填写 11 位手机号（如 13800138000）或校内分机号"
    )


def mask(value: str) -> str:
    """138****1234 — numbers in lists are masked: a mobile number (or one of 11 digits or more, with
    its area code) shows its first three and last four digits; anything shorter — an extension, a
    local landline a campus accepts through ``PORTAL_PHONE_EXTENSION`` — its last two only (the first
    three and the last four of a 7-digit number are the whole number)."""
    if len(value) >= 11:
        return value[:3] + "*" * (len(value) - 7) + value[-4:]
    if len(value) >= 4:
        return "*" * (len(value) - 2) + value[-2:]
    return "*" * len(value)
