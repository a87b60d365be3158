"""满意度 and 回访 (issue 21 items 1–2): the raiser rates each answer once; 不满意 reopens the case or
sends it to 督办 by the policy's rule; unrated answers await the department's 回访, which counts as the
rating; an older database's 满意 and 重新办理 become ratings."""

from __future__ import annotations

import datetime as dt

import pytest

from portal import accounts, case_actions, case_opening, cases, ratings
from portal import db as database
from portal.accounts import Role
from portal.errors import Conflict, NotFound, PermissionDenied, ValidationError
from portal.notify import outbox
from portal.policy import OnUnsatisfied, policy

D = dt.date
TODAY = D(2026, 11, 24)  # a Tuesday (PORTAL_TODAY in tests)


@pytest.fixture
def people(db):
    def user(name, roles):
        return accounts.create_user(db, name, name, "Passw0rd!x", [Role(**r) for r in roles])

    return {
        "dangban": user("dangban", [{"role": "department", "department": "党办"}]),
        "xiaoban": user("xiaoban", [{"role": "department", "department": "校办"}]),
        "xuanchuan": user("xuanchuan", [{"role": "department", "department": "宣传部"}]),
        "visitor": user("visitor", [{"role": "visitor"}]),
        "other": user("other", [{"role": "visitor"}]),
    }


def _answered(db, people, *, raised_by="visitor", day=TODAY):
    case = case_opening.open_case(
        db,
        source="reception",
        content="食堂晚餐时间太短",
        responsible_dept="党办",
        contact_date=day,
        raised_by=people[raised_by].id if raised_by else None,
    )
    case_actions.answer(db, case.id, "晚餐延长到 19:30", people["dangban"])
    return case


def _on(monkeypatch, day: D) -> None:
    monkeypatch.setenv("PORTAL_TODAY", f"{day.isoformat()}T10:00:00")


# --- the raiser's rating ---------------------------------------------------------------------


@pytest.mark.parametrize("rating", ["satisfied", "basic"])
def test_satisfied_and_basically_satisfied_close_the_case_once(db, people, rating):
    case = _answered(db, people)
    made = ratings.rate(db, case.id, rating, people["visitor"], "谢谢")
    assert (made.via, made.outcome, made.comment) == ("raiser", "closed", "谢谢")
    assert cases.get_case(db, case.id, people["visitor"]).state == "closed"
    with pytest.raises(Conflict, match="已评价"):
        ratings.rate(db, case.id, "unsatisfied", people["visitor"], "改主意了")
    history = cases.events(db, case.id, people["dangban"])
    assert history[-1].action == "rated" and history[-1].note.startswith(made.label)


def test_only_the_raiser_rates_and_only_an_answered_case(db, people):
    case = _answered(db, people)
    for someone in ("other", "dangban"):
        with pytest.raises((PermissionDenied, NotFound)):
            ratings.rate(db, case.id, "satisfied", people[someone])
    fresh = case_opening.open_case(
        db,
        source="other",
        content="x",
        responsible_dept="党办",
        contact_date=TODAY,
        raised_by=people["visitor"].id,
    )
    with pytest.raises(Conflict, match="还没有答复"):
        ratings.rate(db, fresh.id, "satisfied", people["visitor"])
    with pytest.raises(ValidationError):
        ratings.rate(db, case.id, "great", people["visitor"])
    with pytest.raises(ValidationError, match="不满意时请填写意见"):
        ratings.rate(db, case.id, "unsatisfied", people["visitor"], "  ")
    assert db.execute("SELECT count(*) FROM case_ratings").fetchone()[0] == 0


