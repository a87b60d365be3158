"""The no-show rule (未到): too many no-shows in a period, and no booking for some weeks.

The rule is data in the day's template (``no_show_limit`` no-shows within a ``no_show_period`` →
no booking for ``no_show_weeks`` weeks; 0 switches it off). It is applied when a day is completed
(完成本日接待, ``day.finish_day``), to the people that day marked 未到. A restriction (``booking_bans``)
names the no-shows it counted, so a no-show counts towards one restriction only, finishing a day
again changes nothing, and a 未到 corrected later (the visitor was checked in after all) lifts a
restriction it no longer reaches. 党办/校办 lift one by hand with a reason (audited).

What never counts: a cancellation (by anyone, at any time: a cancelled booking is not a no-show),
and a place handed over from the waiting list after the confirmation deadline that its holder
never confirmed (it was booked for him or her, not by him or her).
"""

from __future__ import annotations

import datetime as dt
import json

from pydantic import BaseModel
from sqlite_utils import Database

from .. import audit, dates, periods, text
from ..accounts import User
from ..db import inserted_id, write
from ..errors import NotFound, ValidationError
from . import messages
from .access import require_manager
from .template import NO_SHOW_PERIODS, DayTemplate, load_template

AUTO_LIFT = "未到记录已更正（来访人补签到），限制随之解除"


class Ban(BaseModel):
    id: int
    user_id: int
    user_name: str = ""
    staff_no: str = ""
    starts: dt.date
    until: dt.date  # booking again from this day
    reason: str
    basis: list[int] = []
    created_at: str
    lifted_at: str | None = None
    lifted_by_name: str = ""
    lift_reason: str = ""

    def active(self, today: dt.date) -> bool:
        return self.lifted_at is None and today < self.until

    @property
    def last_day(self) -> dt.date:
        return self.until - dt.timedelta(days=1)

    def describe(self) -> str:
        """What the person reads on 预约接待: why, and until when."""
        return (
            f"因{self.reason}，{dates.format_date(self.last_day)}（含）前不能预约接待或候补，"
            f"{dates.format_date(self.until)}起恢复。如有异议，请联系党办或校办。"
        )


_SQL = (
    "SELECT b.*, COALESCE(p.name, u.display_name) AS user_name, COALESCE(p.staff_no, u.username) AS staff_no, "
    "COALESCE(l.display_name, '') AS lifted_by_name FROM booking_bans b JOIN users u ON u.id = b.user_id "
    "LEFT JOIN people p ON p.id = u.person_id LEFT JOIN users l ON l.id = b.lifted_by "
)


def _ban(row: dict) -> Ban:
    return Ban(**{**row, "basis": json.loads(row["basis"] or "[]")})


def active_ban(db: Database, user_id: int, today: dt.date | None = None) -> Ban | None:
    """The restriction in force for ``user_id`` (the one lasting longest), if any."""
    today = today or dates.today()
    rows = list(
        db.query(
            _SQL
            + "WHERE b.user_id = ? AND b.lifted_at IS NULL AND b.until > ? ORDER BY b.until DESC LIMIT 1",
            [user_id, today.isoformat()],
        )
    )
    return _ban(rows[0]) if rows else None


def refuse_if_banned(db: Database, user_id: int, today: dt.date) -> None:
    """One indexed read; raises the restriction as the reason."""
    if db.execute(
        "SELECT 1 FROM booking_bans WHERE user_id = ? AND lifted_at IS NULL AND until > ? LIMIT 1",
        [user_id, today.isoformat()],
    ).fetchone():
        found = active_ban(db, user_id, today)
        if found is not None:
            raise ValidationError(found.describe())


def _counted(db: Database, user_id: int, start: dt.date, end: dt.date) -> list[tuple[int, str]]:
    """The user's no-shows in [start, end] not yet counted by a restriction (lifted ones included:
    a no-show is judged once), oldest first; a waiting-list place never confirmed does not count."""
    counted = {
        i
        for (basis,) in db.execute("SELECT basis FROM booking_bans WHERE user_id = ?", [user_id])
        for i in json.loads(basis or "[]")
    }
    rows = db.execute(
        "SELECT b.id, b.date FROM bookings b WHERE b.user_id = ? AND b.status = 'no_show' "
        "AND b.date BETWEEN ? AND ? AND NOT (b.confirmed_at IS NULL "
        "  AND EXISTS (SELECT 1 FROM waitlist w WHERE w.booking_id = b.id)) ORDER BY b.date, b.id",
        [user_id, start.isoformat(), end.isoformat()],
    ).fetchall()
    return [(r[0], r[1]) for r in rows if r[0] not in counted]


