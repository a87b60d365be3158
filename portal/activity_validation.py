"""Every problem of a contact activity's input, in Chinese and under its field (``problems``), before it
is saved; the 对象编号 of imported rows matched to the cadre's assignments (``TargetResolver``); an input
as the ``activities`` row it becomes (``normalised``).
"""

from __future__ import annotations

import datetime as dt

from sqlite_utils import Database

from . import dates, text
from .activities import (
    COUNTERPART_SYSTEMS,
    EARLIEST,
    FIELD_LABELS,
    HOURS_SUBTYPE,
    LIMITS,
    MAX_HOURS,
    MAX_OPINIONS,
    MIN_HOURS,
    SOURCES,
    TARGET_KINDS,
    ActivityInput,
    join_opinions,
)
from .errors import Problem, ValidationError
from .org import unit_by_ref
from .policy import policy


def clean(text: str) -> str:
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def problems(
    db: Database, data: ActivityInput, today: dt.date | None = None, *, targets: bool = True
) -> list[tuple[str, str]]:
    """Every problem of an input as (field, Chinese message); empty when it may be saved.

    ``targets`` False leaves out whether the targets fit the cadre's assignments: an imported
    row is history, and ``TargetResolver`` reports those as warnings instead."""
    today = today or dates.today()
    out: list[tuple[str, str]] = []
    pol = policy()
    cadre = db.execute("SELECT staff_no FROM people WHERE id = ?", [data.cadre_id]).fetchone()
    if cadre is None:
        out.append(("cadre_id", "领导干部不存在"))
    elif not db.execute("SELECT 1 FROM cadre_posts WHERE person_id = ? LIMIT 1", [data.cadre_id]).fetchone():
        out.append(("cadre_id", "此人没有干部职务记录，不能记录联系活动"))
    if data.system not in pol.system_names:
        out.append(("system", f"未知的制度“{data.system[:20]}”，应为：{'、'.join(pol.system_names)}"))
    elif data.subtype not in pol.system(data.system).subtypes:
        out.append(
            (
                "subtype",
                f"“{data.system}”没有类别“{data.subtype[:20]}”，应为：{'、'.join(pol.system(data.system).subtypes)}",
            )
        )
    if data.date > today:
        out.append(("date", f"日期 {data.date.isoformat()} 在今天之后：只能记录已经开展的联系活动"))
    elif data.date < EARLIEST:
        out.append(("date", f"日期 {data.date.isoformat()} 过早"))
    if data.source not in SOURCES:
        out.append(("source", f"未知来源“{data.source}”"))
    # texts: control characters and lengths
    for name in ("place", "counterpart_text", "participants", "content", "followup"):
        try:
            text.free_text(getattr(data, name), FIELD_LABELS[name], LIMITS[name])
        except ValidationError as exc:
            out.append((name, exc.message))
    if data.source == "form" and not clean(data.content):
        out.append(("content", "请填写联系工作开展情况"))
    items = [clean(o) for o in data.opinions if clean(o)]
    if len(items) > MAX_OPINIONS:
        out.append(("opinions", f"意见建议最多 {MAX_OPINIONS} 条"))
    for n, item in enumerate(items, start=1):
        try:
            text.free_text(item, f"第 {n} 条意见建议", LIMITS["opinion"])
        except ValidationError as exc:
            out.append(("opinions", exc.message))
    # class hours only for 思政课授课
    if (data.system, data.subtype) == HOURS_SUBTYPE:
        if not (MIN_HOURS <= data.hours <= MAX_HOURS) or not float(data.hours * 2).is_integer():
            out.append(("hours", f"思政课授课的课时应在 {MIN_HOURS:g}–{MAX_HOURS:g} 之间，以 0.5 为单位"))
    elif data.hours:
        out.append(("hours", "只有“讲思政课—思政课授课”填写课时"))
    if targets and data.system in pol.system_names:
        out.extend(_target_problems(db, data))
    return out


