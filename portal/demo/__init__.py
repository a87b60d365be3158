"""A believable demo university, deterministic for a seed: ``portal demo [--seed N] [--scale N]``.

One step per feature, in order, inside one transaction; each fills its part and says what it
made. Only the CLI and the tests use this package: the domain modules never import it.

* ``people`` — units, cadres with posts and tags, staff, students, retirees and their accounts;
* ``calendar`` — semesters and the official holiday years;
* ``contacts`` — contact assignments, the departments' lists, a year of contact activities;
* ``reception`` — the duty roster, bookings and the reception days held;
* ``cases`` — the cases opened above, moved along as departments handled them;
* ``publications`` — consents to publish answers, the answers 党办/校办 published (答复公开);
* ``desk`` — the departments' 常用答复 (answer templates).

Every demo account's password is ``DEMO_PASSWORD``.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from sqlite_utils import Database

from ..accounts import hash_password
from ..db import write
from . import calendar, cases, contacts, desk, people, publications, reception
from .context import DemoContext
from .people import DEMO_PASSWORD, DEPARTMENT_ACCOUNTS

__all__ = ["DEMO_PASSWORD", "DEPARTMENT_ACCOUNTS", "STEPS", "DemoContext", "build"]

STEPS: list[Callable[[Database, DemoContext], str]] = [
    people.org,
    people.accounts,
    calendar.build,
    contacts.build,
    reception.build,
    cases.build,
    publications.build,
    desk.build,
]


def build(db: Database, seed: int = 1, scale: int = 1) -> list[str]:
    """Fill an empty database with the demo university; returns one line per step."""
    if scale < 1 or scale > 50:
        raise ValueError("scale must be between 1 and 50")
    ctx = DemoContext(
        rng=random.Random(seed), scale=scale, seed=seed, password_hash=hash_password(DEMO_PASSWORD)
    )
    summary = []
    with write(db):
        for step in STEPS:
            summary.append(step(db, ctx))
    return summary
