"""Imports of the sheets of FORMATS.md: all-or-nothing, every bad row reported, idempotent.

Each kind is an ``Importer``: it parses and validates every row (collecting errors
instead of stopping at the first), then applies the rows. ``run_import`` does both
inside one write transaction, so a bad file, or a failure half-way, leaves the
database exactly as it was; ``dry_run`` applies and rolls back, which gives an exact
preview of what would be created and updated.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from . import accounts, org, text
from .db import write
from .errors import ImportRejected, RowError, ValidationError
from .tabular import Sheet, cell_text, check_text, read_sheet, split_list


@dataclass(frozen=True)
class Column:
    name: str
    required: bool = False
    note: str = ""


@dataclass
class ImportReport:
    kind: str
    label: str
    rows: int
    counts: Counter = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    secrets: list[tuple[str, str]] = field(default_factory=list)  # (account, initial password)
    dry_run: bool = False

    def summary(self) -> str:
        parts = [
            f"{label} {self.counts[key]} 条"
            for key, label in (("created", "新增"), ("updated", "更新"), ("unchanged", "未变"))
        ]
        verb = "预览（尚未写入）" if self.dry_run else "导入完成"
        return f"{self.label}{verb}：共 {self.rows} 行，" + "，".join(parts)


class Importer:
    kind: str = ""
    label: str = ""
    columns: list[Column] = []

    def parse(self, db: Database, sheet: Sheet) -> tuple[list[Any], list[RowError]]:
        raise NotImplementedError

    def apply(self, db: Database, items: list[Any], report: ImportReport, actor_id: int | None) -> None:
        raise NotImplementedError


IMPORTERS: dict[str, Importer] = {}


def register(importer: Importer) -> Importer:
    IMPORTERS[importer.kind] = importer
    return importer


class _RollBack(Exception):
    pass


def run_import(
    db: Database, kind: str, filename: str, data: bytes, dry_run: bool = False, actor_id: int | None = None
) -> ImportReport:
    if kind not in IMPORTERS:
        raise ValidationError(f"未知的导入类型“{kind}”，可用：{'、'.join(IMPORTERS)}")
    importer = IMPORTERS[kind]
    sheet = read_sheet(filename, data)
    missing = [c.name for c in importer.columns if c.required and c.name not in sheet.header]
    if missing:
        raise ImportRejected([RowError(1, m, "缺少必填列") for m in missing])
    if not sheet.rows:
        raise ImportRejected([RowError(2, "", "文件中没有数据行")])
    report = ImportReport(kind=kind, label=importer.label, rows=len(sheet.rows), dry_run=dry_run)
    try:
        with write(db):
            items, errors = importer.parse(db, sheet)
            if errors:
                raise ImportRejected(sorted(errors, key=lambda e: (e.row, e.column)))
            importer.apply(db, items, report, actor_id)
            if dry_run:
                raise _RollBack
            accounts.audit(db, actor_id, f"import.{kind}", f"{filename}: {report.summary()}")
    except _RollBack:
        report.secrets.clear()  # nothing was written: no password exists yet
    return report


def _field(check, value: object, column: str, row: int, errors: list[RowError], *args) -> str:
    """Run one of portal.text's validators on a cell, recording its message as a RowError."""
    try:
        return check(cell_text(value), column, *args)
    except ValidationError as exc:
        errors.append(RowError(row, column, exc.message))
        return cell_text(value)


def _date(value: object, column: str, row: int, errors: list[RowError]) -> dt.date | None:
    if cell_text(value) == "":
        return None
    try:
        from .dates import parse_date

        return parse_date(value, column)
    except ValidationError as exc:
        errors.append(RowError(row, column, exc.message))
        return None


def _yes_no(value: object, column: str, row: int, errors: list[RowError]) -> bool:
    text = cell_text(value)
    if text in ("", "否", "N", "n", "no", "0"):
        return False
    if text in ("是", "Y", "y", "yes", "1"):
        return True
    errors.append(RowError(row, column, f"应为“是”或“否”，而不是“{text[:20]}”"))
    return False


