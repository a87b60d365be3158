"""What one feature announces and others act upon, without the announcer importing them.

A lower module (``workdays``) must not call up into a feature (``cases``): it announces the
change here, inside the transaction that made it, and each interested feature registers its
hook when it is imported. So a module that changes the calendar (the 校历与工作日 page, the CLI)
imports the features that listen; ``tests/core/test_house.py`` checks that none is missing.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlite_utils import Database

# hook(db) -> how many rows it changed
CalendarHook = Callable[[Database], int]

_calendar_hooks: list[CalendarHook] = []


def on_calendar_change(hook: CalendarHook) -> CalendarHook:
    """Register ``hook`` to run after the working-day calendar changed (usable as a decorator)."""
    if hook not in _calendar_hooks:
        _calendar_hooks.append(hook)
    return hook


def calendar_changed(db: Database) -> int | None:
    """Run every calendar hook; the number of rows they changed, None when no feature listens."""
    if not _calendar_hooks:
        return None
    return sum(hook(db) for hook in list(_calendar_hooks))
