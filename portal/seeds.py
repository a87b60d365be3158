"""The reference data every database starts with, each part seeded by the module that owns it.

``migrations.py`` knows the schema only. ``portal init``, ``portal serve`` (before the first request)
and ``portal demo`` run ``seed(db)``; it is idempotent and adds only what is missing.
"""

from __future__ import annotations

from sqlite_utils import Database

from . import periods, workdays


def seed(db: Database) -> list[int]:
    """China's official holidays and 调休 days for every year the installed chinesecalendar knows
    (a newer package brings new years), and the default semesters. Returns the years added."""
    added = workdays.seed_from_package(db)
    periods.seed_default_semesters(db)
    return added
