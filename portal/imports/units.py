"""单位 (docs/formats.md): units by name, kind and 单位编码."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from .. import org, text
from ..errors import RowError
from ..tabular import cell_text, check_text
from .cells import duplicate_keys, validated
from .staging import Column, Importer


@dataclass
class _UnitRow:
    row: int
    name: str
    kind: str
    code: str | None


class UnitImporter(Importer):
    kind = "units"
    label = "单位"
    columns = [
        Column("单位名称", True, "唯一", "计算机科学与技术学院"),
        Column("单位类型", True, "学院 或 部门", "学院"),
        Column("单位编码", False, "学校的单位代码，唯一；表中引用单位时可填编码代替名称", "C-CS"),
    ]

    def parse(self, db, sheet):
        items = []
        errors: list[RowError] = []
        for row, values in sheet.rows:
            name = validated(text.name, values.get("单位名称"), "单位名称", row, errors, 60)
            kind_text = check_text(values.get("单位类型"), "单位类型", row, errors, required=True)
            if kind_text and kind_text not in org.UNIT_KINDS:
                errors.append(RowError(row, "单位类型", f"应为“学院”或“部门”，而不是“{kind_text[:20]}”"))
            code = None
            if cell_text(values.get("单位编码")):
                code = validated(text.code, values.get("单位编码"), "单位编码", row, errors)
                clash = db.execute(
                    "SELECT name FROM units WHERE code = ? AND name != ?", [code, name]
                ).fetchone()
                if clash:
                    errors.append(RowError(row, "单位编码", f"单位编码“{code}”已用于“{clash[0]}”"))
            items.append(_UnitRow(row, name, org.UNIT_KINDS.get(kind_text, ""), code))
        duplicate_keys([(i.row, (i.name,)) for i in items], errors, "单位名称")
        duplicate_keys([(i.row, (i.code,)) for i in items if i.code], errors, "单位编码")
        return items, errors, []

    def preview(self, db, items):
        counts: Counter[str] = Counter()
        for item in items:
            row = db.execute("SELECT kind, code FROM units WHERE name = ?", [item.name]).fetchone()
            if row is None:
                counts["created"] += 1
            else:
                same = row[0] == item.kind and (item.code is None or item.code == row[1])
                counts["unchanged" if same else "updated"] += 1
        return counts

    def apply(self, db, items, report, actor_id, staged=None):
        for item in items:
            _, outcome = org.save_unit(db, item.name, item.kind, code=item.code)
            report.counts[outcome] += 1
