"""The working-day calendar: Monday–Friday, minus China's statutory holidays, plus the official
make-up working days (调休), plus the university's own overrides (which win over everything).

* ``calendar_days`` holds the official arrangement, one row per special day, seeded from the
  ``chinesecalendar`` package (``seed_from_package``, run by ``portal.seeds`` for a new database and by ``portal init``)
  and extended by an administrator with ``load_year`` when the State Council publishes the next
  year's arrangement. ``calendar_years`` says which years are loaded.
* For a year that is not loaded the calendar falls back to Monday–Friday. That is a guess, so
  callers show ``fallback_warning`` (stderr in the CLI, a banner in the UI) — never silently.
* Deadlines (docs/rules.md §5): the day of the contact does not count; the deadline is the end of the
  N-th working day after it (``due_date``).

The file format for ``load_year`` (CSV UTF-8 or .xlsx, first sheet; header on row 1):

    日期        类型      名称
    2027-01-01  休息日    元旦
    2027-02-06  工作日    春节调休

``类型`` is 休息日 (a weekday off) or 工作日 (a weekend day worked); every listed date must be in
the year being loaded; days not listed follow Monday–Friday. Loading replaces the year's rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import chinese_calendar
from sqlite_utils import Database

from . import audit, dates, hooks, tabular, text
from .db import write
from .errors import ImportRejected, RowError, ValidationError

PACKAGE_SOURCE = "chinesecalendar"
COLUMNS = ("日期", "类型", "名称")
TYPES = {"休息日": 0, "工作日": 1}
TYPE_LABELS = {0: "休息日", 1: "工作日"}
HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}
MAX_WORKING_DAYS = 366


# --- the calendar as an in-memory object ---------------------------------------------------


@dataclass
class WorkCalendar:
    """The special days of a date range, read once; answers many questions without queries."""

    special: dict[dt.date, bool] = field(default_factory=dict)  # overrides already applied
    loaded: set[int] = field(default_factory=set)

    def is_working(self, day: dt.date) -> bool:
        found = self.special.get(day)
        return found if found is not None else day.weekday() < 5

    def due(self, day: dt.date, working_days: int) -> dt.date:
        current, left = day, working_days
        while left > 0:
            current += dt.timedelta(days=1)
            if self.is_working(current):
                left -= 1
        return current

    def count(self, start: dt.date, end: dt.date) -> int:
        """Working days in (start, end]."""
        total, current = 0, start
        while current < end:
            current += dt.timedelta(days=1)
            total += self.is_working(current)
        return total


def calendar(db: Database, start: dt.date, end: dt.date) -> WorkCalendar:
    """The calendar for [start, end]: official rows, then the university's overrides on top."""
    lo, hi = start.isoformat(), end.isoformat()
    special = {
        dt.date.fromisoformat(d): bool(w)
        for d, w in db.execute(
            "SELECT date, is_workday FROM calendar_days WHERE date BETWEEN ? AND ?", [lo, hi]
        )
    }
    for d, w in db.execute(
        "SELECT date, is_workday FROM calendar_overrides WHERE date BETWEEN ? AND ?", [lo, hi]
    ):
        special[dt.date.fromisoformat(d)] = bool(w)
    loaded = {r[0] for r in db.execute("SELECT year FROM calendar_years")}
    return WorkCalendar(special=special, loaded=loaded)


def _span(working_days: int) -> dt.timedelta:
    # generous: the longest break is 9 days, and a week has at least 3 working days
    return dt.timedelta(days=working_days * 3 + 30)


# --- the public questions -----------------------------------------------------------------


def is_working_day(db: Database, day: dt.date) -> bool:
    return calendar(db, day, day).is_working(day)


def due_date(db: Database, day: dt.date, working_days: int) -> dt.date:
    """The end of the ``working_days``-th working day after ``day`` (``day`` itself does not count)."""
    if working_days < 0 or working_days > MAX_WORKING_DAYS:
        raise ValidationError(f"工作日数须在 0～{MAX_WORKING_DAYS} 之间")
    return calendar(db, day, day + _span(working_days)).due(day, working_days)


def working_days_left(db: Database, today: dt.date, due: dt.date) -> int:
    """0 when due today; positive: working days still to go; negative: working days overdue
    (at least -1 once the due day has passed, even over a weekend)."""
    if today == due:
        return 0
    if today < due:
        return calendar(db, today, due).count(today, due)
    return -max(1, calendar(db, due, today).count(due, today))


def unloaded_years(db: Database, start: dt.date, end: dt.date) -> list[int]:
    """Years of [start, end] whose official arrangement is not loaded (Monday–Friday is a guess there)."""
    loaded = {r[0] for r in db.execute("SELECT year FROM calendar_years")}
    return [y for y in range(start.year, end.year + 1) if y not in loaded]


