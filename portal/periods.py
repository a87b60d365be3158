"""The academic calendar and the periods quotas are counted over (docs/rules.md §2).

Semesters are data an administrator edits (table ``semesters``): dates, teaching weeks, and the
vacations between them. The defaults are autumn 1 Sep–31 Jan (``2026-2027-1``) and spring
1 Feb–31 Aug (``2026-2027-2``); a semester not in the table takes its default dates, so nothing
breaks for a year nobody set up.

Period keys: month ``2026-11``, semester ``2026-2027-1``, academic year ``2026-2027``,
year ``2026``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from pydantic import BaseModel, model_validator
from sqlite_utils import Database

from .db import write
from .errors import NotFound, ValidationError

KINDS = ("month", "semester", "academic_year", "year")
KIND_LABELS = {"month": "月度", "semester": "学期", "academic_year": "学年", "year": "年度"}
TERM_NAMES = {1: "第一学期", 2: "第二学期"}
DEFAULT_YEARS = range(2024, 2028)  # academic years 2024-2025 … 2027-2028 seeded for demos
TEACHING_WEEKS = 19  # teaching and exams, as the default
_SEMESTER_KEY = re.compile(r"(\d{4})-(\d{4})-([12])")
_ACADEMIC_KEY = re.compile(r"(\d{4})-(\d{4})")
_MONTH_KEY = re.compile(r"(\d{4})-(\d{2})")
_YEAR_KEY = re.compile(r"\d{4}")


class Semester(BaseModel):
    key: str  # 2026-2027-1
    academic_year: str  # 2026-2027
    name: str  # 2026-2027学年第一学期
    start_date: dt.date
    end_date: dt.date
    teaching_start: dt.date
    teaching_end: dt.date
    stored: bool = True  # False: default dates, not in the table

    @model_validator(mode="after")
    def _ordered(self) -> Semester:
        match = _SEMESTER_KEY.fullmatch(self.key)
        if not match or int(match[2]) != int(match[1]) + 1:
            raise ValueError(f"学期编号“{self.key}”应形如 2026-2027-1（第一学期）或 2026-2027-2（第二学期）")
        if self.academic_year != f"{match[1]}-{match[2]}":
            raise ValueError("学期编号与学年不一致")
        if not (self.start_date <= self.teaching_start <= self.teaching_end <= self.end_date):
            raise ValueError("日期顺序应为：学期开始 ≤ 教学开始 ≤ 教学结束 ≤ 学期结束")
        if (self.end_date - self.start_date).days > 250:
            raise ValueError("一个学期不能超过 250 天")
        return self

    @property
    def term(self) -> int:
        return int(self.key[-1])

    @property
    def teaching_weeks(self) -> list[tuple[int, dt.date, dt.date]]:
        """(week number, Monday, Sunday) of each teaching week; week 1 holds ``teaching_start``."""
        monday = self.teaching_start - dt.timedelta(days=self.teaching_start.weekday())
        weeks, n = [], 1
        while monday <= self.teaching_end:
            weeks.append((n, monday, monday + dt.timedelta(days=6)))
            monday += dt.timedelta(days=7)
            n += 1
        return weeks

    def week_of(self, day: dt.date) -> int | None:
        """The teaching week ``day`` falls in (1-based), or None outside teaching."""
        if not self.teaching_start <= day <= self.teaching_end:
            return None
        first_monday = self.teaching_start - dt.timedelta(days=self.teaching_start.weekday())
        return (day - first_monday).days // 7 + 1

    @property
    def vacations(self) -> list[tuple[str, dt.date, dt.date]]:
        """The non-teaching stretches inside the semester: (name, first day, last day)."""
        before = "暑假" if self.term == 1 else "寒假"
        after = "寒假" if self.term == 1 else "暑假"
        out = []
        if self.start_date < self.teaching_start:
            out.append((before, self.start_date, self.teaching_start - dt.timedelta(days=1)))
        if self.teaching_end < self.end_date:
            out.append((after, self.teaching_end + dt.timedelta(days=1), self.end_date))
        return out

    def contains(self, day: dt.date) -> bool:
        return self.start_date <= day <= self.end_date


@dataclass(frozen=True)
class Period:
    kind: str  # month / semester / academic_year / year
    key: str
    start: dt.date
    end: dt.date
    label: str

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end

    def elapsed_share(self, today: dt.date) -> float:
        """How much of the period has passed by the end of ``today`` (0–1)."""
        if today < self.start:
            return 0.0
        if today >= self.end:
            return 1.0
        return ((today - self.start).days + 1) / self.days


# --- defaults ------------------------------------------------------------------------------


def _monday_on_or_after(day: dt.date) -> dt.date:
    return day + dt.timedelta(days=(7 - day.weekday()) % 7)


def default_semester(key: str) -> Semester:
    """docs/rules.md §2 bounds, teaching from early September to mid January and from the last
    week of February (after the Spring Festival) to early July, 19 weeks with exams."""
    match = _SEMESTER_KEY.fullmatch(key)
    if not match:
        raise ValidationError(f"学期编号“{key}”应形如 2026-2027-1")
    first, term = int(match[1]), int(match[3])
    if term == 1:
        start, end = dt.date(first, 9, 1), dt.date(first + 1, 1, 31)
        teaching_start = _monday_on_or_after(start)
    else:
        start, end = dt.date(first + 1, 2, 1), dt.date(first + 1, 8, 31)
        teaching_start = _monday_on_or_after(dt.date(first + 1, 2, 24))
    teaching_end = teaching_start + dt.timedelta(weeks=TEACHING_WEEKS, days=-1)
    return Semester(
        key=key,
        academic_year=f"{first}-{first + 1}",
        name=f"{first}-{first + 1}学年{TERM_NAMES[term]}",
        start_date=start,
        end_date=end,
        teaching_start=teaching_start,
        teaching_end=teaching_end,
        stored=False,
    )


def seed_default_semesters(db: Database, years: range = DEFAULT_YEARS) -> int:
    """Store the default semesters of academic years ``years`` that are not stored yet."""
    added = 0
    with write(db):
        for first in years:
            for term in (1, 2):
                sem = default_semester(f"{first}-{first + 1}-{term}")
                if db.execute("SELECT 1 FROM semesters WHERE key = ?", [sem.key]).fetchone():
                    continue
                db.execute(
                    "INSERT INTO semesters (key, academic_year, name, start_date, end_date, teaching_start, "
                    "teaching_end) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    _row(sem),
                )
                added += 1
    return added


def _row(sem: Semester) -> list:
    return [
        sem.key,
        sem.academic_year,
        sem.name,
        sem.start_date.isoformat(),
        sem.end_date.isoformat(),
        sem.teaching_start.isoformat(),
        sem.teaching_end.isoformat(),
    ]


# --- semesters -----------------------------------------------------------------------------


def semesters(db: Database) -> list[Semester]:
    """Every stored semester, in date order."""
    return [Semester(**r) for r in db.query("SELECT * FROM semesters ORDER BY start_date")]


def get_semester(db: Database, key: str) -> Semester:
    """A stored semester, else its default dates."""
    rows = list(db.query("SELECT * FROM semesters WHERE key = ?", [key]))
    return Semester(**rows[0]) if rows else default_semester(key)


def _semester_keys_around(day: dt.date) -> list[str]:
    first = day.year - 1
    return [f"{y}-{y + 1}-{t}" for y in (first - 1, first, first + 1) for t in (1, 2)]


def semester_containing(db: Database, day: dt.date) -> Semester:
    """The semester holding ``day``: a stored one, else the default that does."""
    rows = list(
        db.query(
            "SELECT * FROM semesters WHERE start_date <= ? AND end_date >= ? ORDER BY start_date LIMIT 1",
            [day.isoformat(), day.isoformat()],
        )
    )
    if rows:
        return Semester(**rows[0])
    for key in _semester_keys_around(day):
        sem = get_semester(db, key)
        if sem.contains(day):
            return sem
    # stored neighbours leave a gap: the default semester for the day's side of the year
    first = day.year if day.month >= 9 else day.year - 1
    return default_semester(f"{first}-{first + 1}-{1 if day.month >= 9 or day.month == 1 else 2}")


def save_semester(db: Database, sem: Semester) -> Semester:
    """Create or update a semester; it may not overlap another stored semester."""
    try:
        sem = Semester.model_validate({**sem.model_dump(), "stored": True})
    except ValueError as exc:
        raise ValidationError(_first_error(exc)) from None
    with write(db):
        clash = db.execute(
            "SELECT key FROM semesters WHERE key != ? AND start_date <= ? AND end_date >= ?",
            [sem.key, sem.end_date.isoformat(), sem.start_date.isoformat()],
        ).fetchone()
        if clash:
            raise ValidationError(f"与学期 {clash[0]} 的日期重叠")
        db.execute("DELETE FROM semesters WHERE key = ?", [sem.key])
        db.execute(
            "INSERT INTO semesters (key, academic_year, name, start_date, end_date, teaching_start, "
            "teaching_end) VALUES (?, ?, ?, ?, ?, ?, ?)",
            _row(sem),
        )
    return sem


def delete_semester(db: Database, key: str) -> None:
    with write(db):
        if db.execute("DELETE FROM semesters WHERE key = ?", [key]).rowcount == 0:
            raise NotFound(f"学期 {key} 不存在")


def _first_error(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        msgs = [str(e.get("msg", "")).removeprefix("Value error, ") for e in errors()]
        return "；".join(m for m in msgs if m) or "学期数据无效"
    return str(exc)


# --- periods -------------------------------------------------------------------------------


def month_period(year: int, month: int) -> Period:
    start = dt.date(year, month, 1)
    end = (dt.date(year + (month == 12), month % 12 + 1, 1)) - dt.timedelta(days=1)
    return Period("month", f"{year:04d}-{month:02d}", start, end, f"{year}年{month}月")


def year_period(year: int) -> Period:
    return Period("year", f"{year:04d}", dt.date(year, 1, 1), dt.date(year, 12, 31), f"{year}年")


def semester_period(sem: Semester) -> Period:
    return Period("semester", sem.key, sem.start_date, sem.end_date, sem.name)


def academic_year_period(db: Database, first: int) -> Period:
    """From the first semester's start to the second's end (1 Sep – 31 Aug by default)."""
    autumn = get_semester(db, f"{first}-{first + 1}-1")
    spring = get_semester(db, f"{first}-{first + 1}-2")
    key = f"{first}-{first + 1}"
    return Period("academic_year", key, autumn.start_date, spring.end_date, f"{key}学年")


def academic_year_of(db: Database, day: dt.date) -> Period:
    sem = semester_containing(db, day)
    return academic_year_period(db, int(sem.key[:4]))


def period_containing(db: Database, kind: str, day: dt.date) -> Period:
    if kind == "month":
        return month_period(day.year, day.month)
    if kind == "year":
        return year_period(day.year)
    if kind == "semester":
        return semester_period(semester_containing(db, day))
    if kind == "academic_year":
        return academic_year_of(db, day)
    raise ValidationError(f"未知的期间类型“{kind}”")


# The years a period key may name: those of the API's dates (portal/api.py). Past them the calendar
# overflows (the month after December 9999, a deadline after 31 December 9999).
KEY_YEARS = range(1900, 3000)


def period_from_key(db: Database, key: str) -> Period:
    """``2026-11`` month, ``2026`` year, ``2026-2027`` academic year, ``2026-2027-1`` semester."""
    key = (key or "").strip()
    first = re.match(r"\d{4}", key)
    if first is not None and int(first[0]) not in KEY_YEARS:
        raise ValidationError(f"期间“{key[:30]}”超出范围（{KEY_YEARS.start}–{KEY_YEARS.stop - 1} 年）")
    if match := _SEMESTER_KEY.fullmatch(key):
        if int(match[2]) == int(match[1]) + 1:
            return semester_period(get_semester(db, key))
    elif (match := _ACADEMIC_KEY.fullmatch(key)) and int(match[2]) == int(match[1]) + 1:
        return academic_year_period(db, int(match[1]))
    if (match := _MONTH_KEY.fullmatch(key)) and 1 <= int(match[2]) <= 12:
        return month_period(int(match[1]), int(match[2]))
    if _YEAR_KEY.fullmatch(key) and int(key) >= 1900:
        return year_period(int(key))
    raise ValidationError(
        f"期间“{key[:30]}”无法识别：应为年（2026）、月（2026-11）、学年（2026-2027）或学期（2026-2027-1）"
    )


def periods_overlapping(db: Database, kind: str, since: dt.date, on: dt.date) -> list[Period]:
    """Every period of ``kind`` that overlaps [since, on], in date order."""
    if since > on:
        raise ValidationError("开始日期晚于结束日期")
    out: list[Period] = []
    day = since
    while day <= on:
        period = period_containing(db, kind, day)
        if not out or out[-1].key != period.key:
            out.append(period)
        day = max(period.end, day) + dt.timedelta(days=1)
    return out


def current_periods(db: Database, today: dt.date) -> dict[str, Period]:
    """This month, semester, academic year and year."""
    return {kind: period_containing(db, kind, today) for kind in KINDS}
