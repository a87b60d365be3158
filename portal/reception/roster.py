"""The duty roster (排班): which school leader receives on which Wednesday, and its changes.

Every Wednesday that is a working day inside a semester's teaching weeks has one school
leader on duty (第十一条). ``plan`` fills the days still missing, in the template's rotation
order, always giving the next day to the eligible leader with the fewest duties so far
(as even as possible when leaders join or leave mid-semester). Swaps, substitutions,
cancellations, restorations and changes of place are each kept in ``duty_changes``;
visitors who booked a day see the changes made after they booked.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from pydantic import BaseModel
from sqlite_utils import Database

from .. import audit, dates, periods, states, text, workdays
from ..accounts import User
from ..db import write
from ..errors import NotFound, ValidationError
from . import ical, messages, waitlist
from .access import can_manage, require_manager
from .template import WEDNESDAY, load_template

ACTION_LABELS = {
    "plan": "排班",
    "swap": "对调",
    "substitute": "替班",
    "cancel": "取消",
    "restore": "恢复",
    "place": "更改地点",
}
STATUS_LABELS = states.DAY_STATUS_LABELS


class Leader(BaseModel):
    person_id: int
    staff_no: str
    name: str
    title: str


class DutyDay(BaseModel):
    date: dt.date
    leader_id: int
    leader_staff_no: str
    leader_name: str
    leader_title: str = ""
    place: str
    status: str
    note: str = ""
    activity_id: int | None = None
    booked: int = 0  # active bookings (待接待 and 已接待 and 未到)

    @property
    def cancelled(self) -> bool:
        return self.status == "cancelled"

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    def published(self) -> dict[str, str | int]:
        """The day as the API and ``portal roster --json`` give it (docs/api.md)."""
        return {
            "date": self.date.isoformat(),
            "staff_no": self.leader_staff_no,
            "name": self.leader_name,
            "title": self.leader_title,
            "place": self.place,
            "status": self.status,
            "bookings": self.booked,
        }


class DutyChange(BaseModel):
    date: dt.date
    at: str
    user_name: str
    action: str
    old_leader: str = ""
    new_leader: str = ""
    note: str = ""

    @property
    def action_label(self) -> str:
        return ACTION_LABELS.get(self.action, self.action)

    def describe(self) -> str:
        day = dates.format_date(self.date)
        if self.action in ("swap", "substitute"):
            text_ = f"{day}值班校领导由 {self.old_leader} 改为 {self.new_leader}"
        elif self.action == "cancel":
            text_ = f"{day}接待日已取消"
        elif self.action == "restore":
            text_ = f"{day}接待日已恢复"
        elif self.action == "place":
            text_ = f"{day}接待地点已更改"
        else:
            text_ = f"{day}{self.action_label}"
        return f"{text_}（{self.note}）" if self.note else text_


class PlanResult(BaseModel):
    created: list[DutyDay] = []
    kept: list[dt.date] = []  # already on the roster, left as they were
    skipped: list[tuple[dt.date, str]] = []  # Wednesdays without reception, and why
    warnings: list[str] = []


# --- the working-day calendar and the academic calendar (the policy engine's) -------------------


def is_working_day(db: Database, day: dt.date) -> bool:
    return workdays.is_working_day(db, day)


def _why_not_working(db: Database, day: dt.date) -> str:
    row = (
        db.execute(
            "SELECT note FROM calendar_overrides WHERE date = ? AND is_workday = 0", [day.isoformat()]
        ).fetchone()
        or db.execute(
            "SELECT name FROM calendar_days WHERE date = ? AND is_workday = 0", [day.isoformat()]
        ).fetchone()
    )
    return f"非工作日（{row[0]}）" if row and row[0] else "非工作日"


def calendar_warnings(db: Database, start: dt.date, end: dt.date, viewer: User | None = None) -> list[str]:
    """Say so when [start, end] touches a year whose holidays are not loaded (Mon–Fri is a guess).

    Admin-only messages go to admins only: an administrator (or the CLI, ``viewer`` None) is told
    to load the year; 党办/校办, who plan the days, are told what it means for the roster; students
    and staff are told nothing (there is nothing they could do about it).
    """
    years = workdays.unloaded_years(db, start, end)
    warning = workdays.fallback_warning(years)
    if warning is None:
        return []
    if viewer is None or viewer.has("admin"):
        return [warning]
    if can_manage(viewer):
        listed = "、".join(f"{y} 年" for y in years)
        return [
            f"{listed}的法定节假日安排尚未导入，这段时间的周三暂按工作日排班，"
            "个别接待日可能落在节假日上；导入后请核对排班。"
        ]
    return []


def semester_bounds(db: Database, key: str) -> tuple[dt.date, dt.date, str]:
    """The teaching weeks (first and last teaching day) and the name of a semester."""
    sem = periods.get_semester(db, key)
    return _date(sem.teaching_start), _date(sem.teaching_end), sem.name


def _date(value: object) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


# --- leaders ---------------------------------------------------------------------------------


def school_leaders(db: Database, day: dt.date) -> list[Leader]:
    """School leaders (a 校级 post active on ``day``) in the template's rotation order."""
    iso = day.isoformat()
    rows = db.execute(
        "SELECT p.id, p.staff_no, p.name, min(cp.title) FROM cadre_posts cp JOIN people p ON p.id = cp.person_id "
        "WHERE cp.level = '校级' AND cp.start_date <= ? AND (cp.end_date IS NULL OR cp.end_date >= ?) "
        "GROUP BY p.id ORDER BY p.staff_no",
        [iso, iso],
    ).fetchall()
    leaders = [Leader(person_id=r[0], staff_no=r[1], name=r[2], title=r[3]) for r in rows]
    rank = {staff_no: i for i, staff_no in enumerate(load_template(db).rotation)}
    return sorted(leaders, key=lambda x: (rank.get(x.staff_no, len(rank)), x.staff_no))