def fallback_warning(years: Iterable[int]) -> str | None:
    """The message to show when a computation touched years that are not loaded."""
    years = sorted(set(years))
    if not years:
        return None
    listed = "、".join(f"{y} 年" for y in years)
    return (
        f"{listed}的法定节假日和调休安排尚未导入，这些日期暂按周一至周五计算工作日，可能不准确。"
        "请管理员在“校历与工作日”页面（或在服务器上运行 `portal calendar load`）导入国务院办公厅公布的安排。"
    )


def calendar_warning(db: Database, start: dt.date, end: dt.date) -> str | None:
    return fallback_warning(unloaded_years(db, start, end))


# --- loading the official arrangement -----------------------------------------------------


@dataclass
class YearInfo:
    year: int
    source: str
    loaded_at: str
    holidays: int
    workdays: int


def loaded_years(db: Database) -> list[YearInfo]:
    rows = db.query(
        "SELECT y.year, y.source, y.loaded_at, "
        "(SELECT count(*) FROM calendar_days d WHERE substr(d.date, 1, 4) = printf('%04d', y.year) "
        " AND d.is_workday = 0) AS holidays, "
        "(SELECT count(*) FROM calendar_days d WHERE substr(d.date, 1, 4) = printf('%04d', y.year) "
        " AND d.is_workday = 1) AS workdays "
        "FROM calendar_years y ORDER BY y.year"
    )
    return [YearInfo(**r) for r in rows]


@dataclass
class SpecialDay:
    date: dt.date
    is_workday: bool
    name: str
    source: str

    @property
    def type_label(self) -> str:
        return TYPE_LABELS[int(self.is_workday)]


def special_days(db: Database, year: int) -> list[SpecialDay]:
    return [
        SpecialDay(
            date=dt.date.fromisoformat(r["date"]),
            is_workday=bool(r["is_workday"]),
            name=r["name"],
            source=r["source"],
        )
        for r in db.query(
            "SELECT date, is_workday, name, source FROM calendar_days WHERE date LIKE ? ORDER BY date",
            [f"{year:04d}-%"],
        )
    ]


def package_rows(year: int) -> list[dict]:
    """The official arrangement of ``year`` as the chinesecalendar package knows it ([] if it does not)."""
    rows = [
        {"date": d, "is_workday": 0, "name": HOLIDAY_NAMES.get(name, name)}
        for d, name in chinese_calendar.holidays.items()
        if d.year == year
    ]
    rows += [
        {"date": d, "is_workday": 1, "name": f"{HOLIDAY_NAMES.get(name, name)}调休上班"}
        for d, name in chinese_calendar.workdays.items()
        if d.year == year
    ]
    return sorted(rows, key=lambda r: r["date"])


def package_years() -> list[int]:
    years = {d.year for d in chinese_calendar.holidays} | {d.year for d in chinese_calendar.workdays}
    return sorted(years)


def seed_from_package(db: Database) -> list[int]:
    """Load every year the installed chinesecalendar knows that is not loaded yet (idempotent;
    a year an administrator loaded from a file is left alone). Returns the years added."""
    added = []
    with write(db):
        loaded = {r[0] for r in db.execute("SELECT year FROM calendar_years")}
        for year in package_years():
            if year in loaded:
                continue
            _replace_year(db, year, package_rows(year), PACKAGE_SOURCE)
            added.append(year)
    return added


def _replace_year(db: Database, year: int, rows: list[dict], source: str) -> None:
    db.execute("DELETE FROM calendar_days WHERE date LIKE ?", [f"{year:04d}-%"])
    db.execute(
        "INSERT OR REPLACE INTO calendar_years (year, source, loaded_at) VALUES (?, ?, ?)",
        [year, source, dates.stamp()],
    )
    db.conn.executemany(
        "INSERT INTO calendar_days (date, is_workday, name, source) VALUES (?, ?, ?, ?)",
        [(r["date"].isoformat(), int(r["is_workday"]), r["name"], source) for r in rows],
    )


@dataclass
class LoadResult:
    year: int
    holidays: int
    workdays: int
    recomputed: int | None  # rows the calendar hooks changed (open deadlines); None: no hook

    def summary(self) -> str:
        text = (
            f"已导入 {self.year} 年的节假日安排：休息日 {self.holidays} 天，调休工作日 {self.workdays} 天。"
        )
        if self.recomputed is not None:
            text += f"已重新计算 {self.recomputed} 件未办结意见建议的办理期限。"
        return text