class TargetResolver:
    """The 对象编号 of imported rows matched to the cadre's assignments, with a warning for each
    one that does not fit (history is imported as it was; see ``portal.imports``).

    A code matches an assignment by its code or by the 对象编号 the assignments sheet used
    (``source_code``); a 联系学院 may also be named by its 单位编码 or name."""

    def __init__(self, db: Database):
        self.db = db
        self.assigned: dict[tuple[int, str], list[tuple]] = {}
        for cadre_id, kind, code, source, name, start, end in db.execute(
            "SELECT cadre_id, kind, target_code, source_code, target_name, start_date, end_date FROM assignments"
        ):
            self.assigned.setdefault((cadre_id, kind), []).append((code, source, name, start, end))
        self.people = {staff_no: pid for pid, staff_no in db.execute("SELECT id, staff_no FROM people")}
        self.units: dict[str, str | None] = {}

    def _college(self, code: str) -> str | None:
        if code not in self.units:
            unit = unit_by_ref(self.db, code)
            self.units[code] = unit.name if unit is not None and unit.kind == "college" else None
        return self.units[code]

    def resolve(self, data: ActivityInput) -> tuple[list[str], list[str]]:
        """(codes to store, warnings) for one row."""
        codes = list(dict.fromkeys(c.strip() for c in data.target_codes if c.strip()))
        warnings: list[str] = []
        if len(codes) != len([c for c in data.target_codes if c.strip()]):
            warnings.append("对象编号有重复，已合并")
        if data.system in COUNTERPART_SYSTEMS:
            if not codes:
                warnings.append("未填写谈话对象的工号：已导入，计入次数，不计入逐人谈心谈话的要求")
            for code in codes:
                pid = self.people.get(code)
                if pid is None:
                    warnings.append(f"谈话对象工号“{code[:30]}”不存在：已导入，不计入逐人谈心谈话的要求")
                elif pid == data.cadre_id:
                    warnings.append("谈话对象是本人：已导入，不计入逐人谈心谈话的要求")
            return codes, warnings
        kind = TARGET_KINDS.get((data.system, data.subtype))
        if kind is None:
            if codes:
                warnings.append(f"“{data.system}—{data.subtype}”不需要对象编号，已忽略")
            return [], warnings
        if not codes:
            warnings.append(f"未填写对象编号：已导入，计入次数类要求，不计入逐个{kind}的要求")
        day = data.date.isoformat()
        out = []
        for code in codes:
            mine = self.assigned.get((data.cadre_id, kind), [])
            hit = next((a for a in mine if code in (a[0], a[1])), None)
            if hit is None and kind == "联系学院" and (college := self._college(code)) is not None:
                hit = next((a for a in mine if a[0] == college), None)
                code = college
            if hit is None:
                warnings.append(f"“{code[:30]}”不是该干部的{kind}：已导入，不计入逐个{kind}的要求")
                out.append(code)
                continue
            out.append(hit[0])
            if not (hit[3] <= day and (hit[4] is None or day <= hit[4])):
                period = f"{hit[3]} 至 {hit[4]}" if hit[4] else f"{hit[3]} 起"
                warnings.append(
                    f"{day} 时“{hit[2]}”不是该干部的{kind}（联系期 {period}）：已导入，不计入逐个{kind}的要求"
                )
        return out, warnings


def _target_problems(db: Database, data: ActivityInput) -> list[tuple[str, str]]:
    codes = [c.strip() for c in data.target_codes if c.strip()]
    if len(set(codes)) != len(codes):
        return [("target_codes", "对象编号重复")]
    kind = TARGET_KINDS.get((data.system, data.subtype))
    if data.system in COUNTERPART_SYSTEMS:
        if not codes:
            return [("target_codes", "请选择谈话对象（按工号）")]
        out = []
        for code in codes:
            row = db.execute("SELECT id FROM people WHERE staff_no = ?", [code]).fetchone()
            if row is None:
                out.append(("target_codes", f"谈话对象工号“{code[:30]}”不存在"))
            elif row[0] == data.cadre_id:
                out.append(("target_codes", "谈话对象不能是本人"))
        return out
    if kind is None:
        return [("target_codes", f"“{data.system}—{data.subtype}”不需要选择联系对象编号")] if codes else []
    if not codes:
        return [("target_codes", f"请选择本次{data.subtype}的{kind}（须为本人的联系对象）")]
    day = data.date.isoformat()
    out = []
    for code in codes:
        row = db.execute(
            "SELECT start_date, end_date, target_name FROM assignments "
            "WHERE cadre_id = ? AND kind = ? AND target_code = ?",
            [data.cadre_id, kind, code],
        ).fetchone()
        if row is None:
            out.append(("target_codes", f"“{code[:30]}”不是该干部的{kind}"))
        elif not (row[0] <= day and (row[1] is None or day <= row[1])):
            period = f"{row[0]} 至 {row[1]}" if row[1] else f"{row[0]} 起"
            out.append(("target_codes", f"{day} 时“{row[2]}”不是该干部的{kind}（联系期 {period}）"))
    return out


def normalised(db: Database, data: ActivityInput) -> tuple[dict, list[str]]:
    """The row's values (clean texts, 联系对象 derived from the targets when left empty) and the
    target codes."""
    codes = [c.strip() for c in data.target_codes if c.strip()]
    counterpart = clean(data.counterpart_text)
    if not counterpart and codes:
        counterpart = "、".join(_target_names(db, data, codes))
    return {
        "cadre_id": data.cadre_id,
        "system": data.system,
        "subtype": data.subtype,
        "date": data.date.isoformat(),
        "place": clean(data.place),
        "counterpart_text": counterpart,
        "hours": float(data.hours),
        "participants": clean(data.participants),
        "content": clean(data.content),
        "opinions": join_opinions([clean(o) for o in data.opinions if clean(o)]),
        "followup": clean(data.followup),
        "source": data.source,
    }, codes


def _target_names(db: Database, data: ActivityInput, codes: list[str]) -> list[str]:
    names = []
    kind = TARGET_KINDS.get((data.system, data.subtype))
    for code in codes:
        if data.system in COUNTERPART_SYSTEMS:
            row = db.execute("SELECT name FROM people WHERE staff_no = ?", [code]).fetchone()
        else:
            row = db.execute(
                "SELECT target_name FROM assignments WHERE cadre_id = ? AND kind = ? AND target_code = ?",
                [data.cadre_id, kind, code],
            ).fetchone()
        names.append(row[0] if row else code)
    return names


def refuse(found: list[tuple[str, str]]) -> None:
    """Refuse an input with every problem found, each under its field (the form shows them beside it)."""
    if found:
        raise ValidationError(problems=[Problem(f, m) for f, m in dict.fromkeys(found)])
