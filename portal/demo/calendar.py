"""Demo step: the university calendar — semesters and the official holiday years.

The same seeds ``portal init`` runs (``portal.seeds``); says what is there.
"""

from __future__ import annotations

from sqlite_utils import Database

from .. import seeds
from .context import DemoContext


def build(db: Database, ctx: DemoContext) -> str:
    added = seeds.seed(db)
    semesters = db.execute("SELECT count(*) FROM semesters").fetchone()[0]
    first, last = db.execute("SELECT min(year), max(year) FROM calendar_years").fetchone()
    extra = f"（本次补充 {len(added)} 年）" if added else ""
    return f"校历：学期 {semesters} 个，法定节假日和调休 {first}–{last} 年{extra}"
