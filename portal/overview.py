"""What is waiting for a user right now: the home page's 待办 list, drawn from each feature's services.

师生 see their next reception-day booking and new answers to what they raised; 干部 the rules
behind pace in the periods running today, and their duty day; 党办/校办 the next reception day;
部门 and administrators overdue and at-risk cases and answers awaiting a 回访; administrators a holiday
year not yet loaded.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlite_utils import Database

from . import cases, dates, links, quota, ratings, unit_names, workdays
from .accounts import User
from .reception import access, bookings, roster


@dataclass(frozen=True)
class Reminder:
    text: str
    page: str  # the page that deals with it
    level: str = "info"  # info / warning / error
    params: dict[str, str] = field(default_factory=dict)  # the object it is about (portal.links)

    @classmethod
    def about(cls, text: str, link: links.Link, level: str = "info") -> Reminder:
        return cls(text, link.page, level, dict(link.params))


def reminders(db: Database, user: User, on: dt.date | None = None) -> list[Reminder]:
    on = on or dates.today()
    found: list[Reminder] = []
    if user.has("visitor", "cadre"):
        coming = [
            b
            for b in bookings.my_bookings(db, user, include_cancelled=False)
            if b.date >= on and b.status == "booked"
        ]
        if coming:
            b = coming[0]
            found.append(
                Reminder.about(
                    f"您已预约 {dates.format_date(b.date)} {b.slot_label} 的接待日（预约编号 {b.code}）",
                    links.booking(b.code),
                )
            )
        unread = cases.unread_answers(db, user)
        if unread:
            first = sorted(unread, key=lambda c: c.number)[0]
            link = links.case(first.number, raiser=first.raised_by == user.id)
            found.append(Reminder.about(f"有 {len(unread)} 件意见建议收到了新的答复", link, "warning"))
    if user.has("cadre") and user.person_id is not None:
        behind = [
            r
            for r in quota.compute(db, person_id=user.person_id, since=on, on=on)
            if r.behind and r.status == "in_progress"
        ]
        if behind:
            systems = "、".join(sorted({r.system for r in behind}))
            found.append(
                Reminder(f"有 {len(behind)} 项联系工作进度滞后（{systems}）", "pages/dashboard.py", "warning")
            )
    duty = roster.next_duty_day(db, on)
    if duty is not None and (duty.date - on).days <= 7:
        if user.person_id is not None and duty.leader_id == user.person_id:
            found.append(
                Reminder.about(
                    f"您是 {dates.format_date(duty.date)} 接待日的值班校领导", links.reception_day(duty.date)
                )
            )
        elif access.can_manage(user):
            booked = sum(b.status == "booked" for b in bookings.day_bookings(db, duty.date))
            found.append(
                Reminder.about(
                    f"{dates.format_date(duty.date)} 接待日：值班校领导 {duty.leader_name}，已有预约 "
                    f"{booked} 个",
                    links.reception_day(duty.date),
                )
            )
    if user.has("department", "admin"):
        open_cases = cases.list_cases(db, user, scope="handle", states=list(cases.OPEN_STATES), on=on)
        figures = cases.counts(open_cases)
        # by deadline, so the link opens the most pressing one
        overdue = [c for c in open_cases if c.overdue]
        at_risk = [c for c in open_cases if c.at_risk]
        if figures["overdue"]:
            found.append(
                Reminder.about(
                    f"逾期未答复的意见建议 {figures['overdue']} 件", links.case(overdue[0].number), "error"
                )
            )
        if figures["at_risk"]:
            found.append(
                Reminder.about(
                    f"即将到期（1 个工作日内）的意见建议 {figures['at_risk']} 件",
                    links.case(at_risk[0].number),
                    "warning",
                )
            )
        awaiting = ratings.awaiting_followup(db, user, on)
        if awaiting:  # answered, not rated by the raiser in time: the department calls (回访)
            first = min(awaiting, key=lambda c: (c.answered_at or "", c.number))
            found.append(
                Reminder.about(
                    f"答复后提出人未评价、待回访的意见建议 {len(awaiting)} 件",
                    links.case(first.number),
                    "warning",
                )
            )
        if figures["flagged"]:
            found.append(
                Reminder(
                    f"来源联系活动已作废或修改、需核实是否继续办理的意见建议 {figures['flagged']} 件",
                    "pages/cases.py",
                    "warning",
                )
            )
    if user.has("admin"):
        year = on.year + 1
        if workdays.unloaded_years(db, dt.date(year, 1, 1), dt.date(year, 12, 31)):
            found.append(
                Reminder(
                    f"{year} 年的法定节假日和调休安排尚未导入，届时的办理期限暂按周一至周五计算",
                    "pages/admin_calendar.py",
                    "warning",
                )
            )
        missing = unit_names.unmapped(db)
        if missing:
            found.append(
                Reminder(
                    f"《实施办法》中的单位名称没有对应到本校单位：{'、'.join(missing)}"
                    "（涉及这些单位的考核规则无人适用；请在“组织与干部”中指定或确认本校没有此单位）",
                    "pages/org_people.py",
                    "warning",
                )
            )
    return found
