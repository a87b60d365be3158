"""Demo step: the reception day, deterministic from ``ctx.rng``.

The current semester's roster; every past Wednesday received, with bookings answered on the
spot, handed to 党办/校办 (cases), and a few no-shows — one person missed the last three and may not
book for four weeks (the no-show rule); bookings for the coming Wednesday and the one after, some
cancelled, with a waiting list whose first people got the places freed (and confirmed them) and one
who still waits for a slot nobody gave up; a substitution after people booked (they see it
on their booking) and one later day cancelled.

What this step adds beyond the original draws comes from its own generator (``extra``), so the
shared one (``ctx.rng``) — and so every later step's data — is drawn exactly as before.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random

from sqlite_utils import Database

from .. import accounts, dates, periods
from ..errors import PortalError
from ..reception import bookings, day, roster, waitlist
from ..reception.template import load_template
from .context import account

# Demo visitors whose accounts the README names: they have something to see in 我的预约.
NAMED_VISITORS = ["2023000001", "30000001"]
SUBJECTS = {
    "教学": [
        "公共课教室多媒体设备经常故障",
        "希望增开周末实验室开放时间",
        "选课系统高峰期无法登录",
        "毕业设计选题调整",
    ],
    "科研": ["横向科研经费报销流程较长", "大型仪器共享平台预约困难", "青年教师科研启动经费申请"],
    "人事": ["职称评审条件中的业绩认定", "博士后进站后的子女入学问题", "外聘教师课时费发放时间"],
    "学生事务": [
        "研究生宿舍调整申请",
        "奖学金评定结果有疑问",
        "家庭经济困难学生临时补助",
        "学生社团活动场地不足",
    ],
    "后勤保障": [
        "二食堂晚餐窗口开放太少",
        "南区宿舍热水供应时间短",
        "校园夜间照明不足",
        "校医院周末门诊时间",
    ],
    "其他": ["校园班车线路调整建议", "图书馆自习座位预约规则", "校园网夜间网速慢"],
}
ANSWERS = [
    "已当场说明相关政策和办理流程，来访人表示理解。",
    "当场联系分管部门负责人，答应本周内解决。",
    "已说明学校正在推进的相关工作和时间安排。",
    "已当面答复，请来访人按规定提交书面材料。",
]


def _booking_time(tpl, when: dt.date, cap: dt.datetime, rng) -> dt.datetime:
    """A moment inside the day's booking window and before ``cap``."""
    opens, closes = tpl.opens_at(when), min(tpl.closes_at(when), cap)
    span = max(1, int((closes - opens).total_seconds() // 60) - 60)
    return opens + dt.timedelta(minutes=rng.randrange(span))


def build(db: Database, ctx) -> str:
    rng, today = ctx.rng, dates.today()
    tpl = load_template(db)
    sem = periods.semester_containing(db, today)
    plan = roster.plan_semester(db, sem.key, None)
    staff = account(db, "dangban")
    named = [u.id for u in (accounts.find_user(db, n) for n in NAMED_VISITORS) if u is not None]
    pool = [uid for uid in ctx.visitors if uid not in named]
    users: dict[int, accounts.User] = {}

    def user(uid: int) -> accounts.User:
        if uid not in users:
            users[uid] = accounts.get_user(db, uid)
        return users[uid]

    def phone(uid: int) -> str:
        row = db.execute(
            "SELECT p.phone FROM users u JOIN people p ON p.id = u.person_id WHERE u.id = ?", [uid]
        )
        return row.fetchone()[0] or "13800000000"

    def book(uid: int, when: dt.date, slot: str, cap: dt.datetime) -> bookings.Booking | None:
        category = rng.choice(list(SUBJECTS))
        data = bookings.BookingInput(
            date=when,
            slot=slot,
            category=category,
            subject=rng.choice(SUBJECTS[category]),
            description=rng.choice(["", "希望学校能统筹协调。", "已向学院反映过，尚未解决。"]),
            phone=phone(uid),
            group_size=rng.choice([1, 1, 1, 2, 3]),
        )
        try:
            return bookings.book(db, user(uid), data, now=_booking_time(tpl, when, cap, rng), rng=rng)
        except PortalError:
            return None

    days = roster.list_roster(db, sem.teaching_start, sem.teaching_end, include_cancelled=False)
    made = received = handed = no_show = cancelled = 0
    start_of_today = dt.datetime.combine(today, dt.time(0, 0), dates.TZ)
    extra = random.Random(ctx.seed * 7919 + 21)  # issue 21's additions draw from their own generator
    absentee = pool[-1]  # books the last three past days and never comes
    past = [d for d in days if d.date < today]
    for d in past:
        for uid, slot in zip(
            rng.sample(pool, rng.randint(2, 5)), sorted(rng.sample(tpl.slots, 5)), strict=False
        ):
            b = book(uid, d.date, slot, start_of_today)
            if b is None:
                continue
            made += 1
            roll = rng.random()
            if roll < 0.1:
                continue  # never came: finish_day marks it 未到
            if roll < 0.35:
                rec = day.ReceptionRecord(
                    outcome="handed",
                    answer="已说明情况，转交相关部门协调办理。",
                    department=rng.choice(["党办", "校办"]),
                )
            else:
                rec = day.ReceptionRecord(outcome="answered", answer=rng.choice(ANSWERS))
            try:
                day.check_in(db, staff, b.id)
                day.record_reception(db, staff, b.id, rec)
            except PortalError:
                rec = day.ReceptionRecord(outcome="answered", answer=rng.choice(ANSWERS))
                day.record_reception(db, staff, b.id, rec)
            received += 1
            handed += rec.outcome == "handed"
        if d in past[-3:]:
            free = [s.slot for s in bookings.slots(db, d.date) if s.free]
            data = bookings.BookingInput(
                date=d.date,
                slot=extra.choice(free),
                category="其他",
                subject="图书馆自习座位预约规则",
                phone=phone(absentee),
            )
            try:
                bookings.book(
                    db, user(absentee), data, now=tpl.opens_at(d.date) + dt.timedelta(hours=9), rng=extra
                )
                made += 1
            except PortalError:
                pass
        before = db.execute("SELECT count(*) FROM bookings WHERE status = 'no_show'").fetchone()[0]
        day.finish_day(db, staff, d.date)
        no_show += db.execute("SELECT count(*) FROM bookings WHERE status = 'no_show'").fetchone()[0] - before

    coming = [d for d in days if d.date >= today]
    if coming:  # the coming Wednesday: the named visitors and a crowd, two cancel again
        first = coming[0]
        slots = list(tpl.slots)
        rng.shuffle(slots)
        crowd = named + rng.sample(pool, 8)
        ours = [
            b
            for uid, slot in zip(crowd, slots, strict=False)
            if (b := book(uid, first.date, slot, start_of_today))
        ]
        made += len(ours)
        victims = rng.sample(ours[len(named) :], min(2, len(ours) - len(named)))
        # the waiting list: two wait for the slots about to free, one for a slot that stays taken
        kept = [b for b in ours if b not in victims]
        waiters = [u for u in extra.sample(pool, 12) if u not in crowd][:3]
        for uid, b in zip(waiters, [*victims, *kept[-1:]], strict=False):
            moment = min(
                dt.datetime.fromisoformat(b.created_at) + dt.timedelta(minutes=30),
                tpl.closes_at(first.date) - dt.timedelta(minutes=2),
            )
            category = extra.choice(list(SUBJECTS))
            wish = waitlist.WaitInput(
                date=first.date,
                slot=b.slot,
                category=category,
                subject=extra.choice(SUBJECTS[category]),
                phone=phone(uid),
            )
            with contextlib.suppress(PortalError):
                waitlist.join(db, user(uid), wish, now=moment)
        for b in victims:
            moment = dt.datetime.fromisoformat(b.created_at) + dt.timedelta(hours=1)
            bookings.cancel(
                db,
                user(b.user_id),
                b.id,
                now=min(moment, tpl.closes_at(first.date) - dt.timedelta(minutes=1)),
            )
            cancelled += 1
        for x in bookings.day_bookings(db, first.date):  # those promoted said they will come
            if x.awaiting_confirmation:
                moment = dt.datetime.fromisoformat(x.created_at) + dt.timedelta(minutes=20)
                waitlist.confirm(db, user(x.user_id), x.id, now=min(moment, tpl.confirm_by(first.date)))
    if len(coming) > 1:  # the one after: a few bookings, then the leader is replaced
        second = coming[1]
        for uid, slot in zip(rng.sample(pool, 4), rng.sample(tpl.slots, 4), strict=False):
            made += book(uid, second.date, slot, start_of_today) is not None
        others = [x for x in roster.school_leaders(db, second.date) if x.person_id != second.leader_id]
        roster.substitute(
            db, second.date, rng.choice(others).person_id, staff, "原值班校领导赴省教育厅参加会议"
        )
    if len(coming) > 5:
        roster.cancel_day(db, coming[5].date, staff, "学校召开年度工作会议，本周接待日暂停一次")
    waiting = db.execute("SELECT count(*) FROM waitlist").fetchone()[0]
    restricted = db.execute("SELECT count(*) FROM booking_bans").fetchone()[0]
    return (
        f"接待日：{sem.name}排班 {len(plan.created)} 天（节假日跳过 {len(plan.skipped)} 天），"
        f"预约 {made} 个（已接待 {received}，其中转办 {handed}；未到 {no_show}；取消 {cancelled}），"
        f"候补 {waiting} 人次，预约受限 {restricted} 人"
    )
