"""Every answer a case was given stays, whole and in order (issue 19 item 13): a reopened case answered
again no longer overwrites the first answer, and the history no longer cuts an answer at 1,000 characters."""

from __future__ import annotations

import datetime as dt

import pytest

from portal import accounts, case_actions, case_opening, cases
from portal import db as database
from portal.accounts import Role

TODAY = dt.date(2026, 11, 24)
# 1,641 characters, its end different from its beginning (the end is what got lost)
LONG = "经调查核实，" + "食堂晚餐供应时间将延长，" * 135 + "最后：自十二月一日起执行。"


@pytest.fixture
def people(db):
    def user(name, roles):
        return accounts.create_user(db, name, name, "Passw0rd!x", [Role(**r) for r in roles])

    return {
        "clerk": user("dangban", [{"role": "department", "department": "党办"}]),
        "visitor": user("visitor", [{"role": "visitor"}]),
    }


def _answered_twice(db, people):
    clerk, visitor = people["clerk"], people["visitor"]
    case = case_opening.open_case(
        db,
        source="reception",
        content="食堂晚餐时间太短",
        responsible_dept="党办",
        contact_date=TODAY,
        raised_by=visitor.id,
    )
    case_actions.answer(db, case.id, LONG, clerk)
    case_actions.reopen(db, case.id, "提出人电话反映仍未落实", clerk)
    case_actions.answer(db, case.id, "第二次答复：已与后勤处确认具体时间。", clerk)
    return case


def test_a_long_answer_is_kept_whole_and_a_second_answer_keeps_the_first(db, people):
    assert len(LONG) > 1000
    case = _answered_twice(db, people)
    answers = cases.answers(db, case.id, people["visitor"])
    assert [a.body for a in answers] == [LONG, "第二次答复：已与后勤处确认具体时间。"]
    assert [a.seq for a in answers] == [1, 2]
    assert answers[0].body.endswith("最后：自十二月一日起执行。")
    # the history holds each answer whole too
    notes = [e.note for e in cases.events(db, case.id, people["clerk"]) if e.action == "answered"]
    assert notes[0] == LONG
    # the case row carries the latest answer
    assert cases.get_case(db, case.id, people["clerk"]).answer.startswith("第二次答复")


def test_answers_are_read_only_by_who_may_see_the_case(db, people):
    case = _answered_twice(db, people)
    stranger = accounts.create_user(db, "other", "other", "Passw0rd!x", [Role(role="visitor")])
    with pytest.raises(cases.NotFound):
        cases.answers(db, case.id, stranger)


def _before(path, suffix: str):
    """A database migrated up to (not including) the migration named ``…_<suffix>``."""
    conn = database.connect(path)
    names = [m.name for m in database.migrations.pending(conn)]
    database.migrations.apply(conn, stop_before=next(n for n in names if n.endswith(suffix)))
    return conn


def test_an_older_database_keeps_its_answers_after_the_migration(tmp_path):
    """A database from before: the answer on the case row (whole), the history cut at 1,000."""
    path = tmp_path / "old.sqlite3"
    conn = _before(path, "_case_answers")
    now = "2026-11-20T10:00:00+08:00"
    conn.execute(
        "INSERT INTO cases (id, number, source, content, responsible_dept, state, contact_date, deadline_days, "
        "due_date, answer, answered_at, reopen_count, created_at, updated_at) VALUES (1, '2026-0001', 'other', "
        "'食堂', '党办', 'answered', '2026-11-16', 10, '2026-12-07', ?, ?, 1, ?, ?)",
        ["第二次答复" + "。" * 1200, "2026-11-23T10:00:00+08:00", now, now],
    )
    for at, action, note in (
        ("2026-11-16T10:00:00+08:00", "opened", ""),
        ("2026-11-17T10:00:00+08:00", "answered", ("第一次答复" + "，" * 1200)[:1000]),
        ("2026-11-18T10:00:00+08:00", "reopened", "提出人不满意：没解决（新的办理期限：2026-12-02）"),
        ("2026-11-23T10:00:00+08:00", "answered", ("第二次答复" + "。" * 1200)[:1000]),
    ):
        conn.execute(
            "INSERT INTO case_events (case_id, at, action, note) VALUES (1, ?, ?, ?)", [at, action, note]
        )
    conn.conn.commit()
    conn.close()
    with database.open_db(path) as db:
        rows = list(db.query("SELECT seq, body, truncated FROM case_answers WHERE case_id = 1 ORDER BY seq"))
    assert [r["seq"] for r in rows] == [1, 2]
    assert rows[0]["truncated"] == 1 and len(rows[0]["body"]) == 1000  # all that was ever kept
    assert rows[1]["truncated"] == 0 and rows[1]["body"] == "第二次答复" + "。" * 1200  # whole, from the row


def test_every_answer_is_found_by_the_search(db, people):
    from portal import search

    case = _answered_twice(db, people)
    found = search.search(db, people["clerk"], "自十二月一日起执行")  # the first answer's end
    assert [h.ref for h in found.cases] == [case.number]
