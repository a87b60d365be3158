"""Imports of the sheets of docs/formats.md: all-or-nothing, every bad row reported, idempotent.

Each kind is an ``Importer``. An import runs in two steps so that it never locks anyone out:

* ``prepare`` reads the file, parses and validates every row (collecting every error instead of
  stopping at the first) and computes what would be created, updated or left unchanged. It only
  reads: no transaction, no lock; the page computes it once per uploaded file (the preview).
* ``commit`` does the slow work that writes nothing (password hashing) first, then applies the
  prepared rows in **one short** ``BEGIN IMMEDIATE`` transaction: the file is still all-or-nothing,
  and other users wait milliseconds, not the length of the parse.

Rows with **errors** (malformed: an unknown cadre, an impossible date, an unknown 制度/类别, a bad
number …) refuse the whole file. Rows with **warnings** (well-formed but not fitting today's data,
such as a historical visit to a contact target whose assignment had ended) are imported and the
warning is reported on their row, in the preview and in the result.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import os
import pickle
import secrets
import sqlite3
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from sqlite_utils import Database

from . import accounts, audit, dates, org, submissions, text
from .account_notices import NewAccount
from .db import write
from .errors import ImportRejected, RowError, ValidationError
from .tabular import Sheet, cell_text, check_text, read_sheet, split_list

log = logging.getLogger("portal.imports")


@dataclass(frozen=True)
class Column:
    name: str
    required: bool = False
    note: str = ""
    example: str = ""


@dataclass
class ImportReport:
    kind: str
    label: str
    rows: int
    counts: Counter = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    opened: list[NewAccount] = field(default_factory=list)  # new accounts with their initial passwords
    dry_run: bool = False
    warnings: list[RowError] = field(default_factory=list)
    repeated: bool = False  # the same confirm again: nothing was imported this time
    write_seconds: float = 0.0  # how long the final write transaction held the lock

    @property
    def secrets(self) -> list[tuple[str, str]]:
        """(account, initial password) of each new account."""
        return [(a.username, a.password) for a in self.opened]

    def summary(self) -> str:
        parts = [
            f"{label} {self.counts[key]} 条"
            for key, label in (("created", "新增"), ("updated", "更新"), ("unchanged", "未变"))
        ]
        verb = "预览（尚未写入）" if self.dry_run else "导入完成"
        tail = f"；{len(self.warnings)} 行有提示（已导入，见提示表）" if self.warnings else ""
        return f"{self.label}{verb}：共 {self.rows} 行，" + "，".join(parts) + tail

    def as_json(self) -> dict:
        """What the exactly-once record keeps (never the passwords)."""
        return {
            "kind": self.kind,
            "label": self.label,
            "rows": self.rows,
            "counts": dict(self.counts),
            "notes": self.notes,
            "warnings": [[w.row, w.column, w.reason] for w in self.warnings],
        }

    @classmethod
    def from_json(cls, data: dict) -> ImportReport:
        return cls(
            kind=data["kind"],
            label=data["label"],
            rows=data["rows"],
            counts=Counter(data["counts"]),
            notes=list(data["notes"]),
            warnings=[RowError(*w) for w in data["warnings"]],
            repeated=True,
        )


class Importer:
    kind: str = ""
    label: str = ""
    columns: list[Column] = []

    def parse(self, db: Database, sheet: Sheet) -> tuple[list[Any], list[RowError], list[RowError]]:
        """(items, errors, warnings); reads only."""
        raise NotImplementedError

    def preview(self, db: Database, items: list[Any]) -> Counter:
        """What ``apply`` would do, counted by outcome; reads only."""
        raise NotImplementedError

    def before_write(self, db: Database, items: list[Any]) -> None:
        """Slow work that writes nothing, done before the transaction (password hashing)."""

    def stage(self, db: Database, items: list[Any], actor_id: int | None) -> Staged | None:
        """Optional: write the bulk of the rows before the final transaction, in short transactions,
        hidden until ``apply`` makes them live; the returned ``Staged`` can take them back."""
        return None

    def apply(
        self,
        db: Database,
        items: list[Any],
        report: ImportReport,
        actor_id: int | None,
        staged: Staged | None,
    ) -> None:
        raise NotImplementedError

    @property
    def example(self) -> list[str]:
        return [c.example for c in self.columns]


@dataclass
class Staged:
    """Rows written ahead of an import's final transaction, invisible until it commits."""

    marker: str
    first_id: int
    keys: set[str]
    undo: Any  # () -> None: delete them again


