"""合并 (issue 20 item 3): a duplicate case merged into another is handled once; the raiser of each is
answered, and both numbers still lead to the case (its link, the search)."""

from __future__ import annotations

import datetime as dt

import pytest

from portal import (
    accounts,
    answer_templates,
    case_actions,
    case_merge,
    case_opening,
    cases,
    ratings,
    scrub,
    search,
)
from portal.accounts import Role
from portal.errors import Conflict, NotFound, ValidationError
from portal.notify import outbox
from portal.phone import mask as phone_mask

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
    return case_opening.open_case(
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
    case_actions.refer(db, lead.id, unit[0], clerk)
    followed = cases.get_case(db, dup.id, people["second"])
    assert (followed.state, followed.handling_unit_id) == ("referred", unit[0])  # its raiser sees it move
    case_actions.answer(db, lead.id, "已更换热水器", clerk)
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
    case_actions.answer(db, lead.id, "已报修，本周修好", clerk)
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
    case_actions.answer(db, lead.id, "已要求食堂少放盐", clerk)
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
    case_actions.answer(db, dup.id, "已修复", clerk)
    with pytest.raises(Conflict):
        case_merge.merge(db, dup.id, lead.number, clerk)  # answered already: nothing left to merge
    third = _raised(db, people, "second", "宿舍网络又断了")
    case_merge.merge(db, third.id, lead.number, clerk)
    fourth = _raised(db, people, "first", "宿舍网络慢")
    with pytest.raises(Conflict, match=lead.number):
        case_merge.merge(db, fourth.id, third.number, clerk)  # into a duplicate: go to its case
    case_merge.unmerge(db, third.id, clerk, "不是同一栋楼")
    assert cases.get_case(db, third.id, clerk).merged_into is None


def test_cases_merged_into_a_duplicate_are_answered_with_it_when_it_goes_into_an_answered_case(db, people):
    """C went into B, then B into A, already answered: C's raiser is answered too. C was left 已登记,
    merged into an answered case (so off every list) and never answered."""
    clerk = people["dangban"]
    lead = _raised(db, people, "first", "三号楼电梯停运")
    middle = _raised(db, people, "second", "三号楼电梯不能用")
    last = _raised(db, people, "second", "三号楼电梯又坏了")
    case_merge.merge(db, last.id, middle.number, clerk)
    case_actions.answer(db, lead.id, "电梯已修复", clerk)
    case_merge.merge(db, middle.id, lead.number, clerk)
    for case in (middle, last):
        seen = cases.get_case(db, case.id, people["second"])
        assert (seen.state, seen.answer, seen.merged_into) == ("answered", "电梯已修复", lead.id)
    assert _answers_to(db, people["second"]) == 2  # one message for each of the cases he raised
    assert [c.number for c in case_merge.merged_cases(db, lead.id, clerk)] == [middle.number, last.number]


def test_cases_merged_into_a_duplicate_follow_the_open_case_it_goes_into(db, people):
    clerk = people["dangban"]
    admin = accounts.create_user(db, "root", "root", "Passw0rd!x", [Role(role="admin")])
    lead = _raised(db, people, "first", "辅导员不回消息", dept="学工部")
    unit = db.execute("INSERT INTO units (name, kind) VALUES ('学生工作处', 'department')").lastrowid
    case_actions.refer(db, lead.id, unit, people["xuegong"])
    middle = _raised(db, people, "second", "辅导员联系不上")
    last = _raised(db, people, "second", "找不到辅导员")
    case_merge.merge(db, last.id, middle.number, clerk)
    case_merge.merge(db, middle.id, lead.number, admin)  # across departments: an administrator
    for case in (middle, last):
        seen = cases.get_case(db, case.id, admin)
        assert (seen.state, seen.responsible_dept, seen.handling_unit_id) == ("referred", "学工部", unit)
    case_actions.answer(db, lead.id, "已提醒辅导员及时回复", people["xuegong"])
    assert cases.get_case(db, last.id, people["second"]).state == "answered"


def test_a_duplicates_raiser_reads_the_answer_with_his_own_number_and_name(db, people):
    """An answer written for the case it went into (a 常用答复 with {编号} and {提出人}, or typed) names
    that case's raiser: the duplicate's raiser gets it with his own number and name, never another's."""
    clerk = people["dangban"]
    lead = _raised(db, people, "first", "洗衣机坏了")
    dup = _raised(db, people, "second", "洗衣房机器不转")
    case_merge.merge(db, dup.id, lead.number, clerk)
    template = answer_templates.save_template(
        db, clerk, "党办", "已报修", "{提出人}同学：您好！您反映的问题（{编号}）已报修。"
    )
    text = answer_templates.fill(template, cases.get_case(db, lead.id, clerk))
    case_actions.answer(db, lead.id, text + "如有问题请联系first。", clerk)
    mine = cases.get_case(db, dup.id, people["second"])
    expected = f"second同学：您好！您反映的问题（{dup.number}）已报修。如有问题请联系second。"
    assert mine.answer == expected
    assert [a.body for a in cases.answers(db, dup.id, people["second"])] == [expected]
    assert "first" not in mine.answer and lead.number not in mine.answer
    # merged into a case answered already: the same
    late = _raised(db, people, "second", "洗衣机还是坏的")
    case_merge.merge(db, late.id, lead.number, clerk)
    assert cases.get_case(db, late.id, people["second"]).answer.startswith(
        f"second同学：您好！您反映的问题（{late.number}）"
    )


def test_who_does_not_handle_the_case_reads_no_duplicates_raiser_or_words_in_its_history(db, people):
    """The case's history says what went into it; the duplicate's raiser and words are for those who
    handle it (they see the duplicate itself), not for a supervising department or the case's cadre,
    who may not open the duplicate."""
    clerk = people["dangban"]
    lead = _raised(db, people, "first", "实验室通风橱不工作")
    dup = _raised(db, people, "second", "化学楼通风橱坏了，身体不适")
    db.execute("UPDATE cases SET supervisor = '学工部' WHERE id = ?", [lead.id])  # 学工部 supervises it
    case_merge.merge(db, dup.id, lead.number, clerk, "同一台通风橱")
    handled = next(e.note for e in cases.events(db, lead.id, clerk) if e.action == "merged_with")
    assert "second" in handled and "身体不适" in handled  # the department's own record keeps them
    with pytest.raises(NotFound):
        cases.get_case(db, dup.id, people["xuegong"])
    seen = next(e.note for e in cases.events(db, lead.id, people["xuegong"]) if e.action == "merged_with")
    assert seen == f"合并 {dup.number}"


def test_a_duplicate_merged_into_a_referred_case_is_referred_with_it_for_the_response_rate(
    db, people, monkeypatch
):
    """按期响应率 counts a referral, a progress note or the answer (docs/rules.md). A duplicate merged into
    a case already referred is referred to that unit at the merge, as one merged before the referral is
    when the case is referred; it counted as never responded to until the late answer."""
    from portal import kpis

    def on(day: str) -> None:
        monkeypatch.setenv("PORTAL_TODAY", f"{day}T10:00:00")

    clerk = people["dangban"]
    unit = db.execute("INSERT INTO units (name, kind) VALUES ('后勤处', 'department')").lastrowid
    on("2026-11-02")
    lead = case_opening.open_case(
        db, source="reception", content="浴室漏水", responsible_dept="党办", contact_date=dt.date(2026, 11, 2)
    )
    on("2026-11-03")
    case_actions.refer(db, lead.id, unit, clerk)
    dup = case_opening.open_case(
        db,
        source="reception",
        content="浴室地面积水",
        responsible_dept="党办",
        contact_date=dt.date(2026, 11, 3),
    )
    on("2026-11-04")
    merged = case_merge.merge(db, dup.id, lead.number, clerk)
    assert (merged.state, merged.handling_unit_id) == ("referred", unit)
    assert "转办" in [e.action_label for e in cases.events(db, dup.id, clerk)]
    on("2026-11-20")
    case_actions.answer(db, lead.id, "已修好", clerk)
    report = kpis.compute(db, since=dt.date(2026, 11, 1), until=dt.date(2026, 11, 30))
    assert report.row("党办").rate("respond").text == "100.0%（2/2）"


def test_a_duplicates_raiser_never_reads_the_other_raisers_number_or_telephone(demo_db):
    """The answer a clerk writes to the case a duplicate went into often names its raiser's 学号 and
    telephone number (已电话联系您 139…), as it names him or her: the duplicate's raiser gets his own,
    never the other's; the department's own telephone number stays for both."""
    clerk = accounts.find_user(demo_db, "dangban")
    first, second = (accounts.find_user(demo_db, n) for n in ("2023000016", "2023000001"))
    people = {
        u.id: demo_db.execute(
            "SELECT name, staff_no, phone FROM people WHERE id = ?", [u.person_id]
        ).fetchone()
        for u in (first, second)
    }
    (name, staff_no, phone), (_, own_no, own_phone) = people[first.id], people[second.id]
    assert phone and own_phone and phone != own_phone

    lead = _raised_by(demo_db, first, name, "东区浴室热水时有时无")
    dup = _raised_by(demo_db, second, people[second.id][0], "东区浴室没有热水")
    case_merge.merge(demo_db, dup.id, lead.number, clerk)
    spaced = f"{phone[:3]} {phone[3:7]} {phone[7:]}"
    case_actions.answer(
        demo_db,
        lead.id,
        f"{name}同学（学号{staff_no}）：已电话联系您（{phone}，{spaced}），热水已修复。"
        "如仍有问题请联系后勤处 0391-3987654。",
        clerk,
    )
    theirs = cases.get_case(demo_db, dup.id, second).answer
    assert staff_no not in theirs and phone not in theirs and phone[7:] not in theirs, theirs
    assert own_no in theirs and phone_mask(own_phone) in theirs  # his own, as his name is (masked)
    assert own_phone not in theirs  # the answer is read by more than him: no whole number is added
    assert "0391-3987654" in theirs


def test_a_duplicates_raiser_is_not_greeted_by_the_other_raisers_surname(demo_db):
    """Clerks greet a raiser by surname or given name and a title (易同学：…, 杰丽同学): the duplicate's
    raiser is greeted by his own surname, never the other's; a member of staff the answer names
    (已请易老师联系您) stays who he is."""
    clerk = accounts.find_user(demo_db, "dangban")
    first, second = (accounts.find_user(demo_db, n) for n in ("2023000016", "2023000001"))
    name, own = (
        demo_db.execute("SELECT name FROM people WHERE id = ?", [u.person_id]).fetchone()[0]
        for u in (first, second)
    )
    surname, given = scrub.split_name(name)
    own_surname, _ = scrub.split_name(own)
    assert surname != own_surname and len(given) >= 2

    lead, dup = (
        _raised_by(demo_db, first, name, "图书馆空调不制冷"),
        _raised_by(demo_db, second, own, "图书馆太热"),
    )
    case_merge.merge(demo_db, dup.id, lead.number, clerk)
    case_actions.answer(
        demo_db,
        lead.id,
        f"{surname}同学：您好！{given}同学反映的问题已转后勤处，已请{surname}老师联系您。",
        clerk,
    )
    theirs = cases.get_case(demo_db, dup.id, second).answer
    assert f"{surname}同学" not in theirs and f"{given}同学" not in theirs, theirs
    assert theirs.startswith(f"{own_surname}同学：") and f"已请{surname}老师联系您" in theirs
    assert cases.get_case(demo_db, lead.id, first).answer.startswith(
        f"{surname}同学："
    )  # his own, as written


def _raised_by(db, user, name: str, content: str):
    """A case of 党办 raised at the reception by ``user`` (named ``name``)."""
    return case_opening.open_case(
        db,
        source="reception",
        content=content,
        responsible_dept="党办",
        contact_date=DAY,
        raised_by=user.id,
        raiser_name=name,
    )
