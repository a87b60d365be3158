"""The policy as data: ``portal/data/policy.toml`` validated by pydantic at start-up.

Holds the vocabulary every feature shares — tags, responsible departments, the eleven
systems and their subtypes, the policy's unit names.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .config import DATA_DIR

POLICY_FILE = DATA_DIR / "policy.toml"


class System(BaseModel):
    """One of the eleven contact systems (第三条) and the departments that run it (第四条)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    subtypes: list[str] = Field(min_length=1)
    departments: list[str] = Field(min_length=1)


class Deadlines(BaseModel):
    """How fast raised problems must be answered (RULES.md §5), in working days after the contact."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reception: int = Field(default=5, ge=1, le=60)
    symposium: int = Field(default=10, ge=1, le=60)
    other: int = Field(default=10, ge=1, le=60)
    reopen_within: int = Field(default=10, ge=0, le=60)  # after the answer, the raiser may reopen
    at_risk: int = Field(default=1, ge=0, le=10)  # flagged 临期 with this many working days left

    def for_source(self, source: str) -> int:
        return {"reception": self.reception, "symposium": self.symposium}.get(source, self.other)


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str
    tags: dict[str, str]
    departments: list[str]
    unit_aliases: dict[str, list[str]] = {}
    systems: list[System]
    deadlines: Deadlines = Deadlines()

    @model_validator(mode="after")
    def _consistent(self) -> Policy:
        names = [s.name for s in self.systems]
        if len(set(names)) != len(names):
            raise ValueError("制度名称重复")
        for s in self.systems:
            unknown = set(s.departments) - set(self.departments)
            if unknown:
                raise ValueError(f"制度“{s.name}”的责任部门不在部门列表中：{sorted(unknown)}")
        return self

    # --- look-ups ---------------------------------------------------------------------

    @property
    def system_names(self) -> list[str]:
        return [s.name for s in self.systems]

    def system(self, name: str) -> System:
        for s in self.systems:
            if s.name == name:
                return s
        raise KeyError(name)

    def systems_of_department(self, department: str) -> list[str]:
        """The systems whose ledgers a responsible department keeps."""
        return [s.name for s in self.systems if department in s.departments]

    def unit_matches(self, policy_name: str, unit_name: str, unit_policy_name: str | None = None) -> bool:
        """Does a real unit answer to the policy's name (学工部 = 学生处 = 学生工作部（处）)?"""
        if unit_policy_name and unit_policy_name == policy_name:
            return True
        names = {policy_name, *self.unit_aliases.get(policy_name, [])}
        return unit_name in names


def load_policy_file(path: Path) -> Policy:
    with open(path, "rb") as fh:
        return Policy.model_validate(tomllib.load(fh))


@lru_cache(maxsize=1)
def policy() -> Policy:
    """The installation's policy (validated once per process)."""
    return load_policy_file(POLICY_FILE)
