"""Reading a row's cells: each a validated value, or a ``RowError`` naming the row and the column
(every error of a file is collected, none stops the parse)."""

from __future__ import annotations

import datetime as dt

from sqlite_utils import Database

from .. import dates, org
from ..errors import RowError, ValidationError
from ..tabular import cell_text


def validated(check, value: object, column: str, row: int, errors: list[RowError], *args) -> str:
    """Run one of portal.text's validators on a cell, recording its message as a RowError."""
    try:
        return check(cell_text(value), column, *args)
    except ValidationError as exc:
        errors.append(RowError(row, column, exc.message))
        return cell_text(value)


def date_cell(value: object, column: str, row: int, errors: list[RowError]) -> dt.date | None:
    if cell_text(value) == "":
        return None
    try:
        return dates.parse_date(value, column)
    except ValidationError as exc:
        errors.append(RowError(row, column, exc.message))
        return None


def yes_no_cell(value: object, column: str, row: int, errors: list[RowError]) -> bool:
    text = cell_text(value)
    if text in ("", "否", "N", "n", "no", "0"):
        return False
    if text in ("是", "Y", "y", "yes", "1"):
        return True
    errors.append(RowError(row, column, f"应为“是”或“否”，而不是“{text[:20]}”"))
    return False


def duplicate_keys(keyed: list[tuple[int, tuple]], errors: list[RowError], what: str) -> None:
    seen: dict[tuple, int] = {}
    for row, key in keyed:
        if key in seen:
            errors.append(RowError(row, "", f"与第 {seen[key]} 行重复（{what}相同）"))
        else:
            seen[key] = row


def unit_cell(
    db: Database, ref: str, column: str, row: int, errors: list[RowError], cache: dict
) -> org.Unit | None:
    """A unit named by its 单位编码 or its name (full or the policy's)."""
    if ref not in cache:
        cache[ref] = org.unit_by_ref(db, ref)
    unit = cache[ref]
    if unit is None:
        errors.append(RowError(row, column, f"单位“{ref[:30]}”不存在（填单位名称或单位编码），请先导入单位"))
    return unit


class Cadres:
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
