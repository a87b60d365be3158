"""What every import shares: the two steps (``prepare`` reads and validates, ``commit`` writes in
one short transaction), the report, the preview of the rows as read, and the parsed rows parked
between the preview and 确认导入. Each kind of sheet is an ``Importer`` in a module of its own."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import pickle
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from .. import audit, submissions
from ..account_notices import NewAccount
from ..db import write
from ..errors import ImportRejected, RowError, ValidationError
from ..tabular import Sheet, read_sheet

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


def ids_by(db: Database, table: str, column: str, keys) -> dict:
    """{key: id} of the rows of ``table`` whose ``column`` is one of ``keys`` (just written in bulk)."""
    return dict(
        db.execute(
            f"SELECT {column}, id FROM {table} WHERE {column} IN (SELECT value FROM json_each(?))",
            [json_list(keys)],
        ).fetchall()
    )


def json_list(values) -> str:
    return json.dumps(list(values), ensure_ascii=False)