IMPORTERS: dict[str, Importer] = {}


def register(importer: Importer) -> Importer:
    IMPORTERS[importer.kind] = importer
    return importer


PREVIEW_FIRST = 10  # the file's first rows, as read, whatever they hold
PREVIEW_FLAGGED = 100  # then the rows with an error or a warning, up to this many
PREVIEW_CELL = 200  # characters of a cell shown


@dataclass
class DecodedRow:
    row: int  # as the spreadsheet numbers it
    cells: list[str]  # one per header column, as read
    problems: list[str]  # "错误：…" / "提示：…", by column


@dataclass
class Decoded:
    """What the file holds as the import read it, before anything is written: the encoding, the
    header, the first rows and every row with an error or a warning — so that a file read in the
    wrong encoding, or a column in the wrong place, is seen in the preview and not in the database."""

    encoding: str
    header: list[str]
    rows: list[DecodedRow]
    total: int  # data rows in the file
    flagged: int  # rows with an error or a warning
    flagged_shown: int


def decoded(sheet: Sheet, errors: list[RowError], warnings: list[RowError]) -> Decoded:
    said: dict[int, list[str]] = {}
    for kind, found in (("错误", errors), ("提示", warnings)):
        for e in found:
            said.setdefault(e.row, []).append(f"{kind}：" + (f"“{e.column}”" if e.column else "") + e.reason)
    flagged = [n for n, _ in sheet.rows if n in said]
    wanted = {n for n, _ in sheet.rows[:PREVIEW_FIRST]} | set(flagged[:PREVIEW_FLAGGED])
    return Decoded(
        encoding=sheet.encoding,
        header=list(sheet.header),
        rows=[
            DecodedRow(n, [c[:PREVIEW_CELL] for c in sheet.texts(row)], said.get(n, []))
            for n, row in sheet.rows
            if n in wanted
        ],
        total=len(sheet.rows),
        flagged=len(flagged),
        flagged_shown=min(len(flagged), PREVIEW_FLAGGED),
    )


@dataclass
class Prepared:
    """A validated file, ready to write: the preview, and what ``commit`` applies."""

    kind: str
    filename: str
    digest: str  # sha256 of kind + file: the identity of "this uploaded file"
    rows: int
    items: list[Any]
    warnings: list[RowError]
    counts: Counter
    parked_at: str | None = None  # while parked (``park``): the file holding ``items``
    decoded: Decoded | None = None  # the rows as read, for the preview

    def park(self) -> Prepared:
        """The same file with its parsed rows moved to a private temporary file: what the import page
        keeps between the preview and 确认导入. 100,000 parsed activities are ≈ 200 MB in the
        session; on disk a few tens of MB. ``commit`` reads them back and removes the file."""
        if self.parked_at is not None:
            return self
        _sweep_parked()
        handle, path = tempfile.mkstemp(prefix=PARKED_PREFIX, suffix=".pickle")  # mode 0600
        with os.fdopen(handle, "wb") as out:
            pickle.dump(self.items, out, protocol=pickle.HIGHEST_PROTOCOL)
        return dataclasses.replace(self, items=[], parked_at=path)

    def rows_to_write(self) -> list[Any]:
        if self.parked_at is None:
            return self.items
        try:
            with open(self.parked_at, "rb") as found:
                return pickle.load(found)  # our own file, named only in the server-side session
        except FileNotFoundError:
            raise ValidationError("导入预览已过期，请重新上传文件") from None

    def discard(self) -> None:
        """Remove the parked rows (after the import, or when another file replaces the preview)."""
        if self.parked_at is not None:
            Path(self.parked_at).unlink(missing_ok=True)

    def preview(self) -> ImportReport:
        importer = IMPORTERS[self.kind]
        return ImportReport(
            kind=self.kind,
            label=importer.label,
            rows=self.rows,
            counts=Counter(self.counts),
            warnings=list(self.warnings),
            dry_run=True,
        )


