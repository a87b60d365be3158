"""联系对象 (docs/formats.md): which cadre keeps in touch with which college, point, pair, branch or
person, and from when; the policy's "generally" rules as warnings on their rows."""

from __future__ import annotations

from collections import Counter

from sqlite_utils import Database

from .. import assignments, org
from ..errors import RowError
from ..tabular import cell_text, check_text
from .cells import Cadres, date_cell, duplicate_keys
from .staging import Column, Importer


def _college(
    db: Database, code: str, name: str, cache: dict[str, org.Unit | None]
) -> tuple[str | None, str | None]:
    """(canonical code, the sheet's own code when it differs) of a 联系学院 target: the college's name,
    found by its 单位编码 or name in 对象编号, else by 对象名称."""
    for ref in (code, name):
        if ref and ref not in cache:
            cache[ref] = org.unit_by_ref(db, ref)
        unit = cache.get(ref) if ref else None
        if unit is not None and unit.kind == "college":
            return unit.name, (code if code != unit.name else None)
    return None, None


class AssignmentImporter(Importer):
    """docs/formats.md 联系对象. Targets missing from the departments' lists are added to them."""

    kind = "assignments"
    label = "联系对象"
    columns = [
        Column("工号", True, "干部工号", "10000001"),
        Column(
            "对象类型",
            True,
            "联系学院、联系点、结对子、党支部、高层次人才、党外代表人士、离退休老同志",
            "联系学院",
        ),
        Column("对象编号", True, "对象的固定编号（人员填工号；学院填单位编码或学院名称）", "C-CS"),
        Column("对象名称", True, "打印在记录表上的名称", "计算机科学与技术学院"),
        Column("开始日期", True, "日期", "2025-09-01"),
        Column("结束日期", False, "日期", ""),
    ]

    def parse(self, db, sheet):
        items = []
        errors: list[RowError] = []
        cadres = Cadres(db)
        units: dict[str, org.Unit | None] = {}
        keys = []
        for row, v in sheet.rows:
            staff_no = check_text(v.get("工号"), "工号", row, errors, required=True, max_len=30)
            kind = check_text(v.get("对象类型"), "对象类型", row, errors, required=True)
            code = check_text(v.get("对象编号"), "对象编号", row, errors, required=True, max_len=60)
            name = check_text(v.get("对象名称"), "对象名称", row, errors, required=True, max_len=100)
            start = date_cell(v.get("开始日期"), "开始日期", row, errors)
            end = date_cell(v.get("结束日期"), "结束日期", row, errors)
            if cell_text(v.get("开始日期")) == "":
                errors.append(RowError(row, "开始日期", "必填，不能为空"))
            if kind and kind not in assignments.KINDS:
                errors.append(RowError(row, "对象类型", f"应为 {'、'.join(assignments.KINDS)} 之一"))
            source_code = None
            if kind == "联系学院" and code:
                canonical, source_code = _college(db, code, name, units)
                if canonical is None:
                    errors.append(
                        RowError(row, "对象编号", f"“{code[:30]}”不是已有的学院（填学院的单位编码或名称）")
                    )
                else:
                    code = canonical
            if start and end and end < start:
                errors.append(RowError(row, "结束日期", "结束日期早于开始日期"))
            cadre_id = cadres.id(staff_no, row, errors)
            keys.append((row, (staff_no, kind, code)))
            if start and cadre_id:
                items.append(
                    (
                        assignments.AssignmentInput(
                            cadre_id=cadre_id,
                            kind=kind,
                            target_code=code,
                            target_name=name,
                            start_date=start,
                            end_date=end,
                        ),
                        source_code,
                        row,
                    )
                )
        duplicate_keys(keys, errors, "工号、对象类型、对象编号")
        return items, errors, self._policy_warnings(db, items)

    @staticmethod
    def _policy_warnings(db, items) -> list[RowError]:
        """第十条: contact points are generally not shared by two cadres, and each lasts at least a year —
        "generally", so a warning on the row, not an error."""
        held: dict[tuple[str, str], list[tuple[int, str, str | None]]] = {}
        for cadre_id, kind, code, start, end in db.execute(
            "SELECT cadre_id, kind, target_code, start_date, end_date FROM assignments WHERE kind = '联系点'"
        ):
            held.setdefault((kind, code), []).append((cadre_id, start, end))
        for item, _, _ in items:
            if item.kind == "联系点":
                held.setdefault((item.kind, item.target_code), []).append(
                    (item.cadre_id, item.start_date.isoformat(), item.end_date and item.end_date.isoformat())
                )
        found = []
        for item, _, row in items:
            if item.kind != "联系点":
                continue
            lo, hi = item.start_date.isoformat(), item.end_date.isoformat() if item.end_date else "9999"
            others = {
                c
                for c, a, b in held[(item.kind, item.target_code)]
                if c != item.cadre_id and a <= hi and (b or "9999") >= lo
            }
            if others:
                found.append(
                    RowError(
                        row, "对象编号", f"联系点“{item.target_name}”同时由其他干部联系（第十条：一般不重复）"
                    )
                )
            if item.end_date and (item.end_date - item.start_date).days + 1 < 365:
                found.append(
                    RowError(row, "结束日期", "联系点的联系期不足一年（第十条：每个联系点一般不少于一年）")
                )
        return found

    def preview(self, db, items):
        counts: Counter[str] = Counter()
        for item, _, _ in items:
            row = db.execute(
                "SELECT target_name, start_date, end_date FROM assignments WHERE cadre_id = ? AND kind = ? "
                "AND target_code = ?",
                [item.cadre_id, item.kind, item.target_code],
            ).fetchone()
            if row is None:
                counts["created"] += 1
            else:
                wanted = (
                    item.target_name,
                    item.start_date.isoformat(),
                    item.end_date and item.end_date.isoformat(),
                )
                counts["unchanged" if tuple(row) == wanted else "updated"] += 1
        return counts

    def apply(self, db, items, report, actor_id, staged=None):
        added = 0
        for item, source_code, _ in items:
            if (
                item.kind in assignments.LIST_KINDS
                and assignments.get_target(db, item.kind, item.target_code) is None
            ):
                assignments.save_target(
                    db,
                    assignments.TargetInput(kind=item.kind, code=item.target_code, name=item.target_name),
                    None,
                )
                added += 1
            saved, outcome = assignments.save_assignment(db, item, None)
            if source_code:
                db.execute("UPDATE assignments SET source_code = ? WHERE id = ?", [source_code, saved.id])
            report.counts[outcome] += 1
        if added:
            report.notes.append(f"名单中原来没有的对象 {added} 个已加入相应名单（党支部、高层次人才等）。")