def _duplicate_keys(keyed: list[tuple[int, tuple]], errors: list[RowError], what: str) -> None:
    seen: dict[tuple, int] = {}
    for row, key in keyed:
        if key in seen:
            errors.append(RowError(row, "", f"与第 {seen[key]} 行重复（{what}相同）"))
        else:
            seen[key] = row


# --- 单位 ----------------------------------------------------------------------------------


@dataclass
class _UnitRow:
    row: int
    name: str
    kind: str


class UnitImporter(Importer):
    kind = "units"
    label = "单位"
    columns = [Column("单位名称", True, "唯一"), Column("单位类型", True, "学院 或 部门")]

    def parse(self, db, sheet):
        items, errors = [], []
        for row, values in sheet.rows:
            name = _field(text.name, values.get("单位名称"), "单位名称", row, errors, 60)
            kind_text = check_text(values.get("单位类型"), "单位类型", row, errors, required=True)
            if kind_text and kind_text not in org.UNIT_KINDS:
                errors.append(RowError(row, "单位类型", f"应为“学院”或“部门”，而不是“{kind_text[:20]}”"))
            items.append(_UnitRow(row, name, org.UNIT_KINDS.get(kind_text, "")))
        _duplicate_keys([(i.row, (i.name,)) for i in items], errors, "单位名称")
        return items, errors

    def apply(self, db, items, report, actor_id):
        for item in items:
            _, outcome = org.save_unit(db, item.name, item.kind)
            report.counts[outcome] += 1


# --- 干部 ----------------------------------------------------------------------------------


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
        Column("工号", True),
        Column("姓名", True),
        Column("单位", True, "已有单位"),
        Column("职务", True),
        Column("级别", True, "校级、正处、副处"),
        Column("标签", False, "如 school_leader;charge_research"),
        Column("中共党员", False, "是 或 否"),
        Column("分管单位", False, "以 ; 分隔"),
        Column("任职开始", False, "YYYY-MM-DD"),
        Column("任职结束", False, "YYYY-MM-DD"),
    ]

    def parse(self, db, sheet):
        items, errors = [], []
        names: dict[str, tuple[str, int]] = {}
        for row, v in sheet.rows:
            staff_no = _field(text.code, v.get("工号"), "工号", row, errors)
            name = _field(text.name, v.get("姓名"), "姓名", row, errors)
            unit_name = _field(text.name, v.get("单位"), "单位", row, errors, 60)
            title = _field(text.name, v.get("职务"), "职务", row, errors, 60)
            level = check_text(v.get("级别"), "级别", row, errors, required=True)
            unit = org.unit_by_name(db, unit_name) if unit_name else None
            if unit_name and unit is None:
                errors.append(RowError(row, "单位", f"单位“{unit_name[:30]}”不存在，请先导入单位"))
            if level and level not in org.LEVELS:
                errors.append(RowError(row, "级别", f"应为“校级”“正处”或“副处”，而不是“{level[:20]}”"))
            tags = split_list(check_text(v.get("标签"), "标签", row, errors))
            try:
                org.validate_tags(tags)
            except ValidationError as exc:
                errors.append(RowError(row, "标签", exc.message))
            if (
                level == "校级"
                and "middle_cadre" in tags
                or level in ("正处", "副处")
                and "school_leader" in tags
            ):
                errors.append(RowError(row, "标签", f"标签与级别“{level}”矛盾"))
            charges = []
            for charge in split_list(check_text(v.get("分管单位"), "分管单位", row, errors)):
                charged = org.unit_by_name(db, charge)
                if charged is None:
                    errors.append(RowError(row, "分管单位", f"单位“{charge[:30]}”不存在"))
                else:
                    charges.append(charged.id)
            start = _date(v.get("任职开始"), "任职开始", row, errors)
            end = _date(v.get("任职结束"), "任职结束", row, errors)
            if start and end and end < start:
                errors.append(RowError(row, "任职结束", "任职结束日期早于任职开始日期"))
            if staff_no in names and names[staff_no][0] != name:
                errors.append(
                    RowError(
                        row, "姓名", f"同一工号在第 {names[staff_no][1]} 行的姓名是“{names[staff_no][0]}”"
                    )
                )
            names.setdefault(staff_no, (name, row))
            items.append(
                _CadreRow(
                    row,
                    staff_no,
                    name,
                    unit.id if unit else 0,
                    title,
                    level,
                    tags,
                    _yes_no(v.get("中共党员"), "中共党员", row, errors),
                    charges,
                    start,
                    end,
                )
            )
        _duplicate_keys(
            [(i.row, (i.staff_no, i.unit_id, i.title)) for i in items], errors, "工号、单位、职务"
        )
        return items, errors

    def apply(self, db, items, report, actor_id):
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


