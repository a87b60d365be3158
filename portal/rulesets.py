"""Revisions of the rule set, each with the date it takes effect.

The bundled rules (``portal/data/policy.toml``) are in force until an administrator loads a
revised rule file; a revision is validated against the policy's vocabulary (systems, subtypes,
tags, departments), stored as JSON in ``rule_sets`` with its effective date, and never edited.
A period is judged by the rules in force on the day it starts, so a revision that takes effect
mid-year changes the quotas of the periods that start after it and leaves the past alone.

A revised rule file is TOML holding ``[[rules]]`` and ``[[institutional]]`` exactly as in
``policy.toml`` (a whole policy file is accepted too; only its rules are taken).
"""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from dataclasses import dataclass

from pydantic import ValidationError as PydanticError
from sqlite_utils import Database

from . import audit, dates, text
from .db import inserted_id, write
from .errors import ValidationError
from .policy import POLICY_FILE, RuleSet, policy

MAX_FILE_BYTES = 512 * 1024
_cache: dict[str, RuleSet] = {}  # by content: ids repeat across databases (tests, restores)


@dataclass
class StoredRuleSet:
    id: int | None  # None: the bundled rules
    effective_from: dt.date | None
    note: str
    loaded_at: str
    loaded_by: str
    rule_set: RuleSet

    @property
    def label(self) -> str:
        if self.id is None or self.effective_from is None:  # a stored revision has both
            return "内置规则（policy.toml）"
        return f"修订 #{self.id}（{self.effective_from.isoformat()} 起施行）"


def _field_path(loc: tuple) -> str:
    parts = []
    for item in loc:
        parts.append(f"[{item + 1}]" if isinstance(item, int) else f".{item}")
    return "".join(parts).lstrip(".")


def parse_rule_file(data: bytes) -> RuleSet:
    """A revised rule file, checked; every problem is reported in Chinese (ValidationError)."""
    if len(data) > MAX_FILE_BYTES:
        raise ValidationError(f"规则文件过大（上限 {MAX_FILE_BYTES // 1024} KB）")
    try:
        raw = tomllib.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ValidationError("规则文件须为 UTF-8 编码的 TOML 文本") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError(f"规则文件不是有效的 TOML：{exc}") from None
    content = {k: raw[k] for k in ("rules", "institutional") if k in raw}
    if "rules" not in content:
        raise ValidationError("规则文件中没有 [[rules]]（个人规则）")
    try:
        rule_set = RuleSet.model_validate(content)
    except PydanticError as exc:
        problems = []
        for err in exc.errors()[:20]:
            where = _field_path(err["loc"])
            msg = str(err["msg"]).removeprefix("Value error, ")
            problems.append(f"{where}：{msg}" if where else msg)
        raise ValidationError("规则文件有误：\n" + "\n".join(problems)) from None
    problems = policy().rule_problems(rule_set)
    if problems:
        raise ValidationError("规则文件有误：\n" + "\n".join(problems[:20]))
    return rule_set


def save_rule_set(
    db: Database, rule_set: RuleSet, effective_from: dt.date, note: str = "", actor_id: int | None = None
) -> StoredRuleSet:
    """Store a validated revision; it governs periods starting on or after ``effective_from``."""
    note = text.free_text(note, "说明", 200)
    problems = policy().rule_problems(rule_set)
    if problems:
        raise ValidationError("规则有误：" + "；".join(problems[:20]))
    content = rule_set.model_dump_json(exclude_defaults=False)
    with write(db):
        clash = db.execute(
            "SELECT id FROM rule_sets WHERE effective_from = ?", [effective_from.isoformat()]
        ).fetchone()
        if clash:
            raise ValidationError(
                f"{effective_from.isoformat()} 起施行的规则已存在（修订 #{clash[0]}），请另选施行日期"
            )
        cur = db.execute(
            "INSERT INTO rule_sets (effective_from, content, note, loaded_at, loaded_by) VALUES (?, ?, ?, ?, ?)",
            [effective_from.isoformat(), content, note, dates.stamp(), actor_id],
        )

        audit.record(db, actor_id, "rules.load", f"#{inserted_id(cur)} {effective_from.isoformat()}")
    return _stored(db, inserted_id(cur))


def withdraw_rule_set(db: Database, rule_set_id: int, today: dt.date, actor_id: int | None = None) -> None:
    """Remove a revision that has not taken effect yet (a wrong file or date); one in force stays."""
    with write(db):
        row = db.execute("SELECT effective_from FROM rule_sets WHERE id = ?", [rule_set_id]).fetchone()
        if row is None:
            raise ValidationError(f"规则修订 #{rule_set_id} 不存在")
        if dt.date.fromisoformat(row[0]) <= today:
            raise ValidationError(
                "已施行的规则不能撤销（过去的期间按它考核）；如需调整，请导入新的修订并设定施行日期"
            )
        db.execute("DELETE FROM rule_sets WHERE id = ?", [rule_set_id])

        audit.record(db, actor_id, "rules.withdraw", f"#{rule_set_id} {row[0]}")


def _decode(content: str) -> RuleSet:
    found = _cache.get(content)
    if found is None:
        found = RuleSet.model_validate(json.loads(content))
        _cache[content] = found
    return found


def _stored(db: Database, rule_set_id: int) -> StoredRuleSet:
    return next(s for s in history(db) if s.id == rule_set_id)


def history(db: Database) -> list[StoredRuleSet]:
    """The bundled rules, then every revision by effective date."""
    out = [StoredRuleSet(None, None, "", "", "", policy().rule_set)]
    rows = db.query(
        "SELECT r.id, r.effective_from, r.content, r.note, r.loaded_at, coalesce(u.display_name, '') AS by "
        "FROM rule_sets r LEFT JOIN users u ON u.id = r.loaded_by ORDER BY r.effective_from, r.id"
    )
    for r in rows:
        out.append(
            StoredRuleSet(
                r["id"],
                dt.date.fromisoformat(r["effective_from"]),
                r["note"],
                r["loaded_at"],
                r["by"],
                _decode(r["content"]),
            )
        )
    return out


def rule_set_on(db: Database, day: dt.date) -> RuleSet:
    """The rules in force on ``day``: the latest revision effective by then, else the bundled ones."""
    row = db.execute(
        "SELECT content FROM rule_sets WHERE effective_from <= ? ORDER BY effective_from DESC, id DESC LIMIT 1",
        [day.isoformat()],
    ).fetchone()
    return _decode(row[0]) if row else policy().rule_set


def bundled_toml() -> bytes:
    """The bundled policy file, for an administrator to download, edit and load back."""
    return POLICY_FILE.read_bytes()
