"""内部备注 (issue 20 item 3): a department's private notes on a case, kept in its history, read by the
departments handling it and administrators only — never by the raiser, the cadre or a supervising
department, in no export, message, API answer or search."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from portal import accounts, case_actions, case_export, case_notes, case_opening, cases, search
from portal.accounts import Role
from portal.errors import PermissionDenied
from portal.notify import outbox

NOTE = "已电话联系后勤处王科长，答应周五前修好（勿告知提出人）"


@pytest.fixture
def setting(db, monkeypatch):
    monkeypatch.setenv("PORTAL_NOTIFY_DEFAULT_CHANNEL", "email")

    def user(name, roles):
        made = accounts.create_user(db, name, name, "Passw0rd!x", [Role(**r) for r in roles])
        outbox.save_prefs(db, made.id, outbox.Prefs(channel="email", email=f"{name}@example.edu.cn"))
        return made

    people = {
        "dangban": user("dangban", [{"role": "department", "department": "党办"}]),
        "xiaoban": user("xiaoban", [{"role": "department", "department": "校办"}]),
        "admin": user("admin", [{"role": "admin"}]),
        "visitor": user("visitor", [{"role": "visitor"}]),
    }
    case = case_opening.open_case(
        db,
        source="reception",
        content="宿舍热水器坏了",
        responsible_dept="党办",
        contact_date=dt.date(2026, 11, 18),
        raised_by=people["visitor"].id,
    )
    db.execute("UPDATE cases SET supervisor = '校办' WHERE id = ?", [case.id])  # 校办 supervises it
    return people, case


def test_a_note_is_kept_in_the_history_for_the_department_and_administrators_only(db, setting):
    people, case = setting
    queued = db.execute("SELECT count(*) FROM notify_outbox").fetchone()[0]
    case_notes.add_note(db, case.id, NOTE, people["dangban"])
    for who in ("dangban", "admin"):
        assert [e.note for e in case_notes.notes(db, case.id, people[who])] == [NOTE]
        assert "内部备注" in [e.action_label for e in cases.events(db, case.id, people[who])]
    for who in ("visitor", "xiaoban"):  # the raiser; a supervising department
        assert case_notes.notes(db, case.id, people[who]) == []
        assert all(NOTE not in e.note for e in cases.events(db, case.id, people[who]))
    assert db.execute("SELECT count(*) FROM notify_outbox").fetchone()[0] == queued  # nobody told
    seen = cases.get_case(db, case.id, people["visitor"])
    assert NOTE not in json.dumps(case_export.export_rows([seen]), ensure_ascii=False)
    assert NOTE not in case_export.to_json([seen])  # what the API's /api/v1/cases serves
    assert search.search(db, people["visitor"], "王科长").cases == []
    assert search.search(db, people["dangban"], "王科长").cases == []  # notes are not indexed at all


def test_only_those_who_handle_the_case_may_note_it(db, setting):
    people, case = setting
    for who in ("visitor", "xiaoban"):
        with pytest.raises((PermissionDenied, cases.NotFound)):
            case_notes.add_note(db, case.id, "随便写写", people[who])
    assert case_notes.notes(db, case.id, people["admin"]) == []


def test_a_closed_case_may_still_be_noted(db, setting):
    people, case = setting
    case_actions.answer(db, case.id, "已维修", people["dangban"])
    case_actions.close(db, case.id, people["dangban"])
    case_notes.add_note(db, case.id, "提出人来电致谢", people["dangban"])
    assert cases.get_case(db, case.id, people["dangban"]).state == "closed"
    assert [e.note for e in case_notes.notes(db, case.id, people["dangban"])] == ["提出人来电致谢"]
