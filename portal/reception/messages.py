"""What the reception day's changes say, and to whom: written to the outbox inside the transaction
of the change (``portal.notify.outbox``), so a message exists exactly when the change does.

* ``booking(db, id, "confirmed" | "cancelled" | "lapsed")`` — the person who booked;
* ``waitlist_promoted`` / ``waitlist_ended`` — a place handed on from the waiting list, or a waiting
  entry ended without one;
* ``booking_ban`` — the no-show rule applied: why and until when;
* ``duty_change(db, day, action, old_leader, new_leader)`` — after a row of ``duty_changes``: the
  leaders concerned (roster published or changed) and, when a day is cancelled or its leader or
  place changes, everyone holding a booking that day.

Messages never carry what someone raised (the booking's subject): they leave the portal. They carry
the booking's code and a link, which opens the rest after login. The rows are read with SQL: the
modules that call these import this one.
"""

from __future__ import annotations

import datetime as dt

from sqlite_utils import Database

from .. import dates, links
from ..notify.outbox import emit, message, person_users
from .template import load_template


def _urgent(day: dt.date) -> bool:
    """A change to a reception day that is today or tomorrow may not wait for the morning."""
    return day <= dates.today() + dt.timedelta(days=1)


def _slot(db: Database, slot: str) -> str:
    return load_template(db).slot_label(slot)


def _booking_row(db: Database, booking_id: int) -> dict | None:
    rows = list(
        db.query(
            "SELECT b.id, b.code, b.date, b.slot, b.user_id, b.status, d.place, p.name AS leader FROM bookings b "
            "JOIN duty_days d ON d.date = b.date JOIN people p ON p.id = d.leader_id WHERE b.id = ?",
            [booking_id],
        )
    )
    return rows[0] if rows else None


def booking(db: Database, booking_id: int, what: str) -> None:
    b = _booking_row(db, booking_id)
    if b is None:
        return
    day = dt.date.fromisoformat(b["date"])
    when = f"{dates.format_date(day)} {_slot(db, b['slot'])}"
    if what == "confirmed":
        msg = message(
            f"【接待日预约】预约成功（{b['code']}）",
            f"您已预约 {when} 的校领导接待日，值班校领导：{b['leader']}，地点：{b['place']}。"
            f"预约编号 {b['code']}，请提前 10 分钟到达，出示签到二维码或报预约编号签到。",
            links.booking(b["code"]),
            qr=links.checkin(b["code"]),
        )
        emit(db, "booking.confirmed", [b["user_id"]], msg, key=f"booking.confirmed:{booking_id}")
    elif what in ("lapsed", "cancelled"):
        # both end the booking: the same event (the person's 预约取消 setting), each its own words
        title, body = (
            (
                "候补名额已失效",
                f"您候补递补的 {when} 接待日名额（预约编号 {b['code']}）未在确认期限前确认，已让给下一位候补。",
            )
            if what == "lapsed"
            else ("预约已取消", f"您 {when} 的接待日预约（预约编号 {b['code']}）已取消。")
        )
        msg = message(f"【接待日预约】{title}（{b['code']}）", body, links.booking(b["code"]))
        emit(
            db,
            "booking.cancelled",
            [b["user_id"]],
            msg,
            key=f"booking.{what}:{booking_id}",
            urgent=_urgent(day),
        )


def waitlist_promoted(db: Database, booking_id: int, *, offer: bool) -> None:
    """A place of the waiting list given to its next person: told at once (urgent when the day is near)."""
    b = _booking_row(db, booking_id)
    if b is None:
        return
    day = dt.date.fromisoformat(b["date"])
    when = f"{dates.format_date(day)} {_slot(db, b['slot'])}"
    row = db.execute("SELECT confirm_by FROM bookings WHERE id = ?", [booking_id]).fetchone()
    if offer and row and row[0]:
        deadline = dt.datetime.fromisoformat(row[0])
        ask = (
            f"请于 {dates.format_date(deadline.date())} {deadline:%H:%M} 前登录确认前往，"
            "逾期未确认名额将让给下一位候补。"
        )
    else:
        ask = "名额已为您预约；如不能前来，请在预约截止前取消，以便让给他人。"
    emit(
        db,
        "waitlist.promoted",
        [b["user_id"]],
        message(
            f"【接待日预约】候补成功（{b['code']}）",
            f"有人取消了预约，您已递补 {when} 的校领导接待日，值班校领导：{b['leader']}，地点：{b['place']}。"
            f"预约编号 {b['code']}。{ask}",
            links.booking(b["code"]),
        ),
        key=f"waitlist.promoted:{booking_id}",
        urgent=True,  # a place held for a few hours: quiet hours must not eat them
    )