# --- 账号 ----------------------------------------------------------------------------------


@dataclass
class _AccountRow:
    row: int
    staff_no: str
    name: str
    roles: list[accounts.Role]
    unit_id: int | None
    kind: str | None
    phone: str | None


class AccountImporter(Importer):
    """Accounts for staff and students (not in FORMATS.md; documented in the README)."""

    kind = "accounts"
    label = "账号"
    columns = [
        Column("工号", True, "工号或学号，即登录账号"),
        Column("姓名", True),
        Column("角色", True, "师生、干部、部门、管理员，以 ; 分隔"),
        Column("部门", False, "部门角色所属的责任部门"),
        Column("单位", False),
        Column("人员类别", False, "教职工、学生、离退休、其他"),
        Column("手机号", False),
    ]

    def parse(self, db, sheet):
        items, errors = [], []
        for row, v in sheet.rows:
            staff_no = _field(text.code, v.get("工号"), "工号", row, errors)
            name = _field(text.name, v.get("姓名"), "姓名", row, errors)
            dept = check_text(v.get("部门"), "部门", row, errors)
            roles = []
            for label in split_list(check_text(v.get("角色"), "角色", row, errors, required=True)):
                if label not in accounts.ROLE_BY_LABEL:
                    errors.append(RowError(row, "角色", f"未知角色“{label[:20]}”"))
                    continue
                role = accounts.ROLE_BY_LABEL[label]
                roles.append(accounts.Role(role=role, department=dept if role == "department" else ""))
            try:
                accounts._validate_roles(roles)
            except ValidationError as exc:
                errors.append(RowError(row, "部门", exc.message))
            unit_name = check_text(v.get("单位"), "单位", row, errors)
            unit = org.unit_by_name(db, unit_name) if unit_name else None
            if unit_name and unit is None:
                errors.append(RowError(row, "单位", f"单位“{unit_name[:30]}”不存在"))
            kind = check_text(v.get("人员类别"), "人员类别", row, errors) or None
            if kind and kind not in org.PERSON_KINDS:
                errors.append(RowError(row, "人员类别", f"应为 {'、'.join(org.PERSON_KINDS)} 之一"))
            phone = _field(text.phone, v.get("手机号"), "手机号", row, errors, False) or None
            items.append(_AccountRow(row, staff_no, name, roles, unit.id if unit else None, kind, phone))
        _duplicate_keys([(i.row, (i.staff_no,)) for i in items], errors, "工号")
        return items, errors

    def apply(self, db, items, report, actor_id):
        for item in items:
            person, _ = org.save_person(
                db, item.staff_no, item.name, unit_id=item.unit_id, phone=item.phone, kind=item.kind
            )
            user = accounts.find_user(db, item.staff_no)
            explicit = [r for r in item.roles if r.role != "cadre"]
            if user is None:
                password = accounts.generate_password()
                accounts.create_user(db, item.staff_no, item.name, password, explicit, person.id, actor_id)
                report.secrets.append((item.staff_no, password))
                report.counts["created"] += 1
                continue
            current = db.execute(
                "SELECT role, department FROM user_roles WHERE user_id = ? ORDER BY 1, 2", [user.id]
            ).fetchall()
            wanted = sorted({(r.role, r.department) for r in explicit})
            if [tuple(r) for r in current] == wanted and user.person_id == person.id:
                report.counts["unchanged"] += 1
                continue
            accounts.set_roles(db, user.id, explicit, actor_id)
            db.execute("UPDATE users SET person_id = ? WHERE id = ?", [person.id, user.id])
            report.counts["updated"] += 1
        if report.secrets:
            report.notes.append(
                f"新建账号 {len(report.secrets)} 个，初始密码见下表，请妥善转交本人并提醒修改。"
            )


