"""The policy as data: ``portal/data/policy.toml`` validated by pydantic at start-up.

Holds the vocabulary every feature shares — tags, responsible departments, the eleven
systems and their subtypes, the policy's unit names — and the rule set (docs/rules.md §3):
personal quotas (``Rule``) and institution-level duties (``InstitutionalRule``). A revised
rule file holds just the rules (``RuleSet``) and is checked against the same vocabulary;
``portal.rulesets`` keeps revisions with their effective dates.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .config import DATA_DIR

POLICY_FILE = DATA_DIR / "policy.toml"


class System(BaseModel):
    """One of the eleven contact systems (第三条) and the departments that run it (第四条)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    subtypes: list[str] = Field(min_length=1)
    departments: list[str] = Field(min_length=1)


RuleKind = Literal["count", "hours", "each_target", "assignment_bounds", "each_counterpart"]
PeriodKind = Literal["month", "semester", "academic_year", "year"]
ASSIGNMENT_KINDS = ("联系学院", "联系点", "结对子", "党支部", "高层次人才", "党外代表人士", "离退休老同志")
KIND_LABELS = {
    "count": "次数",
    "hours": "课时",
    "each_target": "逐个联系对象",
    "assignment_bounds": "联系对象数量",
    "each_counterpart": "逐人谈心谈话",
}
PERIOD_LABELS = {
    "month": "每月",
    "semester": "每学期",
    "academic_year": "每学年",
    "year": "每年",
    "always": "常态",
}


class Applicability(BaseModel):
    """One clause of whom a rule applies to: a post matches if it has all ``tags`` and, when
    given, one of ``levels``, the ``unit_kind``, and one of ``units`` (the policy's names)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tags: list[str] = []
    levels: list[Literal["校级", "正处", "副处"]] = []
    unit_kind: Literal["college", "department"] | None = None
    units: list[str] = []

    def describe(self, tag_labels: dict[str, str]) -> str:
        parts = [tag_labels.get(t, t) for t in self.tags]
        if self.levels:
            parts.append("或".join(self.levels) + "级")
        where = []
        if self.unit_kind:
            where.append("学院" if self.unit_kind == "college" else "职能部门")
        where += self.units
        text = "、".join(parts) or "干部"
        return f"{'、'.join(where)}的{text}" if where else text


class Rule(BaseModel):
    """A personal quota (docs/rules.md §3)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z_]+\.[a-z_]+$")
    article: str
    system: str
    title: str
    kind: RuleKind
    period: PeriodKind
    subtypes: list[str] = []
    min: float = Field(ge=0)
    max: float | None = None
    target_kind: str | None = None
    counterparts: Literal["school_leaders", "charged_units", "own_unit"] | None = None
    applies_to: list[Applicability] = Field(min_length=1)
    excludes: list[Applicability] = []

    @model_validator(mode="after")
    def _shape(self) -> Rule:
        if self.kind in ("each_target", "assignment_bounds") and self.target_kind not in ASSIGNMENT_KINDS:
            raise ValueError(
                f"规则 {self.id}：须指定联系对象类型 target_kind（{'、'.join(ASSIGNMENT_KINDS)}）"
            )
        if self.kind == "assignment_bounds":
            if self.max is None or self.max < self.min:
                raise ValueError(f"规则 {self.id}：数量规则须有上限 max，且不小于下限 min")
        elif not self.subtypes:
            raise ValueError(f"规则 {self.id}：须列出计入的类别 subtypes")
        if self.kind == "each_counterpart" and self.counterparts is None:
            raise ValueError(f"规则 {self.id}：逐人谈话规则须指定 counterparts")
        return self

    @property
    def period_label(self) -> str:
        return PERIOD_LABELS[self.period]

    @property
    def requirement(self) -> str:
        """The quota in words: ≥4 课时, 1～3 个, 每个至少 1 次."""
        n = f"{self.min:g}"
        if self.kind == "hours":
            return f"不少于 {n} 课时"
        if self.kind == "assignment_bounds":
            return f"{n} 个" if self.max == self.min else f"{n}～{self.max:g} 个"
        if self.kind in ("each_target", "each_counterpart"):
            return f"每人（个）至少 {n} 次"
        return f"至少 {n} 次"