def test_unsatisfied_reopens_then_supervises_each_answer_rated_again(db, people, monkeypatch):
    visitor, clerk = people["visitor"], people["dangban"]
    case = _answered(db, people)
    first = ratings.rate(db, case.id, "unsatisfied", visitor, "周末也要延长")
    assert first.outcome == "reopened"
    again = cases.get_case(db, case.id, visitor)
    assert again.state == "in_progress" and again.reopen_count == 1 and not again.supervisor
    assert again.due_date == D(2026, 12, 1)  # 5 working days from today, the reception deadline
    reopened = cases.events(db, case.id, clerk)[-1]
    assert reopened.action == "reopened" and "周末也要延长" in reopened.note
    # the department is told
    assert outbox.department_users(db, "党办") == [clerk.id]

    _on(monkeypatch, D(2026, 11, 26))
    case_actions.answer(db, case.id, "周末也延长到 19:30", clerk)
    second = ratings.rate(db, case.id, "unsatisfied", visitor, "还是排队")
    assert second.outcome == "supervised" and second.answer_id != first.answer_id
    now = cases.get_case(db, case.id, visitor)
    assert (now.state, now.supervisor, now.responsible_dept) == ("in_progress", "校办", "党办")
    # 校办 supervises: it sees the case and adds 督办意见; 宣传部 does neither
    assert case.id in [c.id for c in cases.list_cases(db, people["xiaoban"])]
    assert case.id not in [c.id for c in cases.list_cases(db, people["xuanchuan"])]
    ratings.urge(db, case.id, "请本周内落实", people["xiaoban"])
    with pytest.raises(PermissionDenied):
        ratings.urge(db, case.id, "催办", clerk)
    assert not cases.can_handle(people["xiaoban"], now)  # 党办 still answers it
    assert [e.action for e in cases.events(db, case.id, clerk)][-4:] == [
        "rated",
        "reopened",
        "supervised",
        "urged",
    ]
    case_actions.answer(db, case.id, "第三次答复", clerk)
    assert ratings.rate(db, case.id, "basic", visitor).outcome == "closed"
    assert db.execute("SELECT count(*) FROM case_ratings WHERE case_id = ?", [case.id]).fetchone()[0] == 3


def test_what_unsatisfied_does_is_policy_data(db, people, monkeypatch):
    changed = policy().model_copy(
        update={
            "satisfaction": policy().satisfaction.model_copy(
                update={"on_unsatisfied": [OnUnsatisfied(times=1, action="close")]}
            )
        }
    )
    monkeypatch.setattr(ratings, "policy", lambda: changed)
    case = _answered(db, people)
    made = ratings.rate(db, case.id, "unsatisfied", people["visitor"], "不同意")
    assert made.outcome == "closed"
    assert cases.get_case(db, case.id, people["visitor"]).state == "closed"


def test_the_supervisor_of_a_school_office_case_is_the_other_office():
    sat = policy().satisfaction
    assert sat.supervisor_for("党办") == "校办"
    assert sat.supervisor_for("教务处") == "党办"
    assert (sat.on(1), sat.on(2), sat.on(5)) == ("reopen", "supervise", "supervise")


def test_the_raiser_rates_within_the_window(db, people, monkeypatch):
    case = _answered(db, people)  # answered Tue 11-24; 5 working days: Tue 12-01
    _on(monkeypatch, D(2026, 12, 1))
    assert ratings.standing(
        db, cases.get_case(db, case.id, people["visitor"]), people["visitor"]
    ).raiser_may_rate()
    _on(monkeypatch, D(2026, 12, 2))
    with pytest.raises(Conflict, match="5 个工作日内.*超过期限"):
        ratings.rate(db, case.id, "satisfied", people["visitor"])


@pytest.mark.parametrize(("rate_within", "followup_after"), [(10, 5), (5, 5), (3, 5), (10, 0)])
def test_the_department_never_rates_an_answer_while_its_raiser_still_may(
    db, people, monkeypatch, rate_within, followup_after
):
    """docs/rules.md §9: a department cannot rate its own answer while the person may still do so. With the
    shipped policy (the raiser's 10 working days, the 回访 after 5) the department could record its 回访 —
    满意, say — from the 6th working day while the raiser's form still said 请在…前评价 until the 10th, and
    the raiser then found 此次答复已评价. However the two numbers are set, no day allows both."""
    changed = policy().model_copy(
        update={
            "satisfaction": policy().satisfaction.model_copy(
                update={"rate_within": rate_within, "followup_after": followup_after}
            )
        }
    )
    monkeypatch.setattr(ratings, "policy", lambda: changed)
    case = _answered(db, people)
    both = []
    for n in range(25):
        day = TODAY + dt.timedelta(days=n)
        _on(monkeypatch, day)
        found = ratings.standing(db, cases.get_case(db, case.id, people["visitor"]), people["visitor"])
        if found.raiser_may_rate() and found.followup_due():
            both.append(day)
    assert both == []


# --- 回访 ----------------------------------------------------------------------------------------


