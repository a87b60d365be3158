"""Demo step: the cases opened by the earlier steps (opinions in activities, receptions handed
on) are moved along as departments would have handled them, with dates in the past.

Most cases due before today were answered on time and many closed; some were answered late;
some are still open and overdue; cases due soon are spread over the open states (a few at
risk); some answers were read by the visitor or the cadre, some visitors were satisfied and
one was not (reopened). Deterministic for a seed.
"""

from __future__ import annotations

import datetime as dt

from sqlite_utils import Database

from .. import activities, activity_recording, case_history, dates, ratings, workdays
from .people import DEPARTMENT_ACCOUNTS

ANSWERS = [
    "经与承办单位核实，相关问题已整改完毕，并已向提出人当面说明。",
    "已列入本学期工作计划，预计下月完成，届时将另行通报。",
    "已协调相关部门解决，具体安排已在学院网站公布。",
    "经研究，暂不具备实施条件，已向提出人解释原因并提出替代方案。",
    "已落实：相关设施已维修完成，欢迎继续监督。",
    "已转相关学院研究，制定了改进措施并在教职工大会上通报。",
]
PROGRESS = [
    "已与承办单位沟通，正在调查核实。",
    "承办单位已提出初步方案，正在征求意见。",
    "正在协调相关部门。",
]


def _stamp(day: dt.date, hour: int) -> str:
    return f"{day.isoformat()}T{hour:02d}:{(day.toordinal() * 7) % 60:02d}:00+08:00"


def build(db: Database, ctx) -> str:
    rng = ctx.rng
    today = dates.today()
    yesterday = today - dt.timedelta(days=1)
    staff = {
        dept: db.execute("SELECT id FROM users WHERE username = ?", [name]).fetchone()[0]
        for dept, name in DEPARTMENT_ACCOUNTS.items()
    }
    cadre_user = {
        r[0]: r[1] for r in db.execute("SELECT person_id, id FROM users WHERE person_id IS NOT NULL")
    }
    unit_ids = [r[0] for r in db.execute("SELECT id FROM units WHERE name != '校领导班子' ORDER BY id")]
    rows = list(db.query("SELECT * FROM cases ORDER BY id"))
    if not rows:
        return "意见建议办理：无"
    lo = min(dt.date.fromisoformat(r["contact_date"]) for r in rows)
    cal = workdays.calendar(db, lo, today + dt.timedelta(days=60))
    tally = dict.fromkeys(
        (
            "answered",
            "closed",
            "overdue",
            "late",
            "read",
            "reopened",
            "rated",
            "followed_up",
            "unsatisfied",
            "supervised",
        ),
        0,
    )

    def after(day: dt.date, n: int) -> dt.date:
        return min(cal.due(day, max(0, n)), yesterday)  # the demo's history is all in the past

    for r in rows:
        cid, actor = r["id"], staff[r["responsible_dept"]]
        contact = dt.date.fromisoformat(r["contact_date"])
        due = dt.date.fromisoformat(r["due_date"])
        state = "registered"
        fields: dict = {}

        def move(
            to: str, day: dt.date, action: str, note: str = "", user: int | None = actor, cid: int = cid
        ) -> None:
            nonlocal state
            case_history.record_history(
                db, cid, action, state, to, _stamp(day, 10 + len(action) % 6), user, note
            )
            state = to

        def flush(cid: int = cid, fields: dict = fields) -> None:
            """The row as the history has left it (a rating reads it and moves it on)."""
            nonlocal state
            fields["state"] = state
            fields["updated_at"] = _stamp(today, 9)
            cols = ", ".join(f"{k} = ?" for k in fields)
            db.execute(f"UPDATE cases SET {cols} WHERE id = ?", [*fields.values(), cid])
            fields.clear()
            state = db.execute("SELECT state FROM cases WHERE id = ?", [cid]).fetchone()[0]

        past = due < today
        roll = rng.random()
        if past:
            plan = "late" if roll < 0.10 else "stuck" if roll < 0.22 else "on_time"
        else:
            plan = (
                "answered"
                if roll < 0.15
                else "in_progress"
                if roll < 0.5
                else "referred"
                if roll < 0.8
                else "new"
            )
        if plan == "new":
            continue
        unit = rng.choice(unit_ids)
        # most are referred the next working day; some wait longer (按期响应 within 2 working days)
        refer_day = after(contact, 1 if rng.random() < 0.85 else rng.randint(3, 5))
        move("referred", refer_day, "referred", "转办至承办单位")
        fields["handling_unit_id"] = unit
        if plan in ("referred",) or (plan == "stuck" and rng.random() < 0.4):
            pass
        else:
            start_day = after(refer_day, 1)
            move("in_progress", start_day, "started")
            if rng.random() < 0.4:
                move("in_progress", after(start_day, 1), "progress", rng.choice(PROGRESS))
            if plan in ("on_time", "late", "answered"):
                span = r["deadline_days"]
                if plan == "late":
                    answer_day = after(due, rng.randint(1, 4))
                else:
                    answer_day = after(start_day, rng.randint(0, max(0, span - 3)))
                    answer_day = min(answer_day, due)
                text = rng.choice(ANSWERS)
                move("answered", answer_day, "answered", text)
                fields.update(answer=text, answered_at=_stamp(answer_day, 16))
                tally["answered"] += 1
                tally["late"] += plan == "late"
                readers = [u for u in (r["raised_by"], cadre_user.get(r["cadre_id"])) if u]
                for reader in readers:
                    if rng.random() < 0.6:
                        move(state, after(answer_day, 1), "read", user=reader)
                        tally["read"] += 1
                flush()
                _rate(db, ctx, r, actor, answer_day, cal, today, tally)
                state = db.execute("SELECT state FROM cases WHERE id = ?", [cid]).fetchone()[0]
                if (
                    state == "answered"
                    and plan != "answered"
                    and rng.random() < 0.3
                    and after(answer_day, 3) < today
                ):
                    close_day = after(answer_day, 3)  # closed by the department, the rating still to come
                    move("closed", close_day, "closed")
                    fields["closed_at"] = _stamp(close_day, 17)
        tally["overdue"] += state in ("referred", "in_progress") and past
        flush()
    tally["closed"] = db.execute("SELECT count(*) FROM cases WHERE state = 'closed'").fetchone()[0]
    tally["reopened"] = db.execute("SELECT count(*) FROM cases WHERE reopen_count > 0").fetchone()[0]
    at_risk = _recent_symposium(db, today)
    return (
        f"意见建议 {len(rows) + at_risk} 件：已答复 {tally['answered']} 件（逾期答复 {tally['late']}），"
        f"已办结 {tally['closed']} 件，逾期未答复 {tally['overdue']} 件，临期 {at_risk} 件以上，"
        f"答复已阅 {tally['read']} 次，评价 {tally['rated']} 次（回访 {tally['followed_up']} 次，"
        f"不满意 {tally['unsatisfied']} 次），重新办理 {tally['reopened']} 件，督办 {tally['supervised']} 件"
    )