class InstitutionalRule(BaseModel):
    """An institution-level duty, reported on a department's ledger (docs/rules.md §3)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z_]+\.[a-z_]+$")
    article: str
    system: str
    title: str
    kind: Literal["duty_days", "count", "unit_briefing", "branch_coverage", "no_overlap"]
    period: Literal["month", "semester", "academic_year", "year", "always"]
    subtypes: list[str] = []
    target_kinds: list[str] = []
    owners: list[str] = Field(min_length=1)
    min: float = Field(ge=0)

    @property
    def period_label(self) -> str:
        return PERIOD_LABELS[self.period]


class RuleSet(BaseModel):
    """The rules alone: what a revised rule file holds."""

    model_config = ConfigDict(extra="forbid")

    rules: list[Rule] = Field(min_length=1)
    institutional: list[InstitutionalRule] = []


class Deadlines(BaseModel):
    """How fast raised problems must be answered (docs/rules.md §5), in working days after the contact."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reception: int = Field(default=5, ge=1, le=60)
    symposium: int = Field(default=10, ge=1, le=60)
    other: int = Field(default=10, ge=1, le=60)
    reopen_within: int = Field(default=10, ge=0, le=60)  # after the answer, the raiser may reopen
    at_risk: int = Field(default=1, ge=0, le=10)  # flagged 临期 with this many working days left

    def for_source(self, source: str) -> int:
        return {"reception": self.reception, "symposium": self.symposium}.get(source, self.other)


RATINGS = ("satisfied", "basic", "unsatisfied")
RATING_LABELS = {"satisfied": "满意", "basic": "基本满意", "unsatisfied": "不满意"}
UnsatisfiedAction = Literal["reopen", "supervise", "close"]
UNSATISFIED_ACTION_LABELS = {"reopen": "退回责任部门重新办理", "supervise": "转督办", "close": "办结"}


class OnUnsatisfied(BaseModel):
    """What the ``times``-th 不满意 of a case (and every later one, until a rule with a higher
    ``times``) does: ``reopen`` — back to its department, reopened with the comment; ``supervise`` —
    reopened as well, and supervised (督办) by ``Satisfaction.supervisors``; ``close`` — 办结 as it
    stands, recorded 不满意 (no more rounds)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    times: int = Field(ge=1, le=20)
    action: UnsatisfiedAction


class Satisfaction(BaseModel):
    """满意度 and 回访 (docs/rules.md §9): how answers are rated, when the office follows up, and
    what a 不满意 does. Working days on the calendar of the deadlines."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rate_within: int = Field(
        default=5, ge=1, le=60
    )  # the raiser rates within N working days (never past followup_after)
    followup_after: int = Field(default=5, ge=0, le=60)  # unrated after N working days: the office's 回访
    on_unsatisfied: list[OnUnsatisfied] = Field(
        default=[OnUnsatisfied(times=1, action="reopen"), OnUnsatisfied(times=2, action="supervise")],
        min_length=1,
    )
    supervisors: list[str] = [
        "党办",
        "校办",
    ]  # 督办: the first of these that is not the case's own department

    @model_validator(mode="after")
    def _rules(self) -> Satisfaction:
        times = [r.times for r in self.on_unsatisfied]
        if 1 not in times:
            raise ValueError("满意度规则 on_unsatisfied 须有 times = 1（第一次不满意）的一条")
        if len(set(times)) != len(times):
            raise ValueError("满意度规则 on_unsatisfied 的 times 重复")
        if any(r.action == "supervise" for r in self.on_unsatisfied) and not self.supervisors:
            raise ValueError("转督办须在 supervisors 中列出督办部门")
        return self

    def on(self, times: int) -> UnsatisfiedAction:
        """The action of the ``times``-th 不满意 of a case."""
        return max((r for r in self.on_unsatisfied if r.times <= times), key=lambda r: r.times).action

    def supervisor_for(self, department: str) -> str:
        return next((d for d in self.supervisors if d != department), self.supervisors[0])