def test_a_followup_waits_for_the_raisers_window_then_counts_as_the_rating(db, people, monkeypatch):
    clerk = people["dangban"]
    case = _answered(db, people)  # 5 working days after Tue 11-24: Tue 12-01; 回访 from Wed 12-02
    with pytest.raises(Conflict, match="自行评价"):
        ratings.follow_up(db, case.id, "satisfied", clerk, method="phone")
    _on(monkeypatch, D(2026, 12, 1))
    assert case.id not in [c.id for c in ratings.awaiting_followup(db, clerk)]
    _on(monkeypatch, D(2026, 12, 2))
    assert [c.id for c in ratings.awaiting_followup(db, clerk)] == [case.id]
    assert ratings.awaiting_followup(db, people["xuanchuan"]) == []  # another department's
    with pytest.raises(NotFound):  # another department's case, as if it did not exist
        ratings.follow_up(db, case.id, "satisfied", people["xiaoban"], method="phone")
    with pytest.raises(ValidationError, match="回访方式"):
        ratings.follow_up(db, case.id, "satisfied", clerk, method="wechat")
    with pytest.raises(ValidationError, match="回访日期"):
        ratings.follow_up(db, case.id, "satisfied", clerk, method="phone", held_on=D(2026, 12, 3))
    made = ratings.follow_up(
        db,
        case.id,
        "basic",
        clerk,
        method="phone",
        caller="李老师",
        held_on=D(2026, 12, 1),
        comment="基本解决",
    )
    assert (made.via, made.method_label, made.caller, made.held_at) == (
        "followup",
        "电话",
        "李老师",
        "2026-12-01",
    )
    assert made.summary == "基本满意（回访，电话，李老师，2026年12月1日）"
    assert cases.get_case(db, case.id, clerk).state == "closed"
    assert ratings.awaiting_followup(db, clerk) == []
    with pytest.raises(Conflict, match="已评价"):
        ratings.rate(db, case.id, "satisfied", people["visitor"])  # the 回访 was the rating


def test_a_raiser_without_an_account_is_followed_up_at_once(db, people):
    case = _answered(db, people, raised_by=None)
    assert [c.id for c in ratings.awaiting_followup(db, people["dangban"])] == [case.id]
    made = ratings.follow_up(
        db, case.id, "unsatisfied", people["dangban"], method="meeting", comment="仍排队"
    )
    assert made.outcome == "reopened" and made.caller == "dangban"


def test_the_cutoff_counts_working_days(db):
    # an answer of Mon 11-16 had its 5 working days (17–20, 23) before Tue 11-24; one of 11-17 runs to its end
    assert ratings.followup_cutoff(db, TODAY) == D(2026, 11, 16)
    # around the Mid-autumn and National Day breaks (09-25–27, 10-01–07) and the Saturday 10-10 worked:
    # an answer of 09-27 had 09-28, 29, 30, 10-08, 09 before 10-10; one of 09-28 ends on 10-10 itself
    assert ratings.followup_cutoff(db, D(2026, 10, 10)) == D(2026, 9, 27)


def test_a_cadre_reads_the_latest_rating_of_each_case_from_his_contacts(db, people, monkeypatch):
    cadre = db["people"].insert({"staff_no": "10000001", "name": "王书记"}).last_pk
    leader = accounts.create_user(
        db, "10000001", "王书记", "Passw0rd!x", [Role(role="cadre")], person_id=cadre
    )
    made = {}
    for name, raised_by in (
        ("rated", "visitor"),
        ("waiting", "visitor"),
        ("nobody", None),
        ("reopened", "visitor"),
    ):
        case = case_opening.open_case(
            db,
            source="reception",
            content=name,
            responsible_dept="党办",
            contact_date=TODAY,
            cadre_id=cadre,
            raised_by=people[raised_by].id if raised_by else None,
        )
        case_actions.answer(db, case.id, "答复", people["dangban"])
        made[name] = case.id
    ratings.rate(db, made["rated"], "satisfied", people["visitor"])
    ratings.rate(db, made["reopened"], "unsatisfied", people["visitor"], "没解决")
    found = {r.case.content: r for r in ratings.of_contacts(db, leader, cadre, since=TODAY, until=TODAY)}
    assert {k: v.state for k, v in found.items()} == {
        "rated": "满意",
        "waiting": "待评价",  # within the raiser's window
        "nobody": "未评价",  # no account: the 回访 is due at once
        "reopened": "不满意",
    }
    assert found["reopened"].case.state == "in_progress"
    _on(monkeypatch, D(2026, 12, 2))  # the raiser's window has passed
    assert {r.state for r in ratings.of_contacts(db, leader, cadre, since=TODAY, until=TODAY)} == {
        "满意",
        "未评价",
        "不满意",
    }
    assert (
        ratings.of_contacts(db, people["xuanchuan"], cadre, since=TODAY, until=TODAY) == []
    )  # not its cases


