"""The reception day itself (接待当日): the day's list, check-in, no-shows, and the record.

For 党办/校办 staff (any day) and the school leader on duty (his or her own days). Each
reception is recorded as answered on the spot (第十二条: 能答复的当面予以答复) or handed to
党办/校办, which opens a case due in 5 working days. The same entries make the duty
leader's one 接待日 activity of the day — visitors listed, 联系工作开展情况 summarised, the
handed-over issues as its opinions — and so its record form. The activities service opens the
case of a hand-over as it opens every opinion's (``case_opening.open_for_activity``); the reception
tells it who raised the item (``case_opening.Raiser``: the visitor, the booking, 党办 or 校办).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel
from sqlite_utils import Database

from .. import activities, activity_recording, case_opening, dates, text
from ..accounts import User
from ..db import write
from ..errors import NotFound, PermissionDenied, ValidationError
from . import bans, roster
from .access import SUBTYPE, SYSTEM, can_manage, managing_departments, may_call
from .bookings import Booking, _load, day_bookings
from .template import load_template

ANSWER_LIMIT = 2000


class ReceptionRecord(BaseModel):
    outcome: Literal["answered", "handed"]
    answer: str = ""  # answered: the answer given; handed: what the visitor was told on the spot
    issue: str = ""  # handed: the problem handed over (default: the booking's subject and description)
    department: str = "党办"  # handed: 党办 or 校办 (第十二条)


# --- who runs which day ----------------------------------------------------------------------


def can_run_day(db: Database, user: User, day: dt.date) -> bool:
    if can_manage(user):
        return True
    found = roster.get_day(db, day)
    return found is not None and user.person_id is not None and found.leader_id == user.person_id


def _require_day(db: Database, user: User, day: dt.date) -> roster.DutyDay:
    if not can_run_day(db, user, day):
        raise PermissionDenied("只有党办、校办工作人员和当天值班的校领导可以查看和办理当天的接待")
    found = roster.get_day(db, day)
    if found is None:
        raise NotFound(f"{dates.format_date(day)}没有接待日安排")
    return found


def days_for(db: Database, user: User, *, back: int = 120, ahead: int = 28) -> list[roster.DutyDay]:
    """The duty days a user may run, around today: all for 党办/校办, his own for a leader."""
    today = dates.today()
    start, end = today - dt.timedelta(days=back), today + dt.timedelta(days=ahead)
    if can_manage(user):
        return roster.list_roster(db, start, end)
    if user.person_id is None:
        return []
    return roster.list_roster(db, start, end, leader_id=user.person_id)


def day_list(db: Database, user: User, day: dt.date) -> list[Booking]:
    _require_day(db, user, day)
    return day_bookings(db, day)


def numbers_to_call(db: Database, user: User, day: dt.date) -> dict[int, str]:
    """The visitors' full telephone numbers of ``day`` (booking id → number) for the reception staff of
    that day (``access.may_call``), else none: every list shows them masked."""
    found = _require_day(db, user, day)
    if not may_call(user, day, found.leader_id, dates.today()):
        return {}
    return dict(
        db.execute(
            "SELECT id, phone FROM bookings WHERE date = ? AND status != 'cancelled'", [day.isoformat()]
        ).fetchall()
    )


# --- the day's actions -----------------------------------------------------------------------


def _on_the_day(db: Database, user: User, booking_id: int, what: str) -> Booking:
    booking = _load(db, booking_id)
    _require_day(db, user, booking.date)
    if booking.day_status == "cancelled":
        raise ValidationError("该接待日已取消")
    if booking.date > dates.today():
        raise ValidationError(f"接待日（{dates.format_date(booking.date)}）还没到，不能{what}")
    return booking


def check_in(db: Database, user: User, booking_id: int) -> Booking:
    """The visitor has arrived (a no-show who turns up late is checked in too)."""
    with write(db):  # read and checked under the write lock: a cancellation meanwhile is seen
        booking = _on_the_day(db, user, booking_id, "签到")
        if booking.status not in ("booked", "no_show") or (
            booking.status == "booked" and booking.checked_in_at
        ):
            raise ValidationError(f"该预约{booking.status_label}，不能签到")
        db.execute(
            "UPDATE bookings SET status = 'booked', checked_in_at = ? WHERE id = ?",
            [dates.stamp(), booking_id],
        )
        if booking.status == "no_show":  # a 未到 corrected: a restriction it made may end
            bans.corrected(db, booking_id, user)
    return _load(db, booking_id)


def find_for_checkin(db: Database, user: User, code: str) -> tuple[Booking, bool]:
    """The booking a check-in link (its QR code) or a typed code names, and whether ``user`` may check
    it in: 党办/校办 and the leader on duty may; its holder only sees it; to anyone else it does not exist."""
    typed = text.free_text(code, "预约编号", 20, multiline=False).upper()
    row = db.execute("SELECT id FROM bookings WHERE code = ?", [typed]).fetchone()
    if row is None:
        raise NotFound(f"预约编号 {typed} 不存在，请核对")
    booking = _load(db, row[0])
    if can_run_day(db, user, booking.date):
        return booking, True
    if booking.user_id == user.id:
        return booking, False
    raise NotFound(f"预约编号 {typed} 不存在，请核对")


def checkin_problem(booking: Booking, today: dt.date | None = None) -> str:
    """Why this booking cannot be checked in now ('' when it can), said to the staff member who scanned it."""
    today = today or dates.today()
    who = f"{booking.visitor_name}（{booking.code}）"
    if booking.date != today:
        return (
            f"{who}预约的是{dates.format_date(booking.date)}的接待日，不是今天"
            f"（{dates.format_date(today)}），不能签到"
        )
    if booking.day_status == "cancelled":
        return "今天的接待日已取消"
    if booking.status == "cancelled":
        return f"{who}的预约已取消，不能签到" + (f"（{booking.cancel_note}）" if booking.cancel_note else "")
    if booking.status == "received":
        return f"{who}已接待完毕"
    if booking.checked_in_at:
        return f"{who}已于 {booking.checked_in_at[11:16]} 签到，无需重复签到"
    return ""


def check_in_code(db: Database, user: User, code: str) -> Booking:
    """Check in by the booking's code (the QR link or typed): today's bookings only, once."""
    booking, may = find_for_checkin(db, user, code)
    if not may:
        raise PermissionDenied("只有党办、校办工作人员和当天值班的校领导可以办理签到")
    problem = checkin_problem(booking)
    if problem:
        raise ValidationError(problem)
    return check_in(db, user, booking.id)


def slot_ended(db: Database, booking: Booking, now: dt.datetime | None = None) -> bool:
    """Whether the booking's slot is over: only then may its visitor be counted 未到."""
    return load_template(db).slot_bounds(booking.date, booking.slot)[1] <= (now or dates.now())