def apply_rule(db: Database, user_ids: list[int], day: dt.date, tpl: DayTemplate | None = None) -> list[int]:
    """After ``day`` was completed: restrict each of ``user_ids`` who reached the limit. Runs inside
    the caller's transaction; returns the ids of the restrictions made."""
    tpl = tpl or load_template(db)
    if not tpl.no_show_limit or not user_ids:
        return []
    period = periods.period_containing(db, tpl.no_show_period, day)
    made = []
    with write(db):
        for user_id in dict.fromkeys(user_ids):
            found = _counted(db, user_id, period.start, min(period.end, day))
            if len(found) < tpl.no_show_limit:
                continue
            days = "、".join(dates.format_date(d, weekday=False) for _, d in found)
            reason = f"{period.label}预约后未到 {len(found)} 次（{days}）"
            until = day + dt.timedelta(weeks=tpl.no_show_weeks)
            ban_id = inserted_id(
                db.execute(
                    "INSERT INTO booking_bans (user_id, starts, until, reason, basis, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        user_id,
                        day.isoformat(),
                        until.isoformat(),
                        reason,
                        json.dumps([i for i, _ in found]),
                        dates.stamp(),
                    ],
                )
            )
            messages.booking_ban(db, ban_id)
            made.append(ban_id)
    return made


def corrected(db: Database, booking_id: int, actor: User) -> int:
    """A 未到 turned into a visit (checked in late, or received and recorded at once): a restriction
    that counted it and no longer reaches the limit is lifted — by ``actor``'s correction, and audited
    as a lift by hand is. Inside the caller's transaction; returns how many were lifted."""
    tpl = load_template(db)
    lifted = 0
    for row in db.query(
        "SELECT b.id, b.basis, b.until, COALESCE(p.staff_no, u.username) AS staff_no, "
        "COALESCE(p.name, u.display_name) AS user_name FROM booking_bans b JOIN users u ON u.id = b.user_id "
        "LEFT JOIN people p ON p.id = u.person_id WHERE b.lifted_at IS NULL AND EXISTS "
        "(SELECT 1 FROM json_each(basis) WHERE value = ?)",
        [booking_id],
    ):
        basis = json.loads(row["basis"])
        still = db.execute(
            "SELECT count(*) FROM bookings WHERE status = 'no_show' AND id IN (SELECT value FROM json_each(?))",
            [json.dumps(basis)],
        ).fetchone()[0]
        if still < max(1, tpl.no_show_limit):
            db.execute(
                "UPDATE booking_bans SET lifted_at = ?, lifted_by = ?, lift_reason = ? WHERE id = ?",
                [dates.stamp(), actor.id, AUTO_LIFT, row["id"]],
            )
            audit.record(
                db,
                actor.id,
                "reception.lift_ban",
                f"{row['staff_no']} {row['user_name']}（至 {row['until']}）：{AUTO_LIFT}",
            )
            lifted += 1
    return lifted


def lift(db: Database, actor: User, ban_id: int, reason: str) -> Ban:
    """党办/校办 lift a restriction early; the reason is required and audited."""
    require_manager(actor)
    reason = text.free_text(reason, "解除原因", 200, required=True).replace("\n", " ")
    with write(db):
        rows = list(db.query(_SQL + "WHERE b.id = ?", [ban_id]))
        if not rows:
            raise NotFound("预约限制不存在")
        ban = _ban(rows[0])
        if ban.lifted_at is not None:
            raise ValidationError("该预约限制已解除")
        if not ban.active(dates.today()):
            raise ValidationError("该预约限制已到期")
        db.execute(
            "UPDATE booking_bans SET lifted_at = ?, lifted_by = ?, lift_reason = ? WHERE id = ?",
            [dates.stamp(), actor.id, reason, ban_id],
        )
        audit.record(
            db,
            actor.id,
            "reception.lift_ban",
            f"{ban.staff_no} {ban.user_name}（至 {ban.until}）：{reason[:100]}",
        )
    return _ban(next(iter(db.query(_SQL + "WHERE b.id = ?", [ban_id]))))


def list_bans(db: Database, actor: User, *, include_past: bool = False) -> list[Ban]:
    """The restrictions, those in force first (党办/校办)."""
    require_manager(actor)
    sql = _SQL
    params: list = []
    if not include_past:
        sql += "WHERE b.lifted_at IS NULL AND b.until > ? "
        params.append(dates.today().isoformat())
    return [
        _ban(r) for r in db.query(sql + "ORDER BY b.lifted_at IS NOT NULL, b.until DESC, b.id DESC", params)
    ]


def rule_text(tpl: DayTemplate) -> str:
    if not tpl.no_show_limit:
        return "未到不限制预约。"
    return (
        f"{NO_SHOW_PERIODS[tpl.no_show_period]}内预约后未到 {tpl.no_show_limit} 次，"
        f"{tpl.no_show_weeks} 周内不能预约接待；按时取消不算未到。"
    )
