"""Today, timestamps, and dates as people read them (2026年11月25日（星期三）).

``PORTAL_TODAY=YYYY-MM-DD`` pins today's date for demos and tests (``YYYY-MM-DDTHH:MM`` pins the
time of day too, for what depends on it, such as which reception slots have ended); the clock is
Beijing time whatever the server's own zone.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from zoneinfo import ZoneInfo

from .errors import ValidationError

TZ = ZoneInfo("Asia/Shanghai")
_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})(?:[ T]00:00(?::00)?)?")
WEEKDAYS = "一二三四五六日"


def now() -> dt.datetime:
    real = dt.datetime.now(TZ)
    pinned = os.environ.get("PORTAL_TODAY")
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


def parse_date(value: object, what: str = "日期") -> dt.date:
    """A date from ``YYYY-MM-DD`` text, a date or a spreadsheet datetime cell."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value or "").strip()
    if not text:
        raise ValidationError(f"{what}不能为空")
    # YYYY-MM-DD, or a spreadsheet date cell exported as text with a midnight time
    match = _DATE.fullmatch(text)
    try:
        if match is None:
            raise ValueError
        return dt.date.fromisoformat(match.group(1))
    except ValueError:
        raise ValidationError(f"{what}“{text[:30]}”不是有效日期，应为 YYYY-MM-DD 格式") from None


def format_date(day: dt.date | str | None, weekday: bool = True) -> str:
    """2026年11月25日（星期三）"""
    if day is None or day == "":
        return ""
    if isinstance(day, str):
        day = dt.date.fromisoformat(day[:10])
    text = f"{day.year}年{day.month}月{day.day}日"
    return f"{text}（星期{WEEKDAYS[day.weekday()]}）" if weekday else text


def format_stamp(value: str | None) -> str:
    """2026年11月25日 14:30 from a stored timestamp."""
    if not value:
        return ""
    moment = dt.datetime.fromisoformat(value)
    return f"{format_date(moment.date(), weekday=False)} {moment:%H:%M}"
