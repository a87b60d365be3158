"""What messages and 我的账号 say follows the settings and the facts: the quiet hours configured
(not always 22:00–7:30), and no "请于 <a past day> 前答复" for a case handed over after its deadline."""

from __future__ import annotations

import json

from portal import accounts, case_actions, cases, dates
from tests.conftest import goto, login, texts


def test_my_account_shows_the_quiet_hours_in_force(demo_db, monkeypatch):
    at = login("30000001")
    goto(at, "pages/account.py").run()
    assert "每天 22:00 至次日 7:30 只发送紧急消息" in texts(at)
    monkeypatch.setenv("PORTAL_QUIET_HOURS", "23:30-06:45")
    at.run()
    assert "每天 23:30 至次日 6:45 只发送紧急消息" in texts(at) and "22:00" not in texts(at)
    monkeypatch.setenv("PORTAL_QUIET_HOURS", "off")
    at.run()
    assert "只发送紧急消息" not in texts(at)


def test_a_case_handed_over_after_its_deadline_does_not_ask_for_a_past_date(demo_db, monkeypatch):
    monkeypatch.setenv("PORTAL_NOTIFY_DEFAULT_CHANNEL", "email")
    monkeypatch.setenv("PORTAL_NOTIFY_EMAIL_DOMAIN", "hpu.edu.cn")
    admin = accounts.find_user(demo_db, "admin")
    overdue = next(
        c
        for c in cases.list_cases(demo_db, admin, states=list(cases.OPEN_STATES))
        if c.due_date < dates.today()
    )
    target = "校办" if overdue.responsible_dept != "校办" else "党办"
    case_actions.transfer(demo_db, overdue.id, target, admin, "属校办职责")
    payload = demo_db.execute(
        "SELECT payload FROM notify_outbox WHERE event = 'case.assigned' ORDER BY id DESC LIMIT 1"
    ).fetchone()[0]
    text = json.loads(payload)["text"]
    due = dates.format_date(overdue.due_date)
    assert f"请于 {due} 前" not in text
    assert f"答复期限 {due} 已过，请尽快答复" in text