# --- 联系对象 and 联系活动 (portal.assignments, portal.activities) ---------------------------


def _cadre_id(db: Database, staff_no: str, row: int, errors: list[RowError]) -> int:
    if not staff_no:
        return 0
    hit = db.execute(
        "SELECT p.id, EXISTS (SELECT 1 FROM cadre_posts c WHERE c.person_id = p.id) FROM people p "
        "WHERE p.staff_no = ?",
        [staff_no],
    ).fetchone()
    if hit is None:
        errors.append(RowError(row, "工号", f"工号“{staff_no[:30]}”不存在，请先导入干部"))
    elif not hit[1]:
        errors.append(RowError(row, "工号", f"工号“{staff_no[:30]}”没有干部职务记录"))
    return hit[0] if hit else 0


class AssignmentImporter(Importer):
    """FORMATS.md 联系对象. Targets missing from the departments' lists are added to them."""

    kind = "assignments"
    label = "联系对象"
    columns = [
        Column("工号", True, "干部工号"),
        Column("对象类型", True, "联系学院、联系点、结对子、党支部、高层次人才、党外代表人士、离退休老同志"),
        Column("对象编号", True, "对象的固定编号（人员填工号，学院填学院名称）"),
        Column("对象名称", True, "打印在记录表上的名称"),
        Column("开始日期", True, "YYYY-MM-DD"),
        Column("结束日期", False, "YYYY-MM-DD"),
    ]

    def parse(self, db, sheet):
        from . import assignments

        items, errors = [], []
        for row, v in sheet.rows:
            staff_no = check_text(v.get("工号"), "工号", row, errors, required=True, max_len=30)
            kind = check_text(v.get("对象类型"), "对象类型", row, errors, required=True)
            code = check_text(v.get("对象编号"), "对象编号", row, errors, required=True, max_len=60)
            name = check_text(v.get("对象名称"), "对象名称", row, errors, required=True, max_len=100)
            start = _date(v.get("开始日期"), "开始日期", row, errors)
            end = _date(v.get("结束日期"), "结束日期", row, errors)
            if cell_text(v.get("开始日期")) == "":
                errors.append(RowError(row, "开始日期", "必填，不能为空"))
            if kind and kind not in assignments.KINDS:
                errors.append(RowError(row, "对象类型", f"应为 {'、'.join(assignments.KINDS)} 之一"))
            if kind == "联系学院" and code:
                unit = org.unit_by_name(db, code)
                if unit is None or unit.kind != "college":
                    errors.append(
                        RowError(row, "对象编号", f"“{code[:30]}”不是已有的学院（联系学院填学院名称）")
                    )
            if start and end and end < start:
                errors.append(RowError(row, "结束日期", "结束日期早于开始日期"))
            cadre_id = _cadre_id(db, staff_no, row, errors)
            if start and cadre_id:
                items.append(
                    assignments.AssignmentInput(
                        cadre_id=cadre_id,
                        kind=kind,
                        target_code=code,
                        target_name=name,
                        start_date=start,
                        end_date=end,
                    )
                )
        keys = [
            (r, (cell_text(v.get("工号")), cell_text(v.get("对象类型")), cell_text(v.get("对象编号"))))
            for r, v in sheet.rows
        ]
        _duplicate_keys(keys, errors, "工号、对象类型、对象编号")
        return items, errors

    def apply(self, db, items, report, actor_id):
        from . import assignments

        added = 0
        for item in items:
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
            _, outcome = assignments.save_assignment(db, item, None)
            report.counts[outcome] += 1
        if added:
            report.notes.append(f"名单中原来没有的对象 {added} 个已加入相应名单（党支部、高层次人才等）。")