PARKED_PREFIX = "portal-import-"
PARKED_HOURS = 24  # a preview left that long (the admin went away) is removed by the next park


def _sweep_parked() -> None:
    cutoff = time.time() - PARKED_HOURS * 3600
    for old in Path(tempfile.gettempdir()).glob(f"{PARKED_PREFIX}*.pickle"):
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except OSError:  # removed meanwhile by another process
            pass


def file_digest(kind: str, data: bytes) -> str:
    return hashlib.sha256(kind.encode() + b"\0" + data).hexdigest()


def _by_row(found: list[RowError]) -> list[RowError]:
    return sorted(found, key=lambda e: (e.row, e.column))


def prepare(db: Database, kind: str, filename: str, data: bytes) -> Prepared:
    """Read, parse and validate a file without writing or locking; ImportRejected lists every error
    (its ``warnings`` attribute the rows that would only be warned about)."""
    if kind not in IMPORTERS:
        raise ValidationError(f"未知的导入类型“{kind}”，可用：{'、'.join(IMPORTERS)}")
    importer = IMPORTERS[kind]
    sheet = read_sheet(filename, data)
    missing = [c.name for c in importer.columns if c.required and c.name not in sheet.header]
    if missing:
        rejected = ImportRejected([RowError(1, m, "缺少必填列") for m in missing])
        rejected.decoded = decoded(sheet, [], [])  # the header and rows as read show what is wrong
        raise rejected
    if not sheet.rows:
        raise ImportRejected([RowError(2, "", "文件中没有数据行")])
    items, errors, warnings = importer.parse(db, sheet)
    if errors:
        log.info(
            "import %s %s refused: %d errors",
            kind,
            filename,
            len(errors),
            extra={"kind": kind, "file": filename, "rows": len(sheet.rows), "errors": len(errors)},
        )
        rejected = ImportRejected(_by_row(errors), warnings=_by_row(warnings))
        rejected.decoded = decoded(sheet, errors, warnings)
        raise rejected
    return Prepared(
        kind=kind,
        filename=filename,
        digest=file_digest(kind, data),
        rows=len(sheet.rows),
        items=items,
        warnings=_by_row(warnings),
        counts=importer.preview(db, items),
        decoded=decoded(sheet, [], warnings),
    )


def commit(
    db: Database, prepared: Prepared, actor_id: int | None = None, token: str | None = None
) -> ImportReport:
    """Write a prepared file in one short transaction. With ``token`` (the page's confirm), a second
    commit of the same token imports nothing and returns the first one's report (``repeated``)."""
    importer = IMPORTERS[prepared.kind]
    report = ImportReport(
        kind=prepared.kind, label=importer.label, rows=prepared.rows, warnings=list(prepared.warnings)
    )
    if token:
        done = db.execute(
            "SELECT result FROM submissions WHERE token = ? AND kind = 'import'", [token]
        ).fetchone()
        if done is not None:
            return ImportReport.from_json(json.loads(done[0]))
    items = prepared.rows_to_write()
    importer.before_write(db, items)
    staged = importer.stage(db, items, actor_id)

    def create():
        started = time.perf_counter()
        with write(db):
            importer.apply(db, items, report, actor_id, staged)
            audit.record(
                db, actor_id, f"import.{prepared.kind}", f"{prepared.filename}: {report.summary()}"[:500]
            )
        report.write_seconds = time.perf_counter() - started
        return None, report.as_json()

    try:
        outcome = submissions.once(db, token, "import", create, user_id=actor_id)
    except BaseException:
        if staged is not None:
            staged.undo()
        raise
    if not outcome.created:
        if staged is not None:
            staged.undo()
        return ImportReport.from_json(outcome.result)
    log.info(
        "import %s %s: %s",
        prepared.kind,
        prepared.filename,
        report.summary(),
        extra={
            "kind": prepared.kind,
            "file": prepared.filename,
            "rows": prepared.rows,
            "user_id": actor_id,
            "write_seconds": round(report.write_seconds, 3),
        },
    )
    return report


def run_import(
    db: Database, kind: str, filename: str, data: bytes, dry_run: bool = False, actor_id: int | None = None
) -> ImportReport:
    """Prepare and (unless ``dry_run``) commit a file: the CLI's and the tests' one call."""
    prepared = prepare(db, kind, filename, data)
    if dry_run:
        return prepared.preview()
    return commit(db, prepared, actor_id)


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
        return dates.parse_date(value, column)
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