class Kpis(BaseModel):
    """The rates a department, an undertaking unit and a cadre are judged by (docs/rules.md §10)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    respond_within: int = Field(
        default=2, ge=0, le=30
    )  # 按期响应: referred or answered within N working days
    # the ratings 满意率 counts as satisfied, as the pages name them
    counts_as_satisfied: list[Literal["满意", "基本满意", "不满意"]] = Field(
        default=["满意", "基本满意"], min_length=1
    )

    @property
    def satisfied(self) -> list[str]:
        """``counts_as_satisfied`` as stored ratings (satisfied, basic …)."""
        codes = {label: code for code, label in RATING_LABELS.items()}
        return [codes[label] for label in self.counts_as_satisfied]


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str
    tags: dict[str, str]
    departments: list[str]
    unit_aliases: dict[str, list[str]] = {}
    unit_fallbacks: dict[str, list[str]] = {}
    systems: list[System]
    deadlines: Deadlines = Deadlines()
    satisfaction: Satisfaction = Satisfaction()
    kpis: Kpis = Kpis()
    rules: list[Rule] = []
    institutional: list[InstitutionalRule] = []

    @model_validator(mode="after")
    def _consistent(self) -> Policy:
        names = [s.name for s in self.systems]
        if len(set(names)) != len(names):
            raise ValueError("制度名称重复")
        for s in self.systems:
            unknown = set(s.departments) - set(self.departments)
            if unknown:
                raise ValueError(f"制度“{s.name}”的责任部门不在部门列表中：{sorted(unknown)}")
        unknown = set(self.satisfaction.supervisors) - set(self.departments)
        if unknown:
            raise ValueError(f"督办部门不在部门列表中：{sorted(unknown)}")
        problems = self.rule_problems(
            RuleSet.model_construct(rules=self.rules, institutional=self.institutional)
        )
        if problems:
            raise ValueError("；".join(problems))
        return self

    def rule_problems(self, rule_set: RuleSet) -> list[str]:
        """What in a rule set does not fit this policy's vocabulary (systems, subtypes, tags, departments)."""
        problems: list[str] = []
        every: list[Rule | InstitutionalRule] = [*rule_set.rules, *rule_set.institutional]
        ids = [r.id for r in every]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            problems.append(f"规则编号重复：{'、'.join(dupes)}")
        systems = {s.name: s for s in self.systems}
        for rule in every:
            system = systems.get(rule.system)
            if system is None:
                problems.append(f"规则 {rule.id}：制度“{rule.system}”不存在")
                continue
            unknown = [t for t in rule.subtypes if t not in system.subtypes]
            if unknown:
                problems.append(f"规则 {rule.id}：类别 {'、'.join(unknown)} 不属于制度“{rule.system}”")
        for rule in rule_set.rules:
            for clause in [*rule.applies_to, *rule.excludes]:
                unknown = [t for t in clause.tags if t not in self.tags]
                if unknown:
                    problems.append(f"规则 {rule.id}：未知标签 {'、'.join(unknown)}")
        for rule in rule_set.institutional:
            unknown = [d for d in rule.owners if d not in self.departments]
            if unknown:
                problems.append(f"规则 {rule.id}：责任部门 {'、'.join(unknown)} 不在部门列表中")
            bad = [k for k in rule.target_kinds if k not in ASSIGNMENT_KINDS]
            if bad:
                problems.append(f"规则 {rule.id}：未知的联系对象类型 {'、'.join(bad)}")
        return problems

    @property
    def rule_set(self) -> RuleSet:
        """The bundled rules (in force unless an administrator loaded a revision)."""
        return RuleSet(rules=self.rules, institutional=self.institutional)

    def rule(self, rule_id: str) -> Rule | InstitutionalRule:
        every: list[Rule | InstitutionalRule] = [*self.rules, *self.institutional]
        for r in every:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)

    def rule_departments(self, rule: Rule | InstitutionalRule) -> list[str]:
        """Who keeps the ledger of a rule: the departments of its system (第四条)."""
        return self.system(rule.system).departments

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

    @property
    def unit_names(self) -> list[str]:
        """Every unit name the policy uses: responsible departments, aliases' keys, rules' units."""
        names = [*self.departments, *self.unit_aliases]
        for rule in self.rules:
            for clause in [*rule.applies_to, *rule.excludes]:
                names += clause.units
        return list(dict.fromkeys(names))

    def unit_matches(self, policy_name: str, unit_name: str, unit_policy_name: str | None = None) -> bool:
        """Does a real unit answer to the policy's name (学工部 = 学生处 = 学生工作部（处）)?"""
        if unit_policy_name and unit_policy_name == policy_name:
            return True
        names = {policy_name, *self.unit_aliases.get(policy_name, [])}
        return unit_name in names or (unit_policy_name is not None and unit_policy_name in names)


def load_policy_file(path: Path) -> Policy:
    with open(path, "rb") as fh:
        return Policy.model_validate(tomllib.load(fh))


@lru_cache(maxsize=1)
def policy() -> Policy:
    """The installation's policy (validated once per process)."""
    return load_policy_file(POLICY_FILE)
