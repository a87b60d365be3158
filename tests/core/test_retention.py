"""Retention (issue 19 item 23; PIPL Art. 19, 47): each kind of personal record kept as long as its
documented rule says, then emptied or de-identified by ``portal purge`` — a dry run first, audited
when applied — without changing a single count of the ledgers, the assessment or the KPIs."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest
from click.testing import CliRunner

from portal import (
    accounts,
    assessment,
    audit,
    case_actions,
    case_notes,
    case_opening,
    cli,
    config,
    dates,
    kpis,
    ledger,
    ratings,
    retention,
)
from portal.reception import roster

LATER = "2030-06-01T09:00:00"  # every demo booking and case is past its three years by then


@pytest.fixture
def later(monkeypatch):
    """Move the clock to ``LATER`` (after what should happen on the demo's own day)."""
    monkeypatch.setenv(
        "PORTAL_AUDIT_KEEP_DAYS", "36500"
    )  # the audit log's own rule is tested in test_audit_chain
    return lambda: monkeypatch.setenv("PORTAL_TODAY", LATER)


def _counts(db) -> dict:
    """Every figure a ledger, the assessment and the KPIs of 2026 show."""
    admin = accounts.find_user(db, "admin")
    year = dt.date(2026, 1, 1), dt.date(2026, 12, 31)
    found = {
        "kpis": [kpis.compute(db, by=by, since=year[0], until=year[1]) for by in ("department", "cadre")],
        "assessment": assessment.assess(db, 2026, on=dt.date(2026, 12, 31)),
        "ledger": ledger.build(db, admin, since=year[0], until=year[1]),
        "roster": [(d.date, d.booked) for d in roster.list_roster(db, *year)],
        "bookings": db.execute("SELECT date, status, count(*) FROM bookings GROUP BY 1, 2").fetchall(),
        "cases": db.execute("SELECT responsible_dept, state, count(*) FROM cases GROUP BY 1, 2").fetchall(),
        "ratings": db.execute("SELECT rating, via, count(*) FROM case_ratings GROUP BY 1, 2").fetchall(),
    }
    for report in found["kpis"]:
        report.on = None  # the day it was computed is not a figure
    return found


def _snapshot(db) -> list:
    return [
        db.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
        for table in ("bookings", "waitlist", "cases", "users", "people", "user_roles", "audit_log")
    ]


def _leaver(db):
    """A student who left: his account disabled on the demo's day (2026-11-24)."""
    student = accounts.find_user(db, "2023000016")
    accounts.set_active(db, student.id, False, accounts.find_user(db, "admin").id)
    return student


def test_every_kind_of_record_has_a_documented_rule_and_setting():
    names = config.environment_names()
    for rule in retention.RULES:
        assert rule.title and rule.what
        assert not rule.setting or rule.setting in names
    assert {r.key for r in retention.RULES} >= {
        "bookings",
        "cases",
        "accounts",
        "messages",
        "sessions",
        "audit",
    }
    doc = (config.ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    for rule in retention.RULES:
        assert rule.title in doc, rule.title


def test_a_dry_run_says_what_it_would_do_and_changes_nothing(demo_db, later):
    _leaver(demo_db)
    later()
    before = _snapshot(demo_db)
    outcomes = {o.rule.key: o for o in retention.run(demo_db, apply=False)}
    assert outcomes["bookings"].count > 40 and outcomes["cases"].count > 5 and outcomes["accounts"].count == 1
    assert outcomes["bookings"].cutoff == dt.date(2030, 6, 1) - dt.timedelta(days=3 * 365)
    assert _snapshot(demo_db) == before


def test_applying_empties_and_de_identifies_but_every_count_stays(demo_db, later):
    leaver = _leaver(demo_db)
    later()
    name = leaver.display_name
    full = {r[0] for r in demo_db.execute("SELECT phone FROM bookings")}
    raised = demo_db.execute(
        "SELECT id, content, raiser_name FROM cases WHERE raised_by IS NOT NULL AND state = 'closed' LIMIT 1"
    ).fetchone()
    counts = _counts(demo_db)
    outcomes = retention.run(demo_db, apply=True)
    assert not [o for o in outcomes if o.error]
    assert _counts(demo_db) == counts
    # bookings: no telephone number, description or cancellation reason left; the matter stays
    left = demo_db.execute("SELECT phone, description, cancel_reason, subject FROM bookings").fetchall()
    assert all(r[0] == r[1] == r[2] == "" and r[3] for r in left)
    assert not full & {r[0] for r in left}
    assert demo_db.execute("SELECT count(*) FROM waitlist WHERE phone != ''").fetchone()[0] == 0
    # cases: the raiser detached, his name gone from the question, the case itself still there
    case = demo_db.execute(
        "SELECT raised_by, raiser_name, content, state FROM cases WHERE id = ?", [raised[0]]
    )
    raised_by, raiser_name, content, state = case.fetchone()
    assert raised_by is None and raiser_name == "" and raised[2] in raised[1] and raised[2] not in content
    assert state == "closed" and "反映" in content
    # the account of the person who left: nothing that names him
    gone = accounts.get_user(demo_db, leaver.id)
    assert (
        gone.username.startswith(retention.ACCOUNT_PREFIX) and gone.display_name == retention.ANONYMOUS_USER
    )
    assert not gone.roles and accounts.find_user(demo_db, "2023000016") is None
    person = demo_db.execute(
        "SELECT name, staff_no, phone FROM people WHERE id = ?", [leaver.person_id]
    ).fetchone()
    assert person[0] == retention.ANONYMOUS_PERSON and person[1] != "2023000016" and person[2] == ""
    assert name not in str(
        demo_db.execute("SELECT * FROM people WHERE id = ?", [leaver.person_id]).fetchall()
    )
    # audited, one entry per rule that changed something, named as the command line's
    details = [e.detail for e in audit.search(demo_db, category="retention.").entries]
    assert any(d.startswith("接待日预约和候补的个人信息") for d in details)
    assert any(d.startswith("离校离职人员的账号：1 条") for d in details)
    # a second run finds nothing more to do
    again = {o.rule.key: o.count for o in retention.run(demo_db, apply=True)}
    assert again["bookings"] == again["cases"] == again["accounts"] == 0


def test_a_cadre_who_left_keeps_his_name_on_the_records_that_count_him(demo_db, later):
    cadre = accounts.find_user(demo_db, "10010001")
    accounts.set_active(demo_db, cadre.id, False, None)
    later()
    retention.run(demo_db, apply=True)
    person = demo_db.execute(
        "SELECT name, staff_no, phone FROM people WHERE id = ?", [cadre.person_id]
    ).fetchone()
    assert person[0] == cadre.display_name and person[1] == "10010001" and person[2] == ""
    assert accounts.get_user(demo_db, cadre.id).username.startswith(retention.ACCOUNT_PREFIX)


def test_nothing_is_touched_before_its_time(demo_db):
    """On the demo's own day everything is young: the rules find nothing (sessions and forms aside)."""
    _leaver(demo_db)  # disabled today: kept two years
    outcomes = {o.rule.key: o.count for o in retention.run(demo_db, apply=True)}
    assert outcomes["bookings"] == outcomes["cases"] == outcomes["accounts"] == 0


def test_the_command_line_runs_a_dry_run_unless_told_to_apply(demo_db, later):
    _leaver(demo_db)
    later()
    before = _snapshot(demo_db)
    runner = CliRunner()
    dry = runner.invoke(cli.cli, ["purge"])
    assert dry.exit_code == 0, dry.output
    assert "演练" in dry.output and "离校离职人员的账号" in dry.output and "将处理" in dry.output
    assert _snapshot(demo_db)[:-1] == before[:-1]  # only the job's own run was noted
    done = runner.invoke(cli.cli, ["purge", "--apply"])
    assert done.exit_code == 0, done.output
    assert "已处理" in done.output and "已记入操作日志" in done.output
    entry = audit.search(demo_db, category="retention.").entries[0]
    assert entry.actor.startswith("命令行")
    assert dates.today() == dt.date(2030, 6, 1)


def test_failed_login_counts_are_purged_after_their_period(demo_db, monkeypatch):
    """login_attempts holds every name typed at a failed login — a real account's, a mistyped one, an
    e-mail address, often a password typed into the 账号 box — and kept it for ever. It now notes when
    the last attempt was, and ``portal purge`` deletes a count older than its period (a lock still in
    force stays)."""
    from portal.errors import AuthError

    monkeypatch.setenv("PORTAL_TODAY", "2026-11-24T09:00:00")
    for typed in ("2023000016", "zhangsan@example.edu.cn", "MyPassw0rd!"):
        with pytest.raises(AuthError):
            accounts.authenticate(demo_db, typed, "wrong-password-1")
    held = {r[0] for r in demo_db.execute("SELECT username FROM login_attempts")}
    assert {"2023000016", "zhangsan@example.edu.cn", "MyPassw0rd!"} <= held
    monkeypatch.setenv("PORTAL_TODAY", "2026-12-10T09:00:00")  # a fresh failure, within the period
    with pytest.raises(AuthError):
        accounts.authenticate(demo_db, "2023000017", "wrong-password-1")
    monkeypatch.setenv("PORTAL_TODAY", "2027-01-05T09:00:00")
    outcomes = {o.rule.key: o for o in retention.run(demo_db, apply=True)}
    assert outcomes["login_attempts"].count == 3
    assert {r[0] for r in demo_db.execute("SELECT username FROM login_attempts")} == {"2023000017"}
    # the counts per client address go with their names
    assert {r[0] for r in demo_db.execute("SELECT username FROM login_attempts_by_address")} == {"2023000017"}


def test_answers_ratings_and_notes_lose_the_raisers_identity_with_the_case(demo_db, later):
    """The answers, the raiser's rating comment, 回访 and 内部备注 are append-only, but they name the
    raiser as often as the question does ("张三同学：…", his telephone number): past the cases' period
    they are de-identified with it. Their number and shape stay (who answered when, every rating)."""
    raiser = accounts.find_user(demo_db, "2023000010")
    phone = demo_db.execute("SELECT phone FROM people WHERE id = ?", [raiser.person_id]).fetchone()[0]
    assert phone  # the demo's students have telephone numbers
    dangban = accounts.find_user(demo_db, "dangban")
    made = case_opening.open_case(
        demo_db,
        source="other",
        content=f"{raiser.display_name}反映：宿舍热水不稳定。",
        responsible_dept="党办",
        contact_date=dt.date(2026, 11, 20),
        raised_by=raiser.id,
        raiser_name=raiser.display_name,
    )
    case_notes.add_note(demo_db, made.id, f"已电话联系{raiser.display_name}（{phone}）核实。", dangban)
    case_actions.answer(
        demo_db, made.id, f"{raiser.display_name}同学：热水已修复，如有问题请回电 {phone}。", dangban
    )
    ratings.rate(demo_db, made.id, "satisfied", raiser, f"谢谢，我是{raiser.display_name}，电话{phone}")
    texts = """SELECT (SELECT group_concat(body, '|') FROM case_answers WHERE case_id = :c),
                      (SELECT answer FROM cases WHERE id = :c),
                      (SELECT group_concat(comment, '|') FROM case_ratings WHERE case_id = :c),
                      (SELECT group_concat(note, '|') FROM case_events WHERE case_id = :c)"""
    before = demo_db.execute(texts, {"c": made.id}).fetchone()
    assert all(raiser.display_name in t for t in before) and phone in before[0]
    shape = "SELECT count(*), min(at), max(at) FROM {} WHERE case_id = ?"
    tables = ("case_answers", "case_ratings", "case_events")
    sizes = [demo_db.execute(shape.format(t), [made.id]).fetchone() for t in tables]
    later()
    assert not [o for o in retention.run(demo_db, apply=True) if o.error]
    after = demo_db.execute(texts, {"c": made.id}).fetchone()
    for text in after:
        assert raiser.display_name not in text and phone not in text, text
    assert "热水已修复" in after[0] and "热水已修复" in after[1]  # the answer itself stays
    assert [demo_db.execute(shape.format(t), [made.id]).fetchone() for t in tables] == sizes
    # append-only still, outside the retention's own pass
    for table, column in (("case_answers", "body"), ("case_ratings", "comment"), ("case_events", "note")):
        with pytest.raises(sqlite3.IntegrityError):
            demo_db.execute(f"UPDATE {table} SET {column} = 'x' WHERE case_id = ?", [made.id])
        with pytest.raises(sqlite3.IntegrityError):
            demo_db.execute(f"UPDATE {table} SET at = '2020-01-01' WHERE case_id = ?", [made.id])