def _unit(
    db: Database, ref: str, column: str, row: int, errors: list[RowError], cache: dict
) -> org.Unit | None:
    """A unit named by its 单位编码 or its name (full or the policy's)."""
    if ref not in cache:
        cache[ref] = org.unit_by_ref(db, ref)
    unit = cache[ref]
    if unit is None:
        errors.append(RowError(row, column, f"单位“{ref[:30]}”不存在（填单位名称或单位编码），请先导入单位"))
    return unit


# --- 单位 ----------------------------------------------------------------------------------


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
            name = _field(text.name, values.get("单位名称"), "单位名称", row, errors, 60)
            kind_text = check_text(values.get("单位类型"), "单位类型", row, errors, required=True)
            if kind_text and kind_text not in org.UNIT_KINDS:
                errors.append(RowError(row, "单位类型", f"应为“学院”或“部门”，而不是“{kind_text[:20]}”"))
            code = None
            if cell_text(values.get("单位编码")):
                code = _field(text.code, values.get("单位编码"), "单位编码", row, errors)
                clash = db.execute(
                    "SELECT name FROM units WHERE code = ? AND name != ?", [code, name]
                ).fetchone()
                if clash:
                    errors.append(RowError(row, "单位编码", f"单位编码“{code}”已用于“{clash[0]}”"))
            items.append(_UnitRow(row, name, org.UNIT_KINDS.get(kind_text, ""), code))
        _duplicate_keys([(i.row, (i.name,)) for i in items], errors, "单位名称")
        _duplicate_keys([(i.row, (i.code,)) for i in items if i.code], errors, "单位编码")
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
            staff_no = _field(text.code, v.get("工号"), "工号", row, errors)
            name = _field(text.name, v.get("姓名"), "姓名", row, errors)
            unit_name = _field(text.name, v.get("单位"), "单位", row, errors, 60)
            title = _field(text.name, v.get("职务"), "职务", row, errors, 60)
            level = check_text(v.get("级别"), "级别", row, errors, required=True)
            unit = _unit(db, unit_name, "单位", row, errors, units) if unit_name else None
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
                charged = _unit(db, charge, "分管单位", row, errors, units)
                if charged is not None:
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
            cpc = _yes_no(v.get("中共党员"), "中共党员", row, errors)
            items.append(
                _CadreRow(
                    row, staff_no, name, unit.id if unit else 0, title, level, tags, cpc, charges, start, end
                )
            )
        _duplicate_keys(
            [(i.row, (i.staff_no, i.unit_id, i.title)) for i in items], errors, "工号、单位、职务"
        )
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


# --- 账号 ----------------------------------------------------------------------------------


def _opened(item: _AccountRow, password: str) -> NewAccount:
    roles = "、".join(r.label for r in item.roles if r.role != "cadre")
    return NewAccount(item.staff_no, item.name, password, roles)


@dataclass
class _AccountRow:
    row: int
    staff_no: str
    name: str
    roles: list[accounts.Role]
    unit_id: int | None
    kind: str | None
    phone: str | None
    password: str | None = None  # made and hashed before the write, for accounts to create
    password_hash: str | None = None


def _ids_by(db: Database, table: str, column: str, keys) -> dict:
    """{key: id} of the rows of ``table`` whose ``column`` is one of ``keys`` (just written in bulk)."""
    return dict(
        db.execute(
            f"SELECT {column}, id FROM {table} WHERE {column} IN (SELECT value FROM json_each(?))",
            [_json_list(keys)],
        ).fetchall()
    )


def _json_list(values) -> str:
    return json.dumps(list(values), ensure_ascii=False)


# Initial passwords are random (accounts.generate_password: 12 characters or more, ≥ 69 bits), so
# they need no memory-hard hash to resist guessing; a light argon2id keeps a 5,000-account import to seconds instead of an hour on a
# busy server. The first login rehashes with the full parameters (accounts.authenticate), and the
# user is told to change the password anyway.
_INITIAL_HASHER = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)