def parse_rows(rows: Iterable[tuple[int, Mapping[str, object]]], year: int | None) -> tuple[int, list[dict]]:
    """Check numbered rows of the 日期/类型/名称 format; every bad row is reported (ImportRejected)."""
    errors: list[RowError] = []
    parsed: list[dict] = []
    seen: dict[dt.date, int] = {}
    rows = list(rows)
    if not rows:
        raise ImportRejected([RowError(1, "", "文件中没有任何日期")], "无法导入节假日安排")
    missing = [c for c in COLUMNS[:2] if c not in rows[0][1]]
    if missing:
        raise ImportRejected(
            [RowError(1, c, "缺少此列（应有表头：日期、类型、名称）") for c in missing], "无法导入节假日安排"
        )
    for number, values in rows:
        text = tabular.cell_text(values.get("日期"))
        try:
            day = dates.parse_date(values.get("日期"), "日期")
        except ValidationError as exc:
            errors.append(RowError(number, "日期", exc.message if text else "必填，不能为空"))
            day = None
        kind = tabular.cell_text(values.get("类型"))
        if kind not in TYPES:
            errors.append(RowError(number, "类型", f"“{kind[:20]}”不是“休息日”或“工作日”"))
        name = tabular.check_text(values.get("名称"), "名称", number, errors, max_len=40)
        if day is None:
            continue
        if year is None:
            year = day.year
        if day.year != year:
            errors.append(RowError(number, "日期", f"{day.isoformat()} 不在 {year} 年内（一次导入一年）"))
        elif day in seen:
            errors.append(RowError(number, "日期", f"与第 {seen[day]} 行日期重复"))
        else:
            seen[day] = number
            if kind in TYPES:
                parsed.append({"date": day, "is_workday": TYPES[kind], "name": name})
    if errors:
        raise ImportRejected(errors)
    assert year is not None
    return year, parsed


def load_year(
    db: Database,
    year: int | None,
    source: Iterable[Mapping[str, object]] | str | Path,
    *,
    filename: str | None = None,
    data: bytes | None = None,
    actor_id: int | None = None,
) -> LoadResult:
    """Load (or replace) one year's official arrangement, then announce the change
    (``hooks.calendar_changed``: the cases feature recomputes open deadlines).

    ``source`` is rows (mappings with 日期, 类型, 名称) or a path to a CSV/.xlsx file; an upload
    passes ``data`` with its ``filename`` (and any ``source``, ignored). ``year`` None: the
    year of the dates in the file. All-or-nothing.
    """
    numbered: Sequence[tuple[int, Mapping[str, object]]]
    if data is not None:
        sheet = tabular.read_sheet(filename or "upload.csv", data)
        numbered = sheet.rows
        label = filename or "upload"
    elif isinstance(source, (str, Path)):
        path = Path(source)
        sheet = tabular.read_sheet(path.name, path.read_bytes())
        numbered = sheet.rows
        label = path.name
    else:
        numbered = [(i, row) for i, row in enumerate(source, start=2)]
        label = "rows"
    year, rows = parse_rows(numbered, year)
    if not 2000 <= year <= 2100:
        raise ValidationError(f"年份 {year} 不在 2000～2100 之间")
    with write(db):
        _replace_year(db, year, rows, f"file:{label}"[:80])

        audit.record(db, actor_id, "calendar.load", f"{year} {label}"[:200])
        recomputed = hooks.calendar_changed(db)
    return LoadResult(
        year=year,
        holidays=sum(1 for r in rows if not r["is_workday"]),
        workdays=sum(1 for r in rows if r["is_workday"]),
        recomputed=recomputed,
    )


def template_rows(year: int) -> list[dict]:
    """An example file's rows: the package's data for ``year`` if it knows it, else empty."""
    return [
        {"日期": r["date"].isoformat(), "类型": TYPE_LABELS[r["is_workday"]], "名称": r["name"]}
        for r in package_rows(year)
    ]


# --- the university's own overrides -------------------------------------------------------


@dataclass
class Override:
    date: dt.date
    is_workday: bool
    note: str

    @property
    def type_label(self) -> str:
        return TYPE_LABELS[int(self.is_workday)]


def overrides(db: Database, year: int | None = None) -> list[Override]:
    sql, params = "SELECT date, is_workday, note FROM calendar_overrides", []
    if year is not None:
        sql += " WHERE date LIKE ?"
        params.append(f"{year:04d}-%")
    return [
        Override(date=dt.date.fromisoformat(r["date"]), is_workday=bool(r["is_workday"]), note=r["note"])
        for r in db.query(sql + " ORDER BY date", params)
    ]


def set_override(
    db: Database, day: dt.date, is_workday: bool, note: str = "", actor_id: int | None = None
) -> None:
    """The university's own exception for one day (e.g. a campus holiday); wins over the official days."""
    note = text.free_text(tabular.cell_text(note), "说明", 100, multiline=False)
    with write(db):
        db.execute(
            "INSERT INTO calendar_overrides (date, is_workday, note) VALUES (?, ?, ?) "
            "ON CONFLICT(date) DO UPDATE SET is_workday = excluded.is_workday, note = excluded.note",
            [day.isoformat(), int(bool(is_workday)), note],
        )

        audit.record(db, actor_id, "calendar.override", f"{day.isoformat()} {TYPE_LABELS[int(is_workday)]}")
        hooks.calendar_changed(db)


def remove_override(db: Database, day: dt.date, actor_id: int | None = None) -> bool:
    with write(db):
        gone = db.execute("DELETE FROM calendar_overrides WHERE date = ?", [day.isoformat()]).rowcount > 0
        if gone:
            audit.record(db, actor_id, "calendar.override_removed", day.isoformat())
            hooks.calendar_changed(db)
    return gone