_ACTIVITY_COLUMNS = {
    "cadre_id": "工号",
    "system": "制度",
    "subtype": "类别",
    "date": "日期",
    "place": "地点",
    "counterpart_text": "联系对象",
    "target_codes": "对象编号",
    "hours": "课时",
    "content": "开展情况",
    "opinions": "意见建议",
    "followup": "落实情况",
    "participants": "联系对象",
    "source": "",
}


class ActivityImporter(Importer):
    """FORMATS.md 联系活动: history kept in Excel counts from day one.

    Opinions in imported rows do **not** open cases: they were raised and handled before the
    portal kept cases, and opening them now would flood the departments with overdue items.
    """

    kind = "activities"
    label = "联系活动"
    columns = [
        Column("工号", True, "干部工号"),
        Column("制度", True, "11 项联系师生制度之一"),
        Column("类别", True, "该制度的类别"),
        Column("日期", True, "YYYY-MM-DD"),
        Column("地点", False),
        Column("联系对象", False, "打印在记录表上的联系对象"),
        Column("对象编号", False, "联系对象的编号或谈话对象的工号，以 ; 分隔"),
        Column("课时", False, "思政课授课的课时"),
        Column("开展情况", False, "联系工作开展情况"),
        Column("意见建议", False, "联系对象反映的意见和建议（导入时不生成办理事项）"),
        Column("落实情况", False),
    ]

    def parse(self, db, sheet):
        from . import activities

        items, errors = [], []
        for row, v in sheet.rows:
            found: list[RowError] = []
            staff_no = check_text(v.get("工号"), "工号", row, found, required=True, max_len=30)
            system = check_text(v.get("制度"), "制度", row, found, required=True, max_len=20)
            subtype = check_text(v.get("类别"), "类别", row, found, required=True, max_len=20)
            if cell_text(v.get("日期")) == "":
                found.append(RowError(row, "日期", "必填，不能为空"))
            day = _date(v.get("日期"), "日期", row, found)
            codes = split_list(cell_text(v.get("对象编号")))
            hours_text = cell_text(v.get("课时"))
            hours = 0.0
            if hours_text:
                try:
                    hours = float(hours_text)
                except ValueError:
                    found.append(RowError(row, "课时", f"应为数字，而不是“{hours_text[:20]}”"))
            cadre_id = _cadre_id(db, staff_no, row, found)
            texts = {c: cell_text(v.get(c)) for c in ("地点", "联系对象", "开展情况", "意见建议", "落实情况")}
            if found or day is None:
                errors.extend(found)
                continue
            data = activities.ActivityInput(
                cadre_id=cadre_id,
                system=system,
                subtype=subtype,
                date=day,
                place=texts["地点"],
                counterpart_text=texts["联系对象"],
                target_codes=codes,
                hours=hours,
                content=texts["开展情况"],
                opinions=activities.split_opinions(texts["意见建议"].replace("\r\n", "\n")),
                followup=texts["落实情况"],
                source="import",
            )
            for field_name, message in activities.problems(db, data):
                errors.append(RowError(row, _ACTIVITY_COLUMNS.get(field_name, ""), message))
            key = activities.import_key(staff_no, day, system, subtype, codes, texts["开展情况"])
            items.append((row, key, data))
        _duplicate_keys(
            [(r, (k,)) for r, k, _ in items], errors, "工号、日期、制度、类别、对象编号、开展情况"
        )
        return items, errors

    def apply(self, db, items, report, actor_id):
        from . import activities

        for _, key, data in items:
            report.counts[activities.import_activity(db, data, key, actor_id)] += 1
        if any(data.opinions for _, _, data in items):
            report.notes.append(
                "导入记录中的意见建议不生成办理事项（历史记录）；如需办理，请在“联系活动记录”中补登。"
            )


for _importer in (
    UnitImporter(),
    CadreImporter(),
    AccountImporter(),
    AssignmentImporter(),
    ActivityImporter(),
):
    register(_importer)