def mark_no_show(db: Database, user: User, booking_id: int, *, now: dt.datetime | None = None) -> Booking:
    with write(db):  # read and checked under the write lock: a cancellation meanwhile is seen
        booking = _on_the_day(db, user, booking_id, "标记未到")
        if booking.status != "booked" or booking.checked_in_at:
            raise ValidationError(f"该预约{booking.status_label}，不能标记为未到")
        if not slot_ended(db, booking, now):
            raise ValidationError(
                f"该预约的时段（{booking.slot_label}）尚未结束，不能标记为未到；来访人不来时可取消该预约"
            )
        db.execute("UPDATE bookings SET status = 'no_show' WHERE id = ?", [booking_id])
    return _load(db, booking_id)


def default_issue(booking: Booking) -> str:
    return f"{booking.subject}：{booking.description}" if booking.description else booking.subject


def record_reception(db: Database, user: User, booking_id: int, record: ReceptionRecord) -> Booking:
    """Record one reception; a hand-over opens a case; the day's activity follows in the same transaction."""
    with write(db):  # read and checked under the write lock: a cancellation meanwhile is seen
        booking = _on_the_day(db, user, booking_id, "记录接待情况")
        if booking.status == "received":
            raise ValidationError("该来访已记录接待情况")
        if booking.status not in ("booked", "no_show"):
            raise ValidationError(f"该预约{booking.status_label}，不能记录接待情况")
        answer = text.free_text(
            record.answer, "答复内容" if record.outcome == "answered" else "现场说明", ANSWER_LIMIT
        )
        if record.outcome == "answered" and not answer:
            raise ValidationError("请填写当面答复的内容")
        issue = ""
        if record.outcome == "handed":
            if record.department not in managing_departments():
                raise ValidationError(f"转交办理的部门应为{'或'.join(managing_departments())}")
            issue = text.free_text(
                record.issue or default_issue(booking), "转办事项", activities.LIMITS["opinion"] - 60
            )
            if not issue:
                raise ValidationError("请填写转交办理的事项")
        stamp = dates.stamp()
        db.execute(
            "UPDATE bookings SET status = 'received', checked_in_at = COALESCE(checked_in_at, ?), outcome = ?, "
            "answer = ? WHERE id = ?",
            [stamp, record.outcome, answer, booking_id],
        )
        if booking.status == "no_show":  # came late and was received at once: the 未到 is corrected
            bans.corrected(db, booking_id, user)
        handed = None
        if record.outcome == "handed":
            handed = (booking_id, record.department, _opinion_item(booking, issue))
        sync_activity(db, user, booking.date, handed=handed)
    return _load(db, booking_id)


