"""Today, timestamps, and dates as people read them (2026年11月25日（星期三）).

``PORTAL_TODAY=YYYY-MM-DD`` pins today's date for demos and tests (``YYYY-MM-DDTHH:MM`` pins the
time of day too, for what depends on it, such as which reception slots have ended); the clock is
Beijing time whatever the server's own zone.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from . import config
from .errors import ValidationError

TZ = ZoneInfo("Asia/Shanghai")
# 2026-03-05, 2026-3-5, 2026/3/5, 2026.3.5 (one separator throughout), 2026年3月5日; a midnight
# time after it is what a date cell exported as text carries
_DATE = re.compile(
    r"(?:([0-9]{4})([-/.])([0-9]{1,2})\2([0-9]{1,2})|([0-9]{4})年([0-9]{1,2})月([0-9]{1,2})日)"
    r"(?:[ T]0?0:00(?::00)?)?"
)
WEEKDAYS = "一二三四五六日"


def now() -> dt.datetime:
    real = dt.datetime.now(TZ)
    pinned = config.pinned_now()
    if pinned:
        if len(pinned) > 10:  # a date and a time of day
            return dt.datetime.fromisoformat(pinned).replace(tzinfo=TZ)
        day = dt.date.fromisoformat(pinned)
        return real.replace(year=day.year, month=day.month, day=day.day)
    return real


def today() -> dt.date:
    return now().date()


def stamp() -> str:
    """A timestamp for the database: ISO 8601, Beijing time, seconds."""
    return now().isoformat(timespec="seconds")


DATE_SPELLINGS = "2026-03-05、2026/3/5、2026.3.5 或 2026年3月5日"


def parse_date(value: object, what: str = "日期") -> dt.date:
    """A date from text (``DATE_SPELLINGS``), a date, or a spreadsheet date cell.

    A bare number (a General cell holding Excel's day count) is refused: 46086 might be a
    date or a number typed by hand, so the user is told to format the column as a date.
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise ValidationError(
            f"{what}是一个数字（{value:g}）而不是日期：请在 Excel/WPS 中把该列设置为日期格式，"
            f"或填写 {DATE_SPELLINGS}"
        )
    text = str(value or "").strip()
    if not text:
        raise ValidationError(f"{what}不能为空")
    match = _DATE.fullmatch(text)
    try:
        if match is None:
            raise ValueError
        g = match.groups()
        year, month, day = (g[0], g[2], g[3]) if g[0] else (g[4], g[5], g[6])
        return dt.date(int(year), int(month), int(day))
    except ValueError:
        raise ValidationError(f"{what}“{text[:30]}”不是有效日期，应为 {DATE_SPELLINGS}") from None


def format_date(day: dt.date | str | None, weekday: bool = True) -> str:
    """2026年11月25日（星期三）"""
    if day is None or day == "":
        return ""
    if isinstance(day, str):
        day = dt.date.fromisoformat(day[:10])
    text = f"{day.year}年{day.month}月{day.day}日"
    return f"{text}（星期{WEEKDAYS[day.weekday()]}）" if weekday else text


_ISO_DATE = re.compile(r"(?<![\d-])([0-9]{4})-([0-9]{2})-([0-9]{2})(?![\d-])")


def in_words(text: str) -> str:
    """A stored text (a log entry's details) with its ISO dates as people read them:
    2026-12-30 → 2026年12月30日. Other numbers (case 2026-0221) stay as they are."""

    def word(m: re.Match) -> str:
        try:
            return format_date(dt.date(int(m[1]), int(m[2]), int(m[3])), weekday=False)
        except ValueError:
            return m[0]

    return _ISO_DATE.sub(word, text or "")


def format_stamp(value: str | None) -> str:
    """2026年11月25日 14:30 from a stored timestamp."""
    if not value:
        return ""
    moment = dt.datetime.fromisoformat(value)
    return f"{format_date(moment.date(), weekday=False)} {moment:%H:%M}"