# --- an older database ----------------------------------------------------------------------------


def test_old_satisfied_and_reopen_steps_become_ratings(tmp_path):
    path = tmp_path / "old.sqlite3"
    conn = database.connect(path)
    names = [m.name for m in database.migrations.pending(conn)]
    database.migrations.apply(conn, stop_before=next(n for n in names if n.endswith("_case_ratings")))
    now = "2026-11-20T10:00:00+08:00"
    for cid in (1, 2):
        conn.execute(
            "INSERT INTO cases (id, number, source, content, responsible_dept, state, contact_date, deadline_days, "
            "due_date, answer, answered_at, created_at, updated_at) VALUES (?, ?, 'other', '食堂', '党办', "
            "'closed', '2026-11-02', 10, '2026-11-16', '答复', ?, ?, ?)",
            [cid, f"2026-000{cid}", now, now, now],
        )
    steps = [
        (1, "answered", "第一次答复"),
        (1, "reopened", "提出人不满意：没解决（新的办理期限：2026-12-02）"),
        (1, "answered", "第二次答复"),
        (1, "satisfied", "满意"),
        (2, "answered", "答复"),
        (2, "reopened", "电话反映仍未落实（新的办理期限：2026-12-02）"),
        (2, "answered", "再答复"),
    ]
    for i, (cid, action, note) in enumerate(steps):
        conn.execute(
            "INSERT INTO case_events (case_id, at, action, note) VALUES (?, ?, ?, ?)",
            [cid, f"2026-11-{10 + i}T10:00:00+08:00", action, note],
        )
    conn.execute(
        "INSERT INTO case_answers (case_id, seq, body, at) SELECT case_id, row_number() OVER "
        "(PARTITION BY case_id ORDER BY id), note, at FROM case_events WHERE action = 'answered'"
    )
    conn.conn.commit()
    conn.close()
    with database.open_db(path) as db:
        found = [
            (r["case_id"], r["seq"], r["rating"], r["via"], r["method"], r["comment"], r["outcome"])
            for r in db.query(
                "SELECT r.*, a.seq FROM case_ratings r JOIN case_answers a ON a.id = r.answer_id ORDER BY r.id"
            )
        ]
    assert found == [
        (1, 1, "unsatisfied", "raiser", None, "没解决", "reopened"),
        (1, 2, "satisfied", "raiser", None, "", "closed"),
        (2, 1, "unsatisfied", "followup", "other", "电话反映仍未落实", "reopened"),
    ]


def test_followup_and_urging_appear_in_the_audit_log(db, people, monkeypatch):
    """回访 and 督办 are what a department does to a case on its own word: 操作日志 names who did it, to
    which case, with what outcome (the person's words stay in the case's history, not the log)."""
    from portal import audit

    clerk, visitor = people["dangban"], people["visitor"]
    case = _answered(db, people)
    _on(monkeypatch, D(2026, 12, 2))
    ratings.follow_up(db, case.id, "unsatisfied", clerk, method="phone", comment="电话 13812345678 再联系")
    logged = [(e.action, e.actor, e.detail) for e in audit.search(db, limit=50).entries]
    assert [e for e in logged if e[0] == "case.followup"] == [
        ("case.followup", "dangban（dangban）", f"{case.number}：电话回访，不满意")
    ], logged
    assert audit.action_label("case.followup") == "记录回访"
    # answered again, rated 不满意 again: 校办 supervises and adds its 督办意见
    case_actions.answer(db, case.id, "周末也延长到 19:30", clerk)
    ratings.rate(db, case.id, "unsatisfied", visitor, "还是排队")
    ratings.urge(db, case.id, "请本周内落实", people["xiaoban"])
    logged = [(e.action, e.detail) for e in audit.search(db, limit=50).entries]
    assert ("case.urge", case.number) in logged, logged
    assert audit.action_label("case.urge") == "填写督办意见"
