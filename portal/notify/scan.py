"""Events that no click causes, found each time the dispatcher runs (each queued once per occurrence):

* the day before a reception day: each visitor who booked, and the leader on duty;
* a case due tomorrow (one working day left): its department's staff;
* a case overdue: its department's staff and 督办 (the administrators, who see every case), once per deadline;
* a rule behind pace once 80 % of its period has gone: the cadre, if he or she opted in;
* the waiting list's clock (``waitlist.sweep``, on every run, not only every scan): places offered
  and not confirmed in time pass to the next person waiting, and lists whose booking has closed end.

This module reads the features; none of them imports it.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlite_utils import Database

from .. import cases, config, dates, links, quota
from ..accounts import Role, User
from ..db import get_setting, set_setting
from ..reception import actions, roster, waitlist
from .outbox import admin_users, department_users, emit, message, person_users

log = logging.getLogger("portal.notify")

BEHIND_SHARE = 0.8
_SYSTEM = User(id=0, username="system", display_name="系统", roles=[Role(role="admin")])


def reminders_before_the_day(db: Database, today: dt.date) -> int:
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
    from ..reception.template import load_template

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


def case_deadlines(db: Database, today: dt.date) -> int:
    added = 0
    for c in cases.list_cases(db, _SYSTEM, scope="handle", states=list(cases.OPEN_STATES), on=today):
        if c.days_left == 1:
            added += emit(
                db,
                "case.due",
                department_users(db, c.responsible_dept),
                message(
                    f"【意见建议临期】{c.number} 明天到期",
                    f"意见建议（编号 {c.number}）应于 {dates.format_date(c.due_date)} 前答复，还剩 1 个工作日。",
                    links.case(c.number),
                ),
                key=f"case.due:{c.id}:{c.due_date.isoformat()}",
            )
        elif c.overdue:
            added += emit(
                db,
                "case.overdue",
                department_users(db, c.responsible_dept) + admin_users(db),
                message(
                    f"【督办提醒】{c.number} 已逾期",
                    f"意见建议（编号 {c.number}，{c.responsible_dept}负责）的办理期限 "
                    f"{dates.format_date(c.due_date)} 已过，{c.flag}，请尽快答复。",
                    links.case(c.number),
                ),
                key=f"case.overdue:{c.id}:{c.due_date.isoformat()}",
            )
    return added


def behind_pace(db: Database, today: dt.date) -> int:
    """Only for cadres who asked (the quota engine is not run for the whole university here)."""
    added = 0
    wanting = db.execute(
        "SELECT u.id, u.person_id FROM notify_prefs n JOIN users u ON u.id = n.user_id "
        "WHERE n.opt_in LIKE '%\"quota\"%' AND u.is_active = 1 AND u.person_id IS NOT NULL"
    ).fetchall()
    for user_id, person_id in wanting:
        for r in quota.compute(db, person_id=person_id, since=today, on=today):
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


def scan_every() -> dt.timedelta:
    return dt.timedelta(minutes=config.settings().notify_scan_minutes)


def enqueue_due(db: Database, now: dt.datetime | None = None) -> int:
    """Queue every scheduled event due today; returns how many rows were added.

    The scan reads every open case (and the quota of cadres who opted in), so a dispatcher run every
    minute scans at most every ``PORTAL_NOTIFY_SCAN_MINUTES`` (default 60); each occurrence is queued once.
    """
    now = now or dates.now()
    before = db.execute("SELECT count(*) FROM notify_outbox").fetchone()[0]
    waitlist.sweep(db, now)  # its messages count as queued
    swept = db.execute("SELECT count(*) FROM notify_outbox").fetchone()[0] - before
    last = get_setting(db, "notify.last_scan")
    if last is not None and now - dt.datetime.fromisoformat(last) < scan_every():
        return swept
    set_setting(db, "notify.last_scan", now.isoformat(timespec="seconds"))
    today = now.astimezone(dates.TZ).date()
    found = {
        "reception_reminders": reminders_before_the_day(db, today),
        "case_deadlines": case_deadlines(db, today),
        "behind_pace": behind_pace(db, today),
        "waitlist": swept,
    }
    log.info("scheduled events queued: %d", sum(found.values()), extra=found)
    return sum(found.values())
