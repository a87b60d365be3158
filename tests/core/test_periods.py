"""The academic calendar and period keys."""

from __future__ import annotations

import datetime as dt

import pytest

from portal import periods
from portal.errors import ValidationError

D = dt.date


def test_default_semesters_are_seeded(db):
    keys = [s.key for s in periods.semesters(db)]
    assert keys[0] == "2024-2025-1" and keys[-1] == "2027-2028-2" and len(keys) == 8
    autumn = periods.get_semester(db, "2026-2027-1")
    assert (autumn.start_date, autumn.end_date) == (D(2026, 9, 1), D(2027, 1, 31))
    assert autumn.teaching_start == D(2026, 9, 7) and autumn.teaching_start.weekday() == 0
    assert D(2027, 1, 8) <= autumn.teaching_end <= D(2027, 1, 20)
    spring = periods.get_semester(db, "2026-2027-2")
    assert (spring.start_date, spring.end_date) == (D(2027, 2, 1), D(2027, 8, 31))
    assert D(2027, 2, 20) <= spring.teaching_start <= D(2027, 3, 3)
    assert D(2027, 7, 1) <= spring.teaching_end <= D(2027, 7, 15)


def test_teaching_weeks_and_vacations(db):
    sem = periods.get_semester(db, "2026-2027-1")
    weeks = sem.teaching_weeks
    assert weeks[0] == (1, D(2026, 9, 7), D(2026, 9, 13))
    assert len(weeks) == 19
    assert sem.week_of(D(2026, 11, 25)) == 12
    assert sem.week_of(D(2026, 9, 2)) is None
    assert [v[0] for v in sem.vacations] == ["暑假", "寒假"]
    assert sem.vacations[1][2] == D(2027, 1, 31)


def test_period_keys(db):
    assert periods.period_from_key(db, "2026-11").end == D(2026, 11, 30)
    assert periods.period_from_key(db, "2026-12").end == D(2026, 12, 31)
    assert periods.period_from_key(db, "2026").kind == "year"
    ay = periods.period_from_key(db, "2026-2027")
    assert (ay.kind, ay.start, ay.end, ay.label) == (
        "academic_year",
        D(2026, 9, 1),
        D(2027, 8, 31),
        "2026-2027学年",
    )
    sem = periods.period_from_key(db, "2026-2027-2")
    assert (sem.start, sem.end) == (D(2027, 2, 1), D(2027, 8, 31))
    for bad in ("2026-13", "2026-2028", "abc", ""):
        with pytest.raises(ValidationError):
            periods.period_from_key(db, bad)


def test_periods_overlapping(db):
    months = periods.periods_overlapping(db, "month", D(2026, 9, 1), D(2026, 11, 24))
    assert [p.key for p in months] == ["2026-09", "2026-10", "2026-11"]
    sems = periods.periods_overlapping(db, "semester", D(2026, 1, 31), D(2026, 9, 1))
    assert [p.key for p in sems] == ["2025-2026-1", "2025-2026-2", "2026-2027-1"]
    current = periods.current_periods(db, D(2026, 11, 24))
    assert {k: p.key for k, p in current.items()} == {
        "month": "2026-11",
        "semester": "2026-2027-1",
        "academic_year": "2026-2027",
        "year": "2026",
    }


def test_an_edited_semester_moves_the_periods(db):
    sem = periods.get_semester(db, "2026-2027-1")
    spring = periods.get_semester(db, "2026-2027-2")
    periods.save_semester(db, spring.model_copy(update={"start_date": D(2027, 2, 20)}))
    periods.save_semester(db, sem.model_copy(update={"end_date": D(2027, 2, 19)}))
    assert periods.semester_containing(db, D(2027, 2, 10)).key == "2026-2027-1"
    assert periods.period_containing(db, "semester", D(2027, 2, 25)).key == "2026-2027-2"
    with pytest.raises(ValidationError, match="重叠"):
        periods.save_semester(db, spring.model_copy(update={"start_date": D(2027, 2, 1)}))
    with pytest.raises(ValidationError, match="日期顺序"):
        periods.save_semester(db, sem.model_copy(update={"teaching_start": D(2026, 8, 1)}))


def test_a_semester_nobody_stored_takes_its_default_dates(db):
    sem = periods.semester_containing(db, D(2030, 10, 1))
    assert sem.key == "2030-2031-1" and not sem.stored
    assert periods.semester_containing(db, D(2031, 1, 15)).key == "2030-2031-1"
    assert periods.semester_containing(db, D(2031, 2, 15)).key == "2030-2031-2"