# how people rate answers: mostly satisfied, some basically, a few not
RATING_WEIGHTS = {"satisfied": 62, "basic": 28, "unsatisfied": 10}
UNHAPPY = ["问题没有真正解决，希望再核实", "答复太笼统，没有具体时间", "高峰期仍然排队，请再想办法"]


def _rate(
    db: Database,
    ctx,
    r: dict,
    actor: int,
    answer_day: dt.date,
    cal: workdays.WorkCalendar,
    today: dt.date,
    tally: dict,
) -> None:
    """Rate the case's answers as people would: the raiser within a few working days, else the
    department's 回访 once the window passed, else nobody yet (待评价 / 未评价). A 不满意 sends the case
    back (and the second to 督办): answered again a few working days later, and rated again."""
    rng = ctx.rng
    cid = r["id"]
    for _ in range(3):
        rating = rng.choices(list(RATING_WEIGHTS), weights=list(RATING_WEIGHTS.values()))[0]
        comment = rng.choice(UNHAPPY) if rating == "unsatisfied" else ""
        rater_day = cal.due(answer_day, rng.randint(0, 4))
        followup_day = cal.due(answer_day, rng.randint(6, 9))
        if r["raised_by"] and rng.random() < 0.6 and rater_day < today:
            ratings.record(db, cid, rating, _stamp(rater_day, 20), r["raised_by"], comment=comment)
            day = rater_day
        elif followup_day < today and rng.random() < 0.75:
            method = rng.choice(["phone", "phone", "phone", "meeting", "other"])
            caller = db.execute("SELECT display_name FROM users WHERE id = ?", [actor]).fetchone()[0]
            ratings.record(
                db,
                cid,
                rating,
                _stamp(followup_day, 15),
                actor,
                comment=comment or ("电话回访，提出人表示问题已解决" if method == "phone" else ""),
                method=method,
                caller=caller,
            )
            tally["followed_up"] += 1
            day = followup_day
        else:
            return
        tally["rated"] += 1
        if rating != "unsatisfied":
            return
        tally["unsatisfied"] += 1
        row = db.execute("SELECT state, supervisor FROM cases WHERE id = ?", [cid]).fetchone()
        tally["supervised"] += bool(row[1])
        answer_day = cal.due(day, rng.randint(2, 4))
        if row[0] != "in_progress" or answer_day >= today:
            return  # 办理中 again, due soon
        text = rng.choice(ANSWERS)
        case_history.record_history(
            db, cid, "answered", "in_progress", "answered", _stamp(answer_day, 16), actor, text
        )
        db.execute(
            "UPDATE cases SET state = 'answered', answer = ?, answered_at = ? WHERE id = ?",
            [text, _stamp(answer_day, 16), cid],
        )


def _recent_symposium(db: Database, today: dt.date) -> int:
    """A student symposium held nine working days ago, logged through the activities service: its
    opinions open cases due tomorrow (10 working days, 第二十条), so supervision has some at risk."""
    held, counted = today, 0
    while counted < 9:
        held -= dt.timedelta(days=1)
        counted += workdays.is_working_day(db, held)
    secretary = db.execute(
        "SELECT person_id FROM cadre_posts WHERE tags LIKE '%college_secretary%' ORDER BY person_id LIMIT 1"
    ).fetchone()
    if secretary is None:
        return 0
    opinions = ["考试周图书馆自习座位不够用，希望延长开放时间", "食堂晚餐供应时间希望延长到 19:30"]
    activity_recording.insert_activity(
        db,
        activities.ActivityInput(
            cadre_id=secretary[0],
            system="座谈",
            subtype="学生座谈",
            date=held,
            place="学生活动中心 201",
            counterpart_text="2024 级本科生代表 12 人",
            content="听取学生对教学安排和生活服务的意见建议",
            opinions=opinions,
        ),
        None,
    )
    return len(opinions)