def waitlist_ended(db: Database, entry_id: int) -> None:
    """A waiting entry ended without a place (booking closed, the day cancelled)."""
    rows = list(db.query("SELECT id, date, user_id, end_reason FROM waitlist WHERE id = ?", [entry_id]))
    if not rows:
        return
    w = rows[0]
    day = dt.date.fromisoformat(w["date"])
    emit(
        db,
        "waitlist.ended",
        [w["user_id"]],
        message(
            "【接待日预约】候补结束",
            f"您在 {dates.format_date(day)} 接待日的候补已结束：{w['end_reason']}。如有需要，请预约其他接待日。",
            links.Link("pages/my_bookings.py"),
        ),
        key=f"waitlist.ended:{entry_id}",
        urgent=_urgent(day),
    )


def booking_ban(db: Database, ban_id: int) -> None:
    """The no-show rule applied: the person is told why and until when."""
    rows = list(db.query("SELECT user_id, until, reason FROM booking_bans WHERE id = ?", [ban_id]))
    if not rows:
        return
    r = rows[0]
    until = dt.date.fromisoformat(r["until"])
    emit(
        db,
        "booking.restricted",
        [r["user_id"]],
        message(
            "【接待日预约】预约受限",
            f"因{r['reason']}，{dates.format_date(until - dt.timedelta(days=1))}（含）前不能预约接待。"
            "如有异议，请联系党办或校办。",
            links.Link("pages/reception_book.py"),
        ),
        key=f"booking.restricted:{ban_id}",
    )


def _leader_name(db: Database, person_id: int | None) -> str:
    row = db.execute("SELECT name FROM people WHERE id = ?", [person_id]).fetchone() if person_id else None
    return row[0] if row else ""


def duty_change(
    db: Database, day: dt.date, action: str, old_leader: int | None, new_leader: int | None
) -> None:
    """After ``roster._log``: the change just written is the day's newest row of ``duty_changes``."""
    change = db.execute("SELECT max(id) FROM duty_changes WHERE date = ?", [day.isoformat()]).fetchone()[0]
    duty = db.execute(
        "SELECT leader_id, place, note FROM duty_days WHERE date = ?", [day.isoformat()]
    ).fetchone()
    if duty is None:
        return
    leader_id, place, note = duty
    when = dates.format_date(day)
    key = f"duty:{change}"
    urgent = _urgent(day)
    if action == "plan":
        emit(
            db,
            "roster.published",
            person_users(db, new_leader),
            message(
                "【接待日排班】值班安排",
                f"您被安排于 {when} 接待日值班，地点：{place}。",
                links.reception_day(day),
            ),
            key=key,
        )
        return
    text = {
        "swap": f"{when}接待日的值班校领导由 {_leader_name(db, old_leader)} 改为 {_leader_name(db, new_leader)}。",
        "substitute": f"{when}接待日由 {_leader_name(db, new_leader)} 替 {_leader_name(db, old_leader)} 值班。",
        "cancel": f"{when}接待日已取消" + (f"（{note}）" if note else "") + "。",
        "restore": f"{when}接待日已恢复，值班校领导：{_leader_name(db, leader_id)}，地点：{place}。",
        "place": f"{when}接待日的接待地点改为：{place}。",
    }.get(action)
    if text is None:
        return
    leaders = person_users(db, old_leader) + person_users(db, new_leader) + person_users(db, leader_id)
    emit(
        db,
        "roster.changed",
        leaders,
        message("【接待日排班】值班安排变动", text, links.reception_day(day)),
        key=key,
        urgent=urgent,
    )
    if action in ("swap", "substitute", "cancel", "place"):
        for b in db.query(
            "SELECT id, code, user_id FROM bookings WHERE date = ? AND status = 'booked'", [day.isoformat()]
        ):
            extra = (
                "您的预约随之取消，如有需要请另约其他接待日。" if action == "cancel" else "您的预约仍然有效。"
            )
            emit(
                db,
                "booking.changed",
                [b["user_id"]],
                message(
                    f"【接待日预约】接待日安排有变动（{b['code']}）",
                    f"{text}{extra}预约编号 {b['code']}。",
                    links.booking(b["code"]),
                ),
                key=f"{key}:booking:{b['id']}",
                urgent=urgent,
            )
