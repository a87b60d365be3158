"""干部 (docs/formats.md): people with their posts, tags, 分管单位 and terms."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from .. import org, text
from ..errors import RowError, ValidationError
from ..tabular import check_text, split_list
from .cells import date_cell, duplicate_keys, unit_cell, validated, yes_no_cell
from .staging import Column, Importer


@dataclass
class _CadreRow:
    row: int
    staff_no: str
    name: str
    unit_id: int
    title: str
    level: str
    tags: list[str]
    cpc: bool
    charges: list[int]
    start: dt.date | None
    end: dt.date | None


class CadreImporter(Importer):
    kind = "cadres"
    label = "干部"
    columns = [
        Column("工号", True, "", "10010001"),
        Column("姓名", True, "", "李明"),
        Column("单位", True, "已有单位的名称或单位编码", "教务处"),
        Column("职务", True, "", "教务处处长"),
        Column("级别", True, "校级、正处、副处", "正处"),
        Column("标签", False, "如 school_leader;charge_research", "principal"),
        Column("中共党员", False, "是 或 否", "是"),
        Column("分管单位", False, "名称或单位编码，以 ; 分隔", ""),
        Column("任职开始", False, "日期", "2024-09-01"),
        Column("任职结束", False, "日期", ""),
    ]

    def parse(self, db, sheet):
        items = []
        errors: list[RowError] = []
        names: dict[str, tuple[str, int]] = {}
        units: dict = {}
        for row, v in sheet.rows:
            staff_no = validated(text.code, v.get("工号"), "工号", row, errors)
            name = validated(text.name, v.get("姓名"), "姓名", row, errors)
            unit_name = validated(text.name, v.get("单位"), "单位", row, errors, 60)
            title = validated(text.name, v.get("职务"), "职务", row, errors, 60)
            level = check_text(v.get("级别"), "级别", row, errors, required=True)
            unit = unit_cell(db, unit_name, "单位", row, errors, units) if unit_name else None
            if level and level not in org.LEVELS:
                errors.append(RowError(row, "级别", f"应为“校级”“正处”或“副处”，而不是“{level[:20]}”"))
            tags = split_list(check_text(v.get("标签"), "标签", row, errors))
            try:
                org.validate_tags(tags)
            except ValidationError as exc:
                errors.append(RowError(row, "标签", exc.message))
            if (level == "校级" and "middle_cadre" in tags) or (
                level in ("正处", "副处") and "school_leader" in tags
            ):
                errors.append(RowError(row, "标签", f"标签与级别“{level}”矛盾"))
            charges = []
            for charge in split_list(check_text(v.get("分管单位"), "分管单位", row, errors)):
                charged = unit_cell(db, charge, "分管单位", row, errors, units)
                if charged is not None:
                    charges.append(charged.id)
            start = date_cell(v.get("任职开始"), "任职开始", row, errors)
            end = date_cell(v.get("任职结束"), "任职结束", row, errors)
            if start and end and end < start:
                errors.append(RowError(row, "任职结束", "任职结束日期早于任职开始日期"))
            if staff_no in names and names[staff_no][0] != name:
                errors.append(
                    RowError(
                        row, "姓名", f"同一工号在第 {names[staff_no][1]} 行的姓名是“{names[staff_no][0]}”"
                    )
                )
            names.setdefault(staff_no, (name, row))
            cpc = yes_no_cell(v.get("中共党员"), "中共党员", row, errors)
            items.append(
                _CadreRow(
                    row, staff_no, name, unit.id if unit else 0, title, level, tags, cpc, charges, start, end
                )
            )
        duplicate_keys([(i.row, (i.staff_no, i.unit_id, i.title)) for i in items], errors, "工号、单位、职务")
        return items, errors, []

    def preview(self, db, items):
        counts: Counter[str] = Counter()
        for item in items:
            person = org.person_by_staff_no(db, item.staff_no)
            post = None
            if person is not None:
                post = next(
                    (
                        p
                        for p in org.posts_of(db, person.id)
                        if p.unit_id == item.unit_id and p.title == item.title
                    ),
                    None,
                )
            if person is None or post is None:
                counts["created"] += 1
                continue
            wanted_tags = sorted(set(item.tags) - {"school_leader", "middle_cadre", "cpc_member"})
            charge_names = (
                sorted(
                    r[0]
                    for r in db.execute(
                        f"SELECT name FROM units WHERE id IN ({','.join('?' * len(item.charges))})",
                        item.charges,
                    )
                )
                if item.charges
                else []
            )
            same = (
                person.name == item.name
                and person.cpc_member == item.cpc
                and post.level == item.level
                and sorted(post.tags) == wanted_tags
                and post.start_date == (item.start or dt.date.fromisoformat(org.FAR_PAST))
                and post.end_date == item.end
                and sorted(post.charges) == charge_names
            )
            counts["unchanged" if same else "updated"] += 1
        return counts

    def apply(self, db, items, report, actor_id, staged=None):
        for item in items:
            person, person_outcome = org.save_person(
                db,
                item.staff_no,
                item.name,
                cpc_member=item.cpc,
                unit_id=item.unit_id if org.person_by_staff_no(db, item.staff_no) is None else None,
            )
            _, outcome = org.save_post(
                db,
                person.id,
                item.unit_id,
                item.title,
                item.level,
                item.tags,
                item.start,
                item.end,
                item.charges,
            )
            if outcome == "unchanged" and person_outcome == "updated":
                outcome = "updated"
            report.counts[outcome] += 1
