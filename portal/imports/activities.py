"""联系活动 (docs/formats.md): history kept in Excel. A big file's new rows are staged ahead of the final
transaction, in short ones, invisible until it makes them live."""

from __future__ import annotations

import datetime as dt
import secrets
import sqlite3
from collections import Counter
from dataclasses import dataclass

from sqlite_utils import Database

from .. import activities, activity_recording, activity_validation, dates
from ..db import write
from ..errors import RowError, ValidationError
from ..tabular import cell_text, check_text, split_list
from .cells import Cadres, date_cell, duplicate_keys
from .staging import Column, Importer, Staged, ids_by

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
    values: dict  # the activities row (activity_validation.normalised)
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
        items = []
        errors: list[RowError] = []
        warnings: list[RowError] = []
        cadres = Cadres(db)
        resolver = activity_validation.TargetResolver(db)
        for row, v in sheet.rows:
            found: list[RowError] = []
            staff_no = check_text(v.get("工号"), "工号", row, found, required=True, max_len=30)
            system = check_text(v.get("制度"), "制度", row, found, required=True, max_len=20)
            subtype = check_text(v.get("类别"), "类别", row, found, required=True, max_len=20)
            if cell_text(v.get("日期")) == "":
                found.append(RowError(row, "日期", "必填，不能为空"))
            day = date_cell(v.get("日期"), "日期", row, found)
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
            for field_name, message in activity_validation.problems(db, data, targets=False):
                errors.append(RowError(row, _ACTIVITY_COLUMNS.get(field_name, ""), message))
            resolved, notes = resolver.resolve(data)
            warnings.extend(RowError(row, "对象编号", note) for note in notes)
            data = data.model_copy(update={"target_codes": resolved})
            key = activities.import_key(staff_no, day, system, subtype, codes, texts["开展情况"])
            values, clean_codes = activity_validation.normalised(db, data)
            items.append(_ActivityRow(row, key, values, clean_codes))
        duplicate_keys(
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
                    ids = ids_by(db, "activities", "import_key", (i.key for i in chunk))
                    db.conn.executemany(
                        "INSERT INTO activity_targets (activity_id, target_code) VALUES (?, ?)",
                        ((ids[i.key], code) for i in chunk for code in i.codes),
                    )
                    activity_recording.record_history(
                        db, list(ids.values()), actor_id, "created", as_live=True
                    )
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
        activity_recording.record_history(db, [a for a, _ in changed], actor_id, "edited")
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