class AccountImporter(Importer):
    """Accounts for staff and students (docs/formats.md 账号)."""

    kind = "accounts"
    label = "账号"
    columns = [
        Column("工号", True, "工号或学号，即登录账号", "2023000001"),
        Column("姓名", True, "", "王小明"),
        Column("角色", True, "师生、干部、部门、管理员，以 ; 分隔", "师生"),
        Column("部门", False, "部门角色所属的责任部门", ""),
        Column("单位", False, "单位名称或单位编码", "计算机科学与技术学院"),
        Column("人员类别", False, "教职工、学生、离退休、其他", "学生"),
        Column("手机号", False, "", "13800000000"),
    ]

    def parse(self, db, sheet):
        items = []
        errors: list[RowError] = []
        units: dict = {}
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
            unit = _unit(db, unit_name, "单位", row, errors, units) if unit_name else None
            kind = check_text(v.get("人员类别"), "人员类别", row, errors) or None
            if kind and kind not in org.PERSON_KINDS:
                errors.append(RowError(row, "人员类别", f"应为 {'、'.join(org.PERSON_KINDS)} 之一"))
            phone = _field(text.phone, v.get("手机号"), "手机号", row, errors, False) or None
            items.append(_AccountRow(row, staff_no, name, roles, unit.id if unit else None, kind, phone))
        _duplicate_keys([(i.row, (i.staff_no,)) for i in items], errors, "工号")
        return items, errors, []

    def _state(self, db, item) -> str:
        user = accounts.find_user(db, item.staff_no)
        if user is None:
            return "created"
        current = db.execute(
            "SELECT role, department FROM user_roles WHERE user_id = ? ORDER BY 1, 2", [user.id]
        ).fetchall()
        wanted = sorted({(r.role, r.department) for r in item.roles if r.role != "cadre"})
        person = org.person_by_staff_no(db, item.staff_no)
        same = [tuple(r) for r in current] == wanted and person is not None and user.person_id == person.id
        return "unchanged" if same else "updated"

    def preview(self, db, items):
        return Counter(self._state(db, item) for item in items)

    @staticmethod
    def _bulk_create(db, items, report, actor_id) -> list:
        """People and accounts entirely new to the portal, in a few statements (a 5,000-row file in a
        fraction of a second of lock; every value was validated while preparing); returns the rest,
        which go through the services one by one."""
        known_people = {
            r[0]
            for r in db.execute(
                "SELECT staff_no FROM people WHERE staff_no IN (SELECT value FROM json_each(?))",
                [_json_list(i.staff_no for i in items)],
            )
        }
        known_users = {
            r[0].lower()
            for r in db.execute(
                "SELECT username FROM users WHERE username IN (SELECT value FROM json_each(?)) COLLATE NOCASE",
                [_json_list(i.staff_no for i in items)],
            )
        }
        fresh = [
            i
            for i in items
            if i.staff_no not in known_people and i.staff_no.lower() not in known_users and i.password_hash
        ]
        if not fresh:
            return items
        now = dates.stamp()
        db.conn.executemany(
            "INSERT INTO people (staff_no, name, unit_id, phone, kind, cpc_member) VALUES (?, ?, ?, ?, ?, 0)",
            ((i.staff_no, i.name, i.unit_id, i.phone or "", i.kind or "教职工") for i in fresh),
        )
        people = _ids_by(db, "people", "staff_no", (i.staff_no for i in fresh))
        db.conn.executemany(
            "INSERT INTO users (username, person_id, display_name, password_hash, created_at, must_change_password) "
            "VALUES (?, ?, ?, ?, ?, 1)",
            ((i.staff_no, people[i.staff_no], i.name, i.password_hash, now) for i in fresh),
        )
        users = _ids_by(db, "users", "username", (i.staff_no for i in fresh))
        db.conn.executemany(
            "INSERT OR IGNORE INTO user_roles (user_id, role, department) VALUES (?, ?, ?)",
            ((users[i.staff_no], r.role, r.department) for i in fresh for r in i.roles if r.role != "cadre"),
        )
        audit.record_many(
            db,
            actor_id,
            "user.create",
            (f"{i.staff_no} {[r.label for r in i.roles if r.role != 'cadre']}" for i in fresh),
        )
        report.opened.extend(_opened(i, i.password) for i in fresh)
        report.counts["created"] += len(fresh)
        done = {i.staff_no for i in fresh}
        return [i for i in items if i.staff_no not in done]

    def before_write(self, db, items):
        # argon2 takes tens of milliseconds per password: never inside the write transaction
        existing = {r[0].lower() for r in db.execute("SELECT username FROM users")}
        for item in items:
            if item.password_hash is None and item.staff_no.lower() not in existing:
                item.password = accounts.generate_password()
                item.password_hash = _INITIAL_HASHER.hash(item.password)

    def apply(self, db, items, report, actor_id, staged=None):
        items = self._bulk_create(db, items, report, actor_id)
        for item in items:
            person, _ = org.save_person(
                db, item.staff_no, item.name, unit_id=item.unit_id, phone=item.phone, kind=item.kind
            )
            user = accounts.find_user(db, item.staff_no)
            explicit = [r for r in item.roles if r.role != "cadre"]
            if user is None:
                # created without a password, then given the one hashed before the transaction
                made = accounts.create_user(db, item.staff_no, item.name, None, explicit, person.id, actor_id)
                password_hash = item.password_hash
                password = item.password
                if password_hash is None:  # created by someone else since the preview: hash here
                    password = accounts.generate_password()
                    password_hash = accounts.hash_password(password)
                db.execute(
                    "UPDATE users SET password_hash = ?, must_change_password = 1 WHERE id = ?",
                    [password_hash, made.id],
                )
                report.opened.append(_opened(item, password))
                report.counts["created"] += 1
                continue
            state = self._state(db, item)
            if state == "unchanged":
                report.counts["unchanged"] += 1
                continue
            accounts.set_roles(db, user.id, explicit, actor_id)
            db.execute("UPDATE users SET person_id = ? WHERE id = ?", [person.id, user.id])
            report.counts["updated"] += 1
        if report.opened:
            report.notes.append(
                f"新建账号 {len(report.opened)} 个：请下载账号清单和账号开通通知（只能下载一次），转交本人并提醒首次登录后修改密码。"
            )


