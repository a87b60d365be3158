"""答复公开 through the pages (issue 21 item 10): a consent box of its own on the booking form, never
ticked in advance; consent given and withdrawn on 我的诉求; 党办 edits the scrubbed draft and publishes;
everyone reads and searches; a withdrawal takes the answer down at once."""

from __future__ import annotations

import datetime as dt

from portal import accounts, publication, reception
from tests.conftest import goto, login, texts
from tests.pages.test_reception_pages import NEXT, fill, on_day, open_booking, slot_button, submit


def _consent_box(at):
    return next(c for c in at.checkbox if c.key == "publish_consent")


def test_the_booking_form_asks_for_consent_separately_and_never_ticks_it(demo_db):
    at = open_booking("2023000002")
    free = next(s.slot for s in reception.slots(demo_db, dt.date.fromisoformat(NEXT)) if s.free)
    slot_button(at, free).click().run()
    box = _consent_box(at)
    assert box.value is False and "隐去" in box.label and "可随时撤回" in box.label
    box.check()
    fill(at)
    submit(at, "提交预约")
    at.run()
    made = on_day(demo_db, "2023000002")
    assert len(made) == 1 and publication.booking_consent(demo_db, made[0].id)
    # the next booking form starts unticked again
    other = open_booking("2023000003")
    slot_button(
        other, next(s.slot for s in reception.slots(demo_db, dt.date.fromisoformat(NEXT)) if s.free)
    ).click().run()
    assert _consent_box(other).value is False
    fill(other)
    submit(other, "提交预约")
    other.run()
    second = on_day(demo_db, "2023000003")
    assert len(second) == 1 and not publication.booking_consent(demo_db, second[0].id)


def _a_raised_case(db) -> tuple[int, str, str]:
    row = db.execute(
        "SELECT c.id, c.number, u.username FROM cases c JOIN users u ON u.id = c.raised_by "
        "WHERE c.state IN ('answered', 'closed') "
        "AND NOT EXISTS (SELECT 1 FROM publish_consents pc WHERE pc.case_id = c.id OR pc.booking_id = c.booking_id) "
        "ORDER BY c.id LIMIT 1"
    ).fetchone()
    return row[0], row[1], row[2]


def test_consent_on_my_cases_then_dangban_publishes_and_everyone_reads_until_it_is_withdrawn(demo_db):
    case_id, number, raiser = _a_raised_case(demo_db)
    raiser_name = accounts.find_user(demo_db, raiser).display_name
    mine = goto(login(raiser), "pages/my_cases.py").run()
    box = mine.checkbox(key=f"consent_case_{case_id}")
    assert box.value is False
    box.check().run()
    assert not mine.exception, mine.exception
    assert publication.consents(demo_db, [case_id])[case_id]

    office = goto(login("dangban"), "pages/answers.py").run()
    assert "选择公开" in texts(office)
    office.selectbox(key="publish_case").select(case_id).run()
    assert not office.exception, office.exception
    question = office.text_area(key=f"pub_q_{case_id}")
    assert raiser_name not in question.value and "某某" in question.value
    question.input(question.value + "（经核实）")
    next(b for b in office.button if b.label == "公开").click().run()
    said = texts(office)
    office.run()  # st.rerun, when AppTest has not followed it
    said += texts(office)
    assert not office.exception, office.exception
    assert f"{number} 的答复已公开" in said

    reader = goto(login("2023000001"), "pages/answers.py").run()
    shown = texts(reader)
    assert "（经核实）" in shown and raiser_name not in shown
    assert "选择公开" not in shown  # a student reads, never publishes
    reader.text_input(key="answers_query").input("经核实").run()
    assert "共 1 条" in texts(reader) and "（经核实）" in texts(reader)
    reader.text_input(key="answers_query").input("没有这样的内容").run()
    assert "没有找到公开的答复" in texts(reader)

    mine.run()
    assert "已在“答复公开”栏目公开" in texts(mine)
    mine.checkbox(key=f"consent_case_{case_id}").uncheck().run()
    said = texts(mine)
    mine.run()
    assert "已公开的内容已撤下" in said + texts(mine)
    reader = goto(login("2023000001"), "pages/answers.py").run()
    assert "（经核实）" not in texts(reader)
    reader.text_input(key="answers_query").input("经核实").run()
    assert "没有找到公开的答复" in texts(reader)


def test_a_consent_withdrawn_in_another_tab_is_not_given_again_by_this_one(demo_db):
    """PIPL Art. 25: a consent is the person's own act. A tab of 我的诉求 left open with the box ticked
    took its stale tick for a new word on its next run: a consent withdrawn in another tab was given
    again, unasked (and the other way round, a consent given elsewhere withdrawn, its answer taken down)."""
    case_id, number, raiser = _a_raised_case(demo_db)
    person = accounts.find_user(demo_db, raiser)
    tab = goto(login(raiser), "pages/my_cases.py").run()
    tab.checkbox(key=f"consent_case_{case_id}").check().run()
    assert publication.consents(demo_db, [case_id])[case_id]
    publication.record_consent(demo_db, person, given=False, case_id=case_id)  # the other tab
    tab.run()  # anything done in this tab: a rerun
    assert not tab.exception, tab.exception
    assert not publication.consents(demo_db, [case_id])[case_id]
    assert tab.checkbox(key=f"consent_case_{case_id}").value is False  # the box shows the word in force
    publication.record_consent(demo_db, person, given=True, case_id=case_id)  # given in the other tab
    tab.run()
    assert publication.consents(demo_db, [case_id])[case_id]
    assert tab.checkbox(key=f"consent_case_{case_id}").value is True
    words = demo_db.execute(
        "SELECT given FROM publish_consents WHERE case_id = ? ORDER BY id", [case_id]
    ).fetchall()
    assert [w[0] for w in words] == [1, 0, 1]  # the three acts, none added by the stale tab
    tab.checkbox(key=f"consent_case_{case_id}").uncheck().run()  # and a tap still counts
    assert not publication.consents(demo_db, [case_id])[case_id]