def _eligible(db: Database, person_id: int, day: dt.date) -> Leader:
    for leader in school_leaders(db, day):
        if leader.person_id == person_id:
            return leader
    raise ValidationError(f"{dates.format_date(day)}此人不是在任校领导，不能值班")


# --- reading ---------------------------------------------------------------------------------

_DAY_SQL = (
    "SELECT d.date, d.leader_id, p.staff_no AS leader_staff_no, p.name AS leader_name, "
    "COALESCE((SELECT min(cp.title) FROM cadre_posts cp WHERE cp.person_id = d.leader_id AND cp.level = '校级' "
    "  AND cp.start_date <= d.date AND (cp.end_date IS NULL OR cp.end_date >= d.date)), '') AS leader_title, "
    "d.place, d.status, d.note, d.activity_id, "
    "(SELECT count(*) FROM bookings b WHERE b.date = d.date AND b.status != 'cancelled') AS booked "
    "FROM duty_days d JOIN people p ON p.id = d.leader_id "
)


def list_roster(
    db: Database,
    start: dt.date,
    end: dt.date,
    *,
    leader_id: int | None = None,
    include_cancelled: bool = True,
) -> list[DutyDay]:
    sql = _DAY_SQL + "WHERE d.date BETWEEN ? AND ?"
    params: list[object] = [start.isoformat(), end.isoformat()]
    if leader_id is not None:
        sql += " AND d.leader_id = ?"
        params.append(leader_id)
    if not include_cancelled:
        sql += " AND d.status = 'scheduled'"
    return [DutyDay(**r) for r in db.query(sql + " ORDER BY d.date", params)]


def get_day(db: Database, day: dt.date) -> DutyDay | None:
    rows = list(db.query(_DAY_SQL + "WHERE d.date = ?", [day.isoformat()]))
    return DutyDay(**rows[0]) if rows else None