# --- 联系对象 and 联系活动 (portal.assignments, portal.activities) ---------------------------


class _Cadres:
    """工号 → (person id, has a post), loaded once per file instead of once per row."""

    def __init__(self, db: Database):
        self.ids = {
            staff_no: (pid, bool(is_cadre))
            for pid, staff_no, is_cadre in db.execute(
                "SELECT p.id, p.staff_no, EXISTS (SELECT 1 FROM cadre_posts c WHERE c.person_id = p.id) FROM people p"
            )
        }

    def id(self, staff_no: str, row: int, errors: list[RowError]) -> int:
        if not staff_no:
            return 0
        hit = self.ids.get(staff_no)
        if hit is None:
            errors.append(RowError(row, "工号", f"工号“{staff_no[:30]}”不存在，请先导入干部"))
            return 0
        if not hit[1]:
            errors.append(RowError(row, "工号", f"工号“{staff_no[:30]}”没有干部职务记录"))
        return hit[0]


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
        from . import assignments

        items = []
        errors: list[RowError] = []
        cadres = _Cadres(db)
        units: dict[str, org.Unit | None] = {}
        keys = []
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
        _duplicate_keys(keys, errors, "工号、对象类型、对象编号")
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
        from . import assignments

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
_REFRESHED = ("place", "counterpart_text", "hours", "participants", "opinions", "followup")


@dataclass
class _ActivityRow:
    row: int
    key: str
    values: dict  # the activities row (activities.normalised)
    codes: list[str]


