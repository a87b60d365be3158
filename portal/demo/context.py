"""What the demo steps share while they build one university."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from sqlite_utils import Database

from .. import accounts


class StaffNumbers:
    """The next 工号/学号 of each kind of person."""

    def __init__(self) -> None:
        self.next = {
            "leader": 10000001,
            "cadre": 10010001,
            "staff": 30000001,
            "student": 2023000001,
            "retiree": 90000001,
        }

    def take(self, kind: str) -> str:
        value = self.next[kind]
        self.next[kind] += 1
        return str(value)


@dataclass
class DemoContext:
    rng: random.Random
    scale: int
    seed: int = 0  # for a step's own generator: draws added later leave ``rng``'s sequence as it was
    password_hash: str = ""
    ids: StaffNumbers = field(default_factory=StaffNumbers)
    units: dict[str, int] = field(default_factory=dict)  # unit name -> id
    leaders: list[int] = field(default_factory=list)  # person ids, in LEADERS order
    cadres: list[int] = field(default_factory=list)  # every cadre's person id
    visitors: list[int] = field(default_factory=list)  # user ids of staff and students


def account(db: Database, username: str) -> accounts.User:
    """A demo account an earlier step made (the accounts step makes every named one)."""
    user = accounts.find_user(db, username)
    if user is None:
        raise LookupError(f"the demo has no account {username!r}")
    return user