class FinishPlan(BaseModel):
    """What 完成本日接待 will do, shown to the user before it is done."""

    absent: list[Booking] = []  # slot over, never checked in: become 未到
    later: list[Booking] = []  # slot not over yet: stay 待接待, still receivable
    unrecorded: list[Booking] = []  # checked in but not recorded: the day cannot be closed yet
    has_record: bool = False  # the day's 接待日 activity exists already (it is updated)
    rule: str = ""  # the no-show rule, applied to the day's 未到

    def describe(self) -> list[str]:
        lines = []
        if self.absent:
            lines.append(
                f"时段已结束、未签到的 {len(self.absent)} 个预约标记为“未到”："
                + "、".join(f"{b.slot_label} {b.visitor_name}" for b in self.absent)
            )
        else:
            lines.append("没有需要标记为“未到”的预约。")
        if self.later:
            lines.append(
                f"时段尚未结束的 {len(self.later)} 个预约保持不变，仍可签到和接待："
                + "、".join(f"{b.slot_label} {b.visitor_name}" for b in self.later)
            )
        if self.rule:
            lines.append(f"按未到规则（{self.rule.rstrip('。')}）计算当天未到者的预约限制，本人会收到通知。")
        lines.append(
            ("更新" if self.has_record else "生成")
            + "值班校领导当天的“接待日”联系活动记录（来访师生、开展情况、转交的意见建议），可下载记录表。"
        )
        return lines


def finish_plan(db: Database, user: User, day: dt.date, now: dt.datetime | None = None) -> FinishPlan:
    found = _require_day(db, user, day)
    now = now or dates.now()
    waiting = [b for b in day_bookings(db, day) if b.status == "booked"]
    return FinishPlan(
        absent=[b for b in waiting if not b.checked_in_at and slot_ended(db, b, now)],
        later=[b for b in waiting if not b.checked_in_at and not slot_ended(db, b, now)],
        unrecorded=[b for b in waiting if b.checked_in_at],
        has_record=found.activity_id is not None,
        rule=bans.rule_text(load_template(db)) if load_template(db).no_show_limit else "",
    )


def finish_day(db: Database, user: User, day: dt.date, *, now: dt.datetime | None = None) -> int:
    """Close the day so far: bookings whose slot is over and that were never checked in become 未到;
    later slots stay 待接待 (the day may be finished again in the afternoon); the day's activity is
    written (also for a day without visitors). Returns the activity's id."""
    found = _require_day(db, user, day)
    now = now or dates.now()
    if found.cancelled:
        raise ValidationError("该接待日已取消")
    if day > now.date():
        raise ValidationError("接待日还没到")
    plan = finish_plan(db, user, day, now)
    if plan.unrecorded:
        raise ValidationError(
            f"还有 {len(plan.unrecorded)} 位已签到的来访人未记录接待情况："
            + "、".join(b.visitor_name for b in plan.unrecorded)
        )
    with write(db):
        for b in plan.absent:
            db.execute(
                "UPDATE bookings SET status = 'no_show' WHERE id = ? AND status = 'booked' AND checked_in_at IS NULL",
                [b.id],
            )
        # the no-show rule, for everyone marked 未到 that day (marked now or earlier by hand)
        absent = [
            r[0]
            for r in db.execute(
                "SELECT user_id FROM bookings WHERE date = ? AND status = 'no_show'", [day.isoformat()]
            )
        ]
        bans.apply_rule(db, absent, day)
        return sync_activity(db, user, day)


# --- the duty leader's 接待日 activity -------------------------------------------------------