class ActivityImporter(Importer):
    """docs/formats.md 联系活动: history kept in Excel counts from day one.

    Opinions in imported rows do **not** open cases: they were raised and handled before the
    portal kept cases, and opening them now would flood the departments with overdue items.
    A row that is well-formed but does not fit the assignments (a visit after the assignment
    ended, a per-target visit without 对象编号, a target not assigned to the cadre) is history as
    it was: imported with a warning; the quota engine counts it for count-type rules only.
    """

    kind = "activities"
    label = "联系活动"
    columns = [
        Column("工号", True, "干部工号", "10010001"),
        Column("制度", True, "11 项联系师生制度之一", "听课"),
        Column("类别", True, "该制度的类别", "听课"),
        Column("日期", True, "日期", "2026-03-05"),
        Column("地点", False, "", "第一教学楼 301"),
        Column("联系对象", False, "打印在记录表上的联系对象", "2023级计算机1班"),
        Column("对象编号", False, "联系对象的编号（学院可填单位编码）或谈话对象的工号，以 ; 分隔", ""),
        Column("课时", False, "思政课授课的课时", ""),
        Column("开展情况", False, "联系工作开展情况", "随堂听课，课堂秩序良好"),
        Column("意见建议", False, "联系对象反映的意见和建议（导入时不生成办理事项）", ""),
        Column("落实情况", False, "", ""),
    ]

    def parse(self, db, sheet):
        from . import activities

        items = []
        errors: list[RowError] = []
        warnings: list[RowError] = []
        cadres = _Cadres(db)
        resolver = activities.TargetResolver(db)
        for row, v in sheet.rows:
            found: list[RowError] = []
            staff_no = check_text(v.get("工号"), "工号", row, found, required=True, max_len=30)
            system = check_text(v.get("制度"), "制度", row, found, required=True, max_len=20)
            subtype = check_text(v.get("类别"), "类别", row, found, required=True, max_len=20)
            if cell_text(v.get("日期")) == "":
                found.append(RowError(row, "日期", "必填，不能为空"))
            day = _date(v.get("日期"), "日期", row, found)
            codes = split_list(cell_text(v.get("对象编号")))
            hours_value = v.get("课时")
            hours = 0.0
            if cell_text(hours_value):
                try:
                    hours = float(
                        hours_value if isinstance(hours_value, (int, float)) else cell_text(hours_value)
                    )
                except ValueError:
                    found.append(RowError(row, "课时", f"应为数字，而不是“{cell_text(hours_value)[:20]}”"))
            cadre_id = cadres.id(staff_no, row, found)
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
            for field_name, message in activities.problems(db, data, targets=False):
                errors.append(RowError(row, _ACTIVITY_COLUMNS.get(field_name, ""), message))
            resolved, notes = resolver.resolve(data)
            warnings.extend(RowError(row, "对象编号", note) for note in notes)
            data = data.model_copy(update={"target_codes": resolved})
            key = activities.import_key(staff_no, day, system, subtype, codes, texts["开展情况"])
            values, clean_codes = activities.normalised(db, data)
            items.append(_ActivityRow(row, key, values, clean_codes))
        _duplicate_keys(
            [(i.row, (i.key,)) for i in items], errors, "工号、日期、制度、类别、对象编号、开展情况"
        )
        return items, errors, warnings

    @staticmethod
    def _existing(db: Database, items: list[_ActivityRow]) -> dict[str, tuple]:
        found: dict[str, tuple] = {}
        keys = [i.key for i in items]
        for chunk in range(0, len(keys), 500):
            part = keys[chunk : chunk + 500]
            for row in db.execute(
                f"SELECT import_key, id, {', '.join(_REFRESHED)} FROM activities "
                f"WHERE import_key IN ({','.join('?' * len(part))})",
                part,
            ):
                found[row[0]] = tuple(row[1:])
        return found

    def preview(self, db, items):
        existing = self._existing(db, items)
        counts: Counter[str] = Counter()
        for item in items:
            old = existing.get(item.key)
            if old is None:
                counts["created"] += 1
            else:
                counts[
                    "unchanged" if old[1:] == tuple(item.values[f] for f in _REFRESHED) else "updated"
                ] += 1
        return counts

    STAGE_ROWS = 1_000  # rows per staging transaction: about a tenth of a second of lock each

    def stage(self, db, items, actor_id):
        """New rows go in now, in short transactions, voided with a marker (every reader counts and
        lists only rows not voided), so the final transaction only has to make them live."""
        from . import activities

        _purge_stale_staging(db)
        existing = self._existing(db, items)
        new = [i for i in items if i.key not in existing]
        if not new:
            return None
        now = dates.stamp()
        marker = f"{STAGING_MARK}{now}:{secrets.token_hex(6)}"
        first_id = db.execute("SELECT coalesce(max(id), 0) + 1 FROM activities").fetchone()[0]
        staged = Staged(
            marker=marker, first_id=first_id, keys={i.key for i in new}, undo=lambda: _unstage(db, marker)
        )
        columns = [
            *new[0].values,
            "import_key",
            "entered_by",
            "created_at",
            "updated_at",
            "voided_at",
            "void_reason",
        ]
        insert = f"INSERT INTO activities ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        try:
            for start in range(0, len(new), self.STAGE_ROWS):
                chunk = new[start : start + self.STAGE_ROWS]
                with write(db, housekeeping=True):  # nothing visible changes yet: caches stay valid
                    db.conn.executemany(
                        insert,
                        (
                            [*i.values.values(), i.key, actor_id, now, now, marker, "导入中（尚未生效）"]
                            for i in chunk
                        ),
                    )
                    ids = _ids_by(db, "activities", "import_key", (i.key for i in chunk))
                    db.conn.executemany(
                        "INSERT INTO activity_targets (activity_id, target_code) VALUES (?, ?)",
                        ((ids[i.key], code) for i in chunk for code in i.codes),
                    )
                    activities.record_history(db, list(ids.values()), actor_id, "created", as_live=True)
        except sqlite3.IntegrityError:
            staged.undo()
            raise ValidationError(
                "这些记录正在由另一次导入写入（同一文件导入了两次？），请稍后刷新查看。"
            ) from None
        except BaseException:
            staged.undo()
            raise
        return staged

    def apply(self, db, items, report, actor_id, staged=None):
        from . import activities

        now = dates.stamp()
        created = 0
        if staged is not None:
            created = db.execute(
                "UPDATE activities SET voided_at = NULL, void_reason = NULL WHERE id >= ? AND voided_at = ?",
                [staged.first_id, staged.marker],
            ).rowcount
        staged_keys = staged.keys if staged is not None else set()
        rest = [i for i in items if i.key not in staged_keys]
        existing = self._existing(db, rest)
        late = [i for i in rest if i.key not in existing]  # new since staging began (another import)
        if late:
            raise ValidationError("同一批记录刚刚被另一次导入写入，请重新上传文件后再确认。")
        changed = [
            (existing[i.key][0], i)
            for i in rest
            if existing[i.key][1:] != tuple(i.values[f] for f in _REFRESHED)
        ]
        for activity_id, item in changed:
            db.execute(
                f"UPDATE activities SET {', '.join(f'{f} = ?' for f in _REFRESHED)}, updated_at = ? WHERE id = ?",
                [*(item.values[f] for f in _REFRESHED), now, activity_id],
            )
        activities.record_history(db, [a for a, _ in changed], actor_id, "edited")
        report.counts["created"] += created
        report.counts["updated"] += len(changed)
        report.counts["unchanged"] += len(rest) - len(changed)
        if any(i.values["opinions"] for i in items):
            report.notes.append(
                "导入记录中的意见建议不生成办理事项（历史记录）；如需办理，请在“联系活动记录”中补登。"
            )
        if report.warnings:
            report.notes.append(
                f"{len(report.warnings)} 处提示：这些记录已按原样导入，计入次数类要求，"
                "但对应不到联系对象的不计入“逐个联系对象”的要求。"
            )


STAGING_MARK = "导入中:"


def _unstage(db: Database, marker: str) -> None:
    """Take staged rows back (the import failed or was a repeat): nothing of the file stays."""
    pending = "SELECT id FROM activities WHERE voided_at = ?"
    with write(db, housekeeping=True):
        db.execute(f"DELETE FROM activity_history WHERE activity_id IN ({pending})", [marker])
        db.execute(f"DELETE FROM activity_targets WHERE activity_id IN ({pending})", [marker])
        db.execute("DELETE FROM activities WHERE voided_at = ?", [marker])


def _purge_stale_staging(db: Database) -> None:
    """Rows staged by an import whose process died before its final transaction (a day old)."""
    stale = (dates.now() - dt.timedelta(days=1)).isoformat(timespec="seconds")
    for (marker,) in db.execute(
        "SELECT DISTINCT voided_at FROM activities WHERE voided_at LIKE ? AND updated_at < ?",
        [STAGING_MARK + "%", stale],
    ).fetchall():
        _unstage(db, marker)


for _importer in (
    UnitImporter(),
    CadreImporter(),
    AccountImporter(),
    AssignmentImporter(),
    ActivityImporter(),
):
    register(_importer)
