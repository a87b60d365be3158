"""合并 (issue 20 item 3): a duplicate case merged into another is handled once; the raiser of each is
answered, and both numbers still lead to the case (its link, the search)."""

from __future__ import annotations

import datetime as dt

import pytest

from portal import accounts, case_merge, cases, ratings, search
from portal.accounts import Role
from portal.errors import Conflict, NotFound, ValidationError
from portal.notify import outbox

DAY = dt.date(2026, 11, 18)


@pytest.fixture
def people(db, monkeypatch):
    monkeypatch.setenv("PORTAL_NOTIFY_DEFAULT_CHANNEL", "email")

    def user(name, roles, email=""):
        made = accounts.create_user(db, name, name, "Passw0rd!x", [Role(**r) for r in roles])
        if email:
            outbox.save_prefs(db, made.id, outbox.Prefs(channel="email", email=email))
        return made

    return {
        "dangban": user("dangban", [{"role": "department", "department": "党办"}]),
        "xuegong": user("xuegong", [{"role": "department", "department": "学工部"}]),
        "first": user("first", [{"role": "visitor"}], "first@example.edu.cn"),
        "second": user("second", [{"role": "visitor"}], "second@example.edu.cn"),
    }


def _raised(db, people, who: str, content: str, dept: str = "党办"):
    return cases.open_case(
        db,
        source="reception",
        content=content,
        responsible_dept=dept,
        contact_date=DAY,
        raised_by=people[who].id,
        raiser_name=who,
    )


def _answers_to(db, user) -> int:
    return db.execute(
        "SELECT count(*) FROM notify_outbox WHERE event = 'case.answered' AND user_id = ?", [user.id]
    ).fetchone()[0]


def test_a_merged_duplicate_follows_its_case_and_both_raisers_are_answered(db, people):
    clerk = people["dangban"]
    lead = _raised(db, people, "first", "三号楼热水器坏了")
    dup = _raised(db, people, "second", "三号楼没有热水")
    merged = case_merge.merge(db, dup.id, lead.number, clerk, "同一台热水器")
    assert merged.merged_into == lead.id
    # no work of its own: the department's list holds the case it went into, once
    assert [c.number for c in cases.list_cases(db, clerk, states=list(cases.OPEN_STATES))] == [lead.number]
    unit = db.execute("SELECT id FROM units LIMIT 1").fetchone()
    if unit is None:
        unit = [db.execute("INSERT INTO units (name, kind) VALUES ('后勤处', 'department')").lastrowid]
    cases.refer(db, lead.id, unit[0], clerk)
    followed = cases.get_case(db, dup.id, people["second"])
    assert (followed.state, followed.handling_unit_id) == ("referred", unit[0])  # its raiser sees it move
    cases.answer(db, lead.id, "已更换热水器", clerk)
    for case, raiser in ((lead, people["first"]), (dup, people["second"])):
        seen = cases.get_case(db, case.id, raiser)
        assert (seen.state, seen.answer) == ("answered", "已更换热水器")
        assert _answers_to(db, raiser) == 1
        assert [a.body for a in cases.answers(db, case.id, raiser)] == ["已更换热水器"]
    history = [e.action for e in cases.events(db, dup.id, clerk)]
    assert "merged" in history and history[-1] == "answered"
    assert "merged_with" in [e.action for e in cases.events(db, lead.id, clerk)]


def test_both_numbers_stay_findable(db, people):
    clerk = people["dangban"]
    lead = _raised(db, people, "first", "图书馆空调太冷")
    dup = _raised(db, people, "second", "图书馆三楼空调温度过低")
    case_merge.merge(db, dup.id, lead.number, clerk)
    found = cases.find_by_number(db, dup.number, clerk)
    assert case_merge.lead_of(db, found, clerk).number == lead.number
    assert [c.number for c in case_merge.merged_cases(db, lead.id, clerk)] == [dup.number]
    hits = search.search(db, clerk, dup.number).cases
    assert [h.ref for h in hits] == [dup.number]
    assert [h.ref for h in search.search(db, people["second"], "空调").cases] == [dup.number]


def test_merging_into_a_case_already_answered_answers_the_duplicate_at_once(db, people):
    clerk = people["dangban"]
    lead = _raised(db, people, "first", "操场灯不亮")
    cases.answer(db, lead.id, "已报修，本周修好", clerk)
    dup = _raised(db, people, "second", "操场晚上太黑")
    case_merge.merge(db, dup.id, lead.number, clerk)
    seen = cases.get_case(db, dup.id, people["second"])
    assert (seen.state, seen.answer) == ("answered", "已报修，本周修好")
    assert _answers_to(db, people["second"]) == 1


def test_a_duplicate_whose_raiser_is_not_satisfied_is_handled_on_its_own_again(db, people):
    clerk = people["dangban"]
    lead = _raised(db, people, "first", "食堂饭菜太咸")
    dup = _raised(db, people, "second", "二食堂菜太咸")
    case_merge.merge(db, dup.id, lead.number, clerk)
    cases.answer(db, lead.id, "已要求食堂少放盐", clerk)
    ratings.rate(db, dup.id, "unsatisfied", people["second"], "二食堂没有改")
    back = cases.get_case(db, dup.id, clerk)
    assert back.state == "in_progress" and back.merged_into is None
    assert dup.number in [c.number for c in cases.list_cases(db, clerk, states=list(cases.OPEN_STATES))]


def test_what_cannot_be_merged(db, people):
    clerk = people["dangban"]
    lead = _raised(db, people, "first", "宿舍断网")
    dup = _raised(db, people, "second", "宿舍网络中断")
    other = _raised(db, people, "second", "辅导员联系不上", dept="学工部")
    with pytest.raises(ValidationError):
        case_merge.merge(db, lead.id, lead.number, clerk)  # into itself
    with pytest.raises(NotFound):
        case_merge.merge(db, dup.id, other.number, clerk)  # another department's case
    with pytest.raises(NotFound):
        case_merge.merge(db, other.id, lead.number, clerk)
    cases.answer(db, dup.id, "已修复", clerk)
    with pytest.raises(Conflict):
        case_merge.merge(db, dup.id, lead.number, clerk)  # answered already: nothing left to merge
    third = _raised(db, people, "second", "宿舍网络又断了")
    case_merge.merge(db, third.id, lead.number, clerk)
    fourth = _raised(db, people, "first", "宿舍网络慢")
    with pytest.raises(Conflict, match=lead.number):
        case_merge.merge(db, fourth.id, third.number, clerk)  # into a duplicate: go to its case
    case_merge.unmerge(db, third.id, clerk, "不是同一栋楼")
    assert cases.get_case(db, third.id, clerk).merged_into is None
