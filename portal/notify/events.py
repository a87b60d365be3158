"""What each event says, and to whom. The services call these inside their own ``write(db)``:

* ``booking(db, id, "confirmed" | "cancelled")`` — the person who booked;
* ``duty_change(db, day, action, old_leader, new_leader)`` — after a row of ``duty_changes``: the
  leaders concerned (roster published or changed) and, when a day is cancelled or its leader or
  place changes, everyone holding a booking that day;
* ``published(db, case_id)`` — the raiser, when the answer he or she consented to publish is published
  (答复公开), with where to withdraw;
* ``case_event(db, case_id, action)`` — after a row of ``case_events``: a case opened, transferred or
  reopened goes to its department's staff, an answer to the person who raised it (else the cadre), with
  the link where he rates it; a case sent to 督办 to the supervising department, its 督办意见 back to
  the responsible one.

Messages never carry what someone raised (the opinion, the booking's subject): they leave the
portal. They carry the number and a link, and the link opens the rest after login. Names are read
with SQL, not through the feature modules, which import this one.
"""

from __future__ import annotations

import datetime as dt

from sqlite_utils import Database

from .. import dates, links
from .outbox import department_users, emit, message, person_users

SOURCE_LABELS = {"reception": "接待日", "symposium": "座谈", "other": "其他联系"}


def _urgent(day: dt.date) -> bool:
    """A change to a reception day that is today or tomorrow may not wait for the morning."""
    return day <= dates.today() + dt.timedelta(days=1)


def _slot(db: Database, slot: str) -> str:
    from ..reception.template import load_template  # lazily: the reception package imports this module

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
    elif what == "lapsed":
        msg = message(
            f"【接待日预约】候补名额已失效（{b['code']}）",
            f"您候补递补的 {when} 接待日名额（预约编号 {b['code']}）未在确认期限前确认，已让给下一位候补。",
            links.booking(b["code"]),
        )
        emit(
            db,
            "booking.cancelled",
            [b["user_id"]],
            msg,
            key=f"booking.lapsed:{booking_id}",
            urgent=_urgent(day),
        )
    elif what == "cancelled":
        msg = message(
            f"【接待日预约】预约已取消（{b['code']}）",
            f"您 {when} 的接待日预约（预约编号 {b['code']}）已取消。",
            links.booking(b["code"]),
        )
        emit(
            db,
            "booking.cancelled",
            [b["user_id"]],
            msg,
            key=f"booking.cancelled:{booking_id}",
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


def case_event(db: Database, case_id: int, action: str) -> None:
    """After ``cases._event``: the case row is already as the change left it."""
    if action not in ("opened", "transferred", "reopened", "answered", "supervised", "urged"):
        return
    rows = list(
        db.query(
            "SELECT c.id, c.number, c.source, c.responsible_dept, c.supervisor, c.due_date, c.raised_by, c.cadre_id, "
            "(SELECT max(id) FROM case_events e WHERE e.case_id = c.id) AS event_id FROM cases c WHERE c.id = ?",
            [case_id],
        )
    )
    if not rows:
        return
    c = rows[0]
    key = f"case.{action}:{c['event_id']}"
    due = dates.format_date(c["due_date"])
    # a deadline already past is said so, never "请于 <a past day> 前答复"
    late = dt.date.fromisoformat(str(c["due_date"])[:10]) < dates.today()
    by = f"答复期限 {due} 已过，请尽快" if late else f"请于 {due} 前"
    if action == "supervised":  # after repeated 不满意: the supervising department is told
        emit(
            db,
            "case.assigned",
            department_users(db, c["supervisor"]),
            message(
                f"【意见建议督办】{c['number']}",
                f"提出人对意见建议（编号 {c['number']}）的答复多次不满意，已转{c['supervisor']}督办，"
                f"由{c['responsible_dept']}"
                + (f"尽快重新答复（答复期限 {due} 已过）。" if late else f"于 {due} 前重新答复。"),
                links.case(c["number"]),
            ),
            key=key,
        )
        return
    if action == "urged":
        emit(
            db,
            "case.assigned",
            department_users(db, c["responsible_dept"]),
            message(
                f"【意见建议督办】{c['number']}",
                f"{c['supervisor'] or '督办部门'}对意见建议（编号 {c['number']}）提出了督办意见，请登录查看。",
                links.case(c["number"]),
            ),
            key=key,
        )
        return
    if action in ("opened", "transferred", "reopened"):
        text = (
            f"意见建议（编号 {c['number']}）需重新办理，{by}再次答复。"
            if action == "reopened"
            else f"有一件来自{SOURCE_LABELS.get(c['source'], '联系活动')}的意见建议（编号 {c['number']}）交由"
            f"{c['responsible_dept']}办理，{by}答复。"
        )
        emit(
            db,
            "case.assigned",
            department_users(db, c["responsible_dept"]),
            message(f"【意见建议交办】{c['number']}", text, links.case(c["number"])),
            key=key,
        )
        return
    raiser = [c["raised_by"]] if c["raised_by"] else []
    whose = "您反映的" if raiser else "您联系活动中师生反映的"
    emit(
        db,
        "case.answered",
        raiser or person_users(db, c["cadre_id"]),
        message(
            f"【意见建议答复】{c['number']} 已答复",
            f"{whose}意见建议（编号 {c['number']}）已由{c['responsible_dept']}答复，请登录查看答复内容"
            + ("，并评价是否满意。" if raiser else "。"),
            links.case(c["number"], raiser=bool(raiser)),
        ),
        key=key,
    )


def published(db: Database, case_id: int) -> None:
    """The raiser is told that the answer he or she consented to publish is public now, and where to
    withdraw the consent (which takes it down at once)."""
    row = db.execute("SELECT number, raised_by FROM cases WHERE id = ?", [case_id]).fetchone()
    if row is None or row[1] is None:
        return
    number, raiser = row
    emit(
        db,
        "case.published",
        [raiser],
        message(
            f"【答复公开】{number} 的答复已公开",
            f"按您的同意，意见建议（编号 {number}）的问题和答复已在“答复公开”栏目公开，您的姓名、编号、联系方式等"
            "个人信息已隐去。如需撤回同意，请登录在“我的诉求”取消勾选，已公开的内容会立即撤下。",
            links.case(number, raiser=True),
        ),
        key=f"case.published:{case_id}:{dates.stamp()}",
    )
