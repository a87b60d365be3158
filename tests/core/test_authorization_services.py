"""The authorization matrix at the service layer: every kind of user against every action that
takes a user. Expectations are written out by hand from the policy (第四条, 第十一、十二条) and
the issues — not derived from the code under test. Each attempt runs inside a transaction that
is rolled back, so the actions do not disturb each other; PermissionDenied and NotFound (which
hides others' rows) count as refusals."""

from __future__ import annotations

import datetime as dt

import pytest

from portal import accounts, activities, activity_recording, assignments, case_actions, cases
from portal.db import write
from portal.errors import NotFound, PermissionDenied
from portal.reception import bookings, day, roster
from tests.pages.test_authorization import ACCOUNTS


class _Undo(Exception):
    pass


def allowed(db, action) -> bool:
    try:
        with write(db):
            action()
            raise _Undo
    except _Undo:
        return True
    except (PermissionDenied, NotFound):
        return False


@pytest.fixture
def world(demo_db):
    """Rows the actions act on, found in the seed-1 demo."""
    db = demo_db
    users = {who: accounts.find_user(db, name) for who, name in ACCOUNTS.items()}
    booking = db.execute(
        "SELECT b.id, b.date, b.user_id FROM bookings b WHERE b.status = 'booked' AND b.date >= '2026-11-25' "
        "AND b.user_id NOT IN (SELECT id FROM users WHERE username IN (?, ?)) ORDER BY b.date, b.id LIMIT 1",
        [ACCOUNTS["student"], ACCOUNTS["staff"]],
    ).fetchone()
    lecture = db.execute(
        "SELECT a.id FROM activities a JOIN people p ON p.id = a.cadre_id WHERE a.system = '听课' "
        "AND p.staff_no NOT IN (?, ?) AND a.voided_at IS NULL LIMIT 1",
        [ACCOUNTS["middle_cadre"], ACCOUNTS["leader"]],
    ).fetchone()
    talk = db.execute(
        "SELECT a.id FROM activities a JOIN people p ON p.id = a.cadre_id WHERE a.system = '谈心谈话' "
        "AND p.staff_no NOT IN (?, ?) AND a.voided_at IS NULL LIMIT 1",
        [ACCOUNTS["middle_cadre"], ACCOUNTS["leader"]],
    ).fetchone()
    dangban_case = db.execute(
        "SELECT id FROM cases WHERE responsible_dept = '党办' "
        "AND state IN ('registered', 'referred', 'in_progress') "
        "AND (cadre_id IS NULL OR cadre_id NOT IN (SELECT id FROM people WHERE staff_no IN (?, ?))) "
        "AND (raised_by IS NULL OR raised_by NOT IN (SELECT id FROM users WHERE username IN (?, ?))) LIMIT 1",
        [ACCOUNTS["leader"], ACCOUNTS["middle_cadre"], ACCOUNTS["student"], ACCOUNTS["staff"]],
    ).fetchone()
    own_person = users["middle_cadre"].person_id
    talent = db.execute(
        "SELECT code FROM contact_targets WHERE kind = '高层次人才' AND code NOT IN "
        "(SELECT target_code FROM assignments WHERE kind = '高层次人才' AND cadre_id = ?) LIMIT 1",
        [own_person],
    ).fetchone()
    assert talent, "the demo has no unassigned talent"
    assert booking and lecture and talk and dangban_case, "the demo lacks rows the matrix needs"
    next_day = db.execute(
        "SELECT date FROM duty_days WHERE date > ? AND status = 'scheduled' ORDER BY date LIMIT 1",
        [booking[1]],
    ).fetchone()
    return {
        "db": db,
        "users": users,
        "booking": booking[0],
        "booking_day": dt.date.fromisoformat(booking[1]),
        "talent": talent[0],
        "next_day": dt.date.fromisoformat(next_day[0]),
        "lecture": lecture[0],
        "talk": talk[0],
        "case": dangban_case[0],
        "middle_cadre_person": own_person,
    }


def actions(w):
    db = w["db"]
    yesterday = dt.date(2026, 11, 23)

    def log_lecture_for_middle_cadre(user):
        data = activities.ActivityInput(
            cadre_id=w["middle_cadre_person"],
            system="听课",
            subtype="听课",
            date=yesterday,
            place="教学楼",
            content="随堂听课",
        )
        return activity_recording.log_activity(db, data, user)

    return {
        # reception (第十一、十二条): visitors see their own bookings only; 党办/校办 run the day
        "see another's booking": lambda u: bookings.get_booking(db, u, w["booking"]),
        "cancel another's booking": lambda u: bookings.cancel(db, u, w["booking"], reason="测试"),
        "see the day's list": lambda u: day.day_list(db, u, w["booking_day"]),
        "swap two duty leaders": lambda u: roster.swap(db, w["booking_day"], w["next_day"], u, "测试对调"),
        "cancel a reception day": lambda u: roster.cancel_day(db, w["booking_day"], u, "测试取消"),
        # activities (第四条): own rows; departments for their systems only
        "read a 听课 record of another cadre": lambda u: activities.get_activity(db, w["lecture"], u),
        "void a 听课 record of another cadre": lambda u: activity_recording.void_activity(
            db, w["lecture"], "测试作废", u
        ),
        "read a 谈心谈话 record of another cadre": lambda u: activities.get_activity(db, w["talk"], u),
        "log 听课 for a middle cadre": log_lecture_for_middle_cadre,
        # assignments (第四条): kept by administrators and the department that runs the system
        "assign a talent to a middle cadre": lambda u: assignments.save_assignment(
            db,
            assignments.AssignmentInput(
                cadre_id=w["middle_cadre_person"],
                kind="高层次人才",
                target_code=w["talent"],
                start_date=yesterday,
            ),
            u,
        ),
        # cases (第十二条): the responsible department handles, the visitor reads his own
        "read a 党办 case raised by someone else": lambda u: cases.get_case(db, w["case"], u),
        "answer a 党办 case": lambda u: case_actions.answer(db, w["case"], "已协调解决，特此答复。", u),
    }


# who may: the account keys of tests/pages/test_authorization.py (ACCOUNTS)
EXPECTED = {
    "see another's booking": {"dept_dangban", "admin"},
    "cancel another's booking": {"dept_dangban", "admin"},
    "see the day's list": {
        "dept_dangban",
        "admin",
    },  # + the duty leader of that day (tested in test_reception)
    "swap two duty leaders": {"dept_dangban", "admin"},
    "cancel a reception day": {"dept_dangban", "admin"},
    "read a 听课 record of another cadre": {"dept_jiaowu", "admin"},
    "void a 听课 record of another cadre": {"dept_jiaowu", "admin"},
    "read a 谈心谈话 record of another cadre": {"dept_zuzhi", "admin"},
    "log 听课 for a middle cadre": {"middle_cadre", "dept_jiaowu", "admin"},
    "assign a talent to a middle cadre": {"dept_zuzhi", "admin"},
    "read a 党办 case raised by someone else": {"dept_dangban", "admin"},
    "answer a 党办 case": {"dept_dangban", "admin"},
}


def test_service_matrix(world):
    table = actions(world)
    assert set(table) == set(EXPECTED)
    wrong = []
    for name, action in table.items():
        for who, user in world["users"].items():
            if who == "leader" and name == "see the day's list":
                continue  # the Party secretary may be on duty that very day
            got = allowed(world["db"], lambda a=action, u=user: a(u))
            if got != (who in EXPECTED[name]):
                wrong.append(f"{who} {'may' if got else 'may not'} {name}")
    assert not wrong, "\n".join(wrong)