def require_day(db: Database, day: dt.date) -> DutyDay:
    """The duty day of ``day`` (NotFound: none is scheduled)."""
    found = get_day(db, day)
    if found is None:
        raise NotFound(f"{dates.format_date(day)}没有接待日安排")
    return found


def changes(
    db: Database, *, day: dt.date | None = None, since: str | None = None, limit: int = 200
) -> list[DutyChange]:
    """The roster's history, newest first (or, with ``day``, that day's, oldest first)."""
    sql = (
        "SELECT c.date, c.at, COALESCE(u.display_name, '系统') AS user_name, c.action, "
        "COALESCE(o.name, '') AS old_leader, COALESCE(n.name, '') AS new_leader, c.note "
        "FROM duty_changes c LEFT JOIN users u ON u.id = c.user_id "
        "LEFT JOIN people o ON o.id = c.old_leader_id LEFT JOIN people n ON n.id = c.new_leader_id WHERE 1 = 1"
    )
    params: list = []
    if day is not None:
        sql += " AND c.date = ?"
        params.append(day.isoformat())
    if since is not None:
        sql += " AND c.at > ?"
        params.append(since)
    sql += " ORDER BY c.id" if day is not None else " ORDER BY c.id DESC"
    return [DutyChange(**r) for r in db.query(sql + f" LIMIT {int(limit)}", params)]


# --- planning --------------------------------------------------------------------------------


