"""The reminder of a rule behind pace, queued by the dispatcher's scan (``portal.notify.scan``) for the
cadres who asked for it (an opt-in topic) once 80 % of the rule's period has gone."""

from __future__ import annotations

import datetime as dt

from sqlite_utils import Database

from .. import dates, links
from ..notify.outbox import emit, message
from .engine import compute

BEHIND_SHARE = 0.8


def behind_pace(db: Database, today: dt.date) -> int:
    """Only for cadres who asked (the quota engine is not run for the whole university here)."""
    added = 0
    wanting = db.execute(
        "SELECT u.id, u.person_id FROM notify_prefs n JOIN users u ON u.id = n.user_id "
        "WHERE n.opt_in LIKE '%\"quota\"%' AND u.is_active = 1 AND u.person_id IS NOT NULL"
    ).fetchall()
    for user_id, person_id in wanting:
        for r in compute(db, person_id=person_id, since=today, on=today):
            share = ((today - r.start).days + 1) / ((r.end - r.start).days + 1)
            if r.status != "in_progress" or not r.behind or share < BEHIND_SHARE:
                continue
            added += emit(
                db,
                "quota.behind",
                [user_id],
                message(
                    f"【联系工作提醒】{r.system}进度滞后",
                    f"{r.period_label}的“{r.title}”已完成 {r.done:g}，按进度应完成 {r.expected:g}"
                    f"（共需 {r.required:g}），期间截至 {dates.format_date(r.end)}。",
                    links.Link("pages/dashboard.py"),
                ),
                key=f"quota.behind:{person_id}:{r.rule}:{r.period}",
            )
    return added