def _opinion_item(booking: Booking, issue: str) -> str:
    """One opinion of the activity = the content of its case: who raised it and what."""
    who = (
        f"{booking.visitor_name}（{booking.visitor_unit}）" if booking.visitor_unit else booking.visitor_name
    )
    return f"{who}反映：{issue}"


def _clip(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def activity_fields(db: Database, day: dt.date) -> dict:
    """The activity's fields from the day's recorded receptions (ActivityInput's names)."""
    found = roster.require_day(db, day)
    received = [b for b in day_bookings(db, day) if b.status == "received"]
    handed_items = [
        r[0]
        for r in db.execute(
            "SELECT c.content FROM cases c JOIN bookings b ON b.id = c.booking_id WHERE b.date = ? ORDER BY c.id",
            [day.isoformat()],
        )
    ]
    people = sum(b.group_size for b in received)
    visitors = "、".join(
        f"{b.visitor_name}（{b.visitor_unit}）" if b.visitor_unit else b.visitor_name for b in received
    )
    lines = [f"接待来访师生 {len(received)} 批 {people} 人。"] if received else ["本接待日无师生来访。"]
    for n, b in enumerate(received, start=1):
        how = (
            f"当面答复：{b.answer}"
            if b.outcome == "answered"
            else "不能当即答复，已说明情况，转党办/校办协调办理" + (f"（{b.answer}）" if b.answer else "")
        )
        lines.append(f"{n}. {b.slot} {b.visitor_name}反映［{b.category}］{b.subject}。{how}")
    answered = sum(b.outcome == "answered" for b in received)
    followup = ""
    if received:
        followup = f"当面答复 {answered} 项"
        if len(received) - answered:
            followup += f"；转交办理 {len(received) - answered} 项，党办、校办在 5 个工作日内向值班校领导和来访人反馈落实情况"
        followup += "。"
    return {
        "cadre_id": found.leader_id,
        "system": SYSTEM,
        "subtype": SUBTYPE,
        "date": day,
        "place": found.place,
        "counterpart_text": _clip(
            f"来访师生：{visitors}" if visitors else "无来访师生", activities.LIMITS["counterpart_text"]
        ),
        "content": _clip("\n".join(lines), activities.LIMITS["content"]),
        "opinions": handed_items,
        "followup": followup,
        "source": "reception",
    }


def _raisers(
    db: Database, day: dt.date, handed: tuple[int, str, str] | None
) -> dict[str, case_opening.Raiser]:
    """Who raised each handed-over item of the day: the bookings whose cases are open already
    (a fresh activity after a void must not open them again), and ``handed``."""
    raisers = {
        content: case_opening.Raiser(booking_id=booking_id)
        for content, booking_id in db.execute(
            "SELECT c.content, c.booking_id FROM cases c JOIN bookings b ON b.id = c.booking_id WHERE b.date = ?",
            [day.isoformat()],
        )
    }
    if handed is not None:
        booking = _load(db, handed[0])
        raisers[handed[2]] = case_opening.Raiser(
            booking_id=booking.id, user_id=booking.user_id, name=booking.visitor_name, department=handed[1]
        )
    return raisers


def sync_activity(db: Database, user: User, day: dt.date, handed: tuple[int, str, str] | None = None) -> int:
    """Write the day's 接待日 activity from its receptions; ``handed`` (booking id, department,
    opinion item) is a new hand-over: its item joins the activity's opinions and so opens its
    case, raised by the visitor. Returns the activity's id."""
    found = roster.require_day(db, day)
    with write(db):
        fields = activity_fields(db, day)
        raisers = _raisers(db, day, handed)
        if handed is not None:
            fields["opinions"] = [*fields["opinions"], handed[2]]
        current = None
        if found.activity_id is not None:
            current = activities.get_activity(db, found.activity_id, user)
            if current.voided:  # voided on the activities page: the day gets a fresh record, and the
                # visitors' cases (already open) move to it rather than staying on the void one
                current = None
        if current is None:
            made = activity_recording.log_activity(
                db, activities.ActivityInput(**fields), user, raisers=raisers
            )
            activity_id = made.id
            db.execute("UPDATE duty_days SET activity_id = ? WHERE date = ?", [activity_id, day.isoformat()])
        else:
            activity_id = current.id
            changes = {k: v for k, v in fields.items() if k not in ("cadre_id", "source")}
            activity_recording.update_activity(db, activity_id, changes, user, raisers=raisers)
    return activity_id