def wednesdays(start: dt.date, end: dt.date) -> list[dt.date]:
    first = start + dt.timedelta(days=(WEDNESDAY - start.weekday()) % 7)
    return [first + dt.timedelta(weeks=k) for k in range((end - first).days // 7 + 1)] if first <= end else []


def _log(
    db: Database,
    day: dt.date,
    actor_id: int | None,
    action: str,
    old: int | None,
    new: int | None,
    note: str = "",
) -> None:
    db.execute(
        "INSERT INTO duty_changes (date, at, user_id, action, old_leader_id, new_leader_id, note) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [day.isoformat(), dates.stamp(), actor_id, action, old, new, note],
    )
    messages.duty_change(db, day, action, old, new)


def plan(
    db: Database, start: dt.date, end: dt.date, actor: User | None, place: str | None = None
) -> PlanResult:
    """Put a school leader on every working Wednesday from ``start`` to ``end`` not yet on the roster.

    Days already on the roster are kept as they are (they may carry bookings). ``actor`` None:
    the system itself (demo, scripts); otherwise 党办/校办 or an administrator.
    """
    if actor is not None:
        require_manager(actor)
    if end < start:
        raise ValidationError("结束日期早于开始日期")
    if (end - start).days > 400:
        raise ValidationError("一次最多安排一年的接待日")
    tpl = load_template(db)
    place = text.name(place or tpl.place, "接待地点", 100)
    result = PlanResult(warnings=calendar_warnings(db, start, end, actor))
    actor_id = actor.id if actor else None
    with write(db):
        existing = {
            dt.date.fromisoformat(r[0]): (r[1], r[2])
            for r in db.execute(
                "SELECT date, leader_id, status FROM duty_days WHERE date BETWEEN ? AND ?",
                [start.isoformat(), end.isoformat()],
            )
        }
        counts = Counter(leader for leader, status in existing.values() if status == "scheduled")
        last: int | None = None
        for day in wednesdays(start, end):
            if day in existing:
                result.kept.append(day)
                last = existing[day][0]
                continue
            if not is_working_day(db, day):
                result.skipped.append((day, _why_not_working(db, day)))
                continue
            leaders = school_leaders(db, day)
            if not leaders:
                result.skipped.append((day, "当天没有在任校领导"))
                continue
            order = [x.person_id for x in leaders]
            after = order.index(last) if last in order else -1
            pick = min(order, key=lambda pid: (counts[pid], (order.index(pid) - after - 1) % len(order)))
            db.execute(
                "INSERT INTO duty_days (date, leader_id, place, status) VALUES (?, ?, ?, 'scheduled')",
                [day.isoformat(), pick, place],
            )
            _log(db, day, actor_id, "plan", None, pick)
            counts[pick] += 1
            last = pick
            result.created.append(require_day(db, day))
        if actor is not None:
            audit.record(
                db,
                actor_id,
                "reception.plan",
                f"{start}–{end}: {len(result.created)} 天，跳过 {len(result.skipped)} 天",
            )
    return result


def plan_semester(db: Database, key: str, actor: User | None, place: str | None = None) -> PlanResult:
    start, end, _ = semester_bounds(db, key)
    return plan(db, start, end, actor, place)


# --- changes ---------------------------------------------------------------------------------


def _changeable(db: Database, day: dt.date, what: str) -> DutyDay:
    found = require_day(db, day)
    if day < dates.today():
        raise ValidationError(f"{dates.format_date(day)}已经过去，不能{what}")
    return found


def _note(note: str, required: bool = False) -> str:
    return text.free_text(note, "说明", 200, required=required).replace("\n", " ")


def swap(db: Database, first: dt.date, second: dt.date, actor: User, note: str = "") -> None:
    """Exchange the leaders of two days (both still to come)."""
    require_manager(actor)
    note = _note(note)
    if first == second:
        raise ValidationError("请选择两个不同的接待日")
    with write(db):  # decided on the roster as it is now: another change may have landed meanwhile
        a, b = _changeable(db, first, "对调"), _changeable(db, second, "对调")
        if a.cancelled or b.cancelled:
            raise ValidationError("已取消的接待日不能对调")
        if a.leader_id == b.leader_id:
            raise ValidationError("两天的值班校领导是同一人，无需对调")
        _eligible(db, b.leader_id, first)
        _eligible(db, a.leader_id, second)
        db.execute("UPDATE duty_days SET leader_id = ? WHERE date = ?", [b.leader_id, first.isoformat()])
        db.execute("UPDATE duty_days SET leader_id = ? WHERE date = ?", [a.leader_id, second.isoformat()])
        joined = f"与{dates.format_date(second, weekday=False)}对调" + (f"，{note}" if note else "")
        _log(db, first, actor.id, "swap", a.leader_id, b.leader_id, joined)
        joined = f"与{dates.format_date(first, weekday=False)}对调" + (f"，{note}" if note else "")
        _log(db, second, actor.id, "swap", b.leader_id, a.leader_id, joined)
        audit.record(db, actor.id, "reception.swap", f"{first} ⇄ {second}")


def substitute(db: Database, day: dt.date, leader_id: int, actor: User, note: str = "") -> None:
    """Another school leader takes the day (替班)."""
    require_manager(actor)
    note = _note(note)
    with write(db):  # decided on the roster and bookings as they are now (see swap)
        current = _changeable(db, day, "替班")
        if current.cancelled:
            raise ValidationError("已取消的接待日不能替班，请先恢复")
        if current.leader_id == leader_id:
            raise ValidationError("替班的校领导与原值班校领导相同")
        _eligible(db, leader_id, day)
        if db.execute(
            "SELECT 1 FROM bookings b JOIN users u ON u.id = b.user_id WHERE b.date = ? AND u.person_id = ? "
            "AND b.status != 'cancelled'",
            [day.isoformat(), leader_id],
        ).fetchone():
            raise ValidationError("该校领导当天本人有预约来访，不能替班")
        db.execute("UPDATE duty_days SET leader_id = ? WHERE date = ?", [leader_id, day.isoformat()])
        _log(db, day, actor.id, "substitute", current.leader_id, leader_id, note)
        audit.record(db, actor.id, "reception.substitute", f"{day}: {current.leader_id} → {leader_id}")


def cancel_day(db: Database, day: dt.date, actor: User, reason: str) -> int:
    """Cancel a day still to come; its bookings are cancelled and their holders see why; its
    waiting list ends and the people on it are told.

    Returns how many bookings were cancelled.
    """
    require_manager(actor)
    reason = _note(reason, required=True)
    with write(db):  # decided on the day as it is now (see swap): cancelled once, its people told once
        current = _changeable(db, day, "取消")
        if current.cancelled:
            raise ValidationError("该接待日已经取消")
        db.execute(
            "UPDATE duty_days SET status = 'cancelled', note = ? WHERE date = ?", [reason, day.isoformat()]
        )
        _log(db, day, actor.id, "cancel", current.leader_id, None, reason)  # first: it tells who had booked
        cur = db.execute(
            "UPDATE bookings SET status = 'cancelled', cancelled_at = ?, cancel_reason = ?, cancelled_by = ? "
            "WHERE date = ? AND status = 'booked'",
            [dates.stamp(), f"接待日已取消（{reason}）", actor.id, day.isoformat()],
        )
        waitlist.close(db, day, "day_cancelled", f"接待日已取消（{reason}）")
        audit.record(db, actor.id, "reception.cancel_day", f"{day}: {reason[:100]}")
    return cur.rowcount


def restore_day(db: Database, day: dt.date, actor: User, note: str = "") -> None:
    """Undo a cancellation (bookings cancelled with the day stay cancelled: people book again)."""
    require_manager(actor)
    note = _note(note)
    with write(db):  # decided on the day as it is now (see swap)
        current = _changeable(db, day, "恢复")
        if not current.cancelled:
            raise ValidationError("该接待日没有取消")
        if not is_working_day(db, day):
            raise ValidationError(f"{dates.format_date(day)}不是工作日，不能恢复接待")
        _eligible(db, current.leader_id, day)
        db.execute("UPDATE duty_days SET status = 'scheduled', note = '' WHERE date = ?", [day.isoformat()])
        _log(db, day, actor.id, "restore", None, current.leader_id, note)
        audit.record(db, actor.id, "reception.restore_day", str(day))


def change_place(db: Database, day: dt.date, place: str, actor: User) -> None:
    require_manager(actor)
    place = text.name(place, "接待地点", 100)
    with write(db):  # the place it had, as it is now, goes into the history (see swap)
        current = _changeable(db, day, "更改地点")
        if current.place == place:
            return
        db.execute("UPDATE duty_days SET place = ? WHERE date = ?", [place, day.isoformat()])
        _log(db, day, actor.id, "place", None, None, f"{current.place} → {place}")
        audit.record(db, actor.id, "reception.place", f"{day}: {current.place} → {place}"[:300])


# --- calendars -------------------------------------------------------------------------------


def leader_ics(
    db: Database, leader_id: int, start: dt.date | None = None, end: dt.date | None = None
) -> bytes:
    """A school leader's duty days as an iCalendar file (cancelled days marked cancelled)."""
    tpl = load_template(db)
    start = start or dates.today() - dt.timedelta(days=180)
    end = end or dates.today() + dt.timedelta(days=366)
    days = list_roster(db, start, end, leader_id=leader_id)
    name = db.execute("SELECT name FROM people WHERE id = ?", [leader_id]).fetchone()
    events = []
    for d in days:
        begin, finish = tpl.day_bounds(d.date)
        events.append(
            ical.Event(
                uid=ical.uid(db, "duty", f"{d.date.isoformat()}-{leader_id}"),
                start=begin,
                end=finish,
                summary=f"接待日值班（{d.booked} 个预约）" if not d.cancelled else "接待日（已取消）",
                location=d.place,
                description=d.note,
                cancelled=d.cancelled,
            )
        )
    return ical.calendar(events, f"{name[0] if name else ''}的接待日值班", dates.now())


def next_duty_day(db: Database, on_or_after: dt.date | None = None) -> DutyDay | None:
    day = on_or_after or dates.today()
    rows = list(
        db.query(
            _DAY_SQL + "WHERE d.date >= ? AND d.status = 'scheduled' ORDER BY d.date LIMIT 1",
            [day.isoformat()],
        )
    )
    return DutyDay(**rows[0]) if rows else None
