"""The reminder the day before a reception day, queued by the dispatcher's scan (``portal.notify.scan``):
the leader on duty, and each visitor with the one-tap links 确认前往 and 取消预约 (signed, single-use,
their owner's), so that a place nobody will use goes back to the waiting list before the cut-off."""

from __future__ import annotations

import datetime as dt

from sqlite_utils import Database

from .. import dates, links
from ..notify.outbox import emit, message, person_users
from . import actions, roster
from .template import load_template


def day_before(db: Database, today: dt.date) -> int:
    """Tomorrow's reception: the leader on duty, and each visitor who booked and has not checked in,
    with one-tap links to confirm or cancel. Queued once per occurrence; returns the rows added."""
    tomorrow = today + dt.timedelta(days=1)
    day = roster.get_day(db, tomorrow)
    if day is None or day.cancelled:
        return 0
    when = dates.format_date(tomorrow)
    added = emit(
        db,
        "duty.reminder",
        person_users(db, day.leader_id),
        message(
            "【接待日提醒】明天是您的接待日",
            f"您是 {when} 接待日的值班校领导，地点：{day.place}，已有预约 {day.booked} 个。",
            links.reception_day(tomorrow),
        ),
        key=f"duty.reminder:{tomorrow.isoformat()}",
    )
    tpl = load_template(db)
    for b in list(
        db.query(
            "SELECT id, code, slot, user_id FROM bookings WHERE date = ? AND status = 'booked' AND checked_in_at IS NULL",
            [tomorrow.isoformat()],
        )
    ):
        key = f"booking.reminder:{b['id']}:{tomorrow.isoformat()}"
        if db.execute("SELECT 1 FROM notify_outbox WHERE dedupe_key = ? LIMIT 1", [key]).fetchone():
            continue  # queued already (its links were made then)
        # one-tap links (signed, single-use, their owner's): a place nobody will use goes back to the
        # waiting list before the cut-off
        acts = [
            (label, links.booking_action(actions.token_for(db, b["id"], a)))
            for a, label in actions.ACTIONS.items()
        ]
        added += emit(
            db,
            "booking.reminder",
            [b["user_id"]],
            message(
                f"【接待日提醒】明天接待（{b['code']}）",
                f"您预约了 {when} {tpl.slot_label(b['slot'])} 的校领导接待日，值班校领导：{day.leader_name}，"
                f"地点：{day.place}。请提前 10 分钟到达，出示签到二维码或报预约编号 {b['code']} 签到。"
                "能来请点“确认前往”；不能来请点“取消预约”，名额将让给候补的师生。",
                links.booking(b["code"]),
                qr=links.checkin(b["code"]),
                actions=acts,
            ),
            key=key,
        )
    return added
