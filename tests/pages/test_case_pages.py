"""Pages of the cases feature through AppTest: a department answers a case; the visitor who
raised it reads the answer under 我的诉求 and is not satisfied; a cadre reads cases read-only."""

from __future__ import annotations

import pytest

from portal import accounts, case_actions, case_opening, cases, states
from portal.demo import DEPARTMENT_ACCOUNTS
from tests.conftest import goto, login, texts

# 1,641 characters, its end different from its beginning (issue 19 item 13: the end was lost)
LONG_ANSWER = "经调查核实，" + "食堂晚餐供应时间将延长，" * 135 + "最后：自十二月一日起执行。"


@pytest.fixture
def visitor_case(demo_db):
    """An open case of 党办 raised by a visitor at a reception, as the reception feature opens it."""
    visitor = accounts.find_user(demo_db, "30000001")
    leader = demo_db.execute("SELECT id FROM people WHERE staff_no = '10000001'").fetchone()[0]
    case = case_opening.open_case(
        demo_db,
        source="reception",
        content="图书馆自习室晚上十点关门太早",
        responsible_dept="党办",
        contact_date=cases.dates.today(),
        cadre_id=leader,
        system="接待日",
        raised_by=visitor.id,
        raiser_name=visitor.display_name,
    )
    return case, visitor


def test_a_department_answers_a_case(demo_db, visitor_case):
    case, _ = visitor_case
    at = login(DEPARTMENT_ACCOUNTS["党办"])
    goto(at, "pages/cases.py").run()
    assert not at.exception, at.exception
    assert "意见建议办理" in texts(at)
    box = at.selectbox(key="c_case")
    assert any(o.startswith(case.number) for o in box.options)
    box.set_value(case.id).run()
    assert "图书馆自习室晚上十点关门太早" in texts(at)
    at.text_area(key=f"answer_{case.id}").input("自下周起自习室延长到二十二点三十分")
    at.button(key=f"answer_btn_{case.id}").click().run()
    assert not at.exception, at.exception
    assert f"{case.number} 已答复" in texts(at)
    stored = cases.get_case(demo_db, case.id, accounts.find_user(demo_db, "admin"))
    assert stored.state == "answered" and stored.answer == "自下周起自习室延长到二十二点三十分"


def test_another_department_does_not_see_the_case(demo_db, visitor_case):
    case, _ = visitor_case
    at = login(DEPARTMENT_ACCOUNTS["组织部"])
    goto(at, "pages/cases.py").run()
    assert not at.exception, at.exception
    options = at.selectbox(key="c_case").options if "c_case" in [s.key for s in at.selectbox] else []
    assert not any(o.startswith(case.number) for o in options)


def test_the_visitor_reads_the_answer_and_is_not_satisfied(demo_db, visitor_case):
    case, visitor = visitor_case
    case_actions.answer(
        demo_db, case.id, "自下周起自习室延长到二十二点三十分", accounts.find_user(demo_db, "dangban")
    )
    assert case.id in [c.id for c in cases.unread_answers(demo_db, visitor)]
    at = login(visitor.username)
    goto(at, "pages/my_cases.py").run()
    assert not at.exception, at.exception
    assert "1 件诉求收到了新的答复" in texts(at)
    assert not at.dataframe  # cards, not a table clipped at phone width
    numbers = [m.value for m in at.markdown if m.value.startswith("**") and "-" in m.value]
    assert numbers[0].replace("\\", "") == f"**{case.number}**"  # unread answers first
    page = texts(at)
    assert "自下周起自习室延长到二十二点三十分" in page and "图书馆自习室晚上十点关门太早" in page
    assert case.id not in [c.id for c in cases.unread_answers(demo_db, visitor)]  # read now
    at.radio(key=f"rating_{case.id}").set_value("unsatisfied")
    at.text_area(key=f"rating_comment_{case.id}").input("周末也需要延长")
    at.button(key=f"rate_btn_{case.id}").click().run()
    assert not at.exception, at.exception
    assert "已退回党办重新办理" in texts(at)
    assert cases.get_case(demo_db, case.id, visitor).state == "in_progress"


def test_a_cadre_reads_cases_of_his_contacts_without_actions(demo_db, visitor_case):
    case, _ = visitor_case
    at = login("10000001")
    goto(at, "pages/cases.py").run()
    assert not at.exception, at.exception
    assert "只读" in texts(at)
    box = at.selectbox(key="c_case")
    assert any(o.startswith(case.number) for o in box.options)
    box.set_value(case.id).run()
    assert not [b for b in at.button if b.key and b.key.startswith("answer_btn_")]


def test_a_visitor_cannot_open_the_department_page(demo_db):
    at = login("30000001")
    with pytest.raises(ValueError):
        goto(at, "pages/cases.py").run()


def test_a_department_opens_its_ledger(demo_db):
    at = login(DEPARTMENT_ACCOUNTS["教务处"])
    goto(at, "pages/ledger.py").run()
    assert not at.exception, at.exception
    page = texts(at)
    assert "教务处负责的制度：讲思政课、听课" in page
    assert [t.label for t in at.tabs] == [
        "学校层面制度落实",
        "汇总",
        "意见建议办理（三率）",
        "讲思政课",
        "听课",
    ]
    assert at.selectbox(key="l_dept").options == ["教务处"]


def test_the_organisation_department_opens_the_assessment(demo_db):
    at = login(DEPARTMENT_ACCOUNTS["组织部"])
    goto(at, "pages/assessment.py").run()
    assert not at.exception, at.exception
    assert [m.label for m in at.metric][:2] == ["参加考核干部", "考核项"]
    assert int(at.metric[0].value) > 200  # the demo's cadres
    assert [t.label for t in at.tabs] == ["热力图", "单位排名", "干部排名", "意见建议办理"]
    other = login(DEPARTMENT_ACCOUNTS["教务处"])
    with pytest.raises(ValueError):
        goto(other, "pages/assessment.py").run()


def test_after_answering_the_page_stays_on_the_case_just_answered(demo_db, visitor_case):
    case, _ = visitor_case
    at = login(DEPARTMENT_ACCOUNTS["党办"])
    goto(at, "pages/cases.py").run()
    box = at.selectbox(key="c_case")
    assert len(box.options) > 1 and box.value != case.id  # answering it would jump to another
    box.set_value(case.id).run()
    at.text_area(key=f"answer_{case.id}").input("自下周起自习室延长到二十二点三十分")
    at.button(key=f"answer_btn_{case.id}").click().run()
    assert not at.exception, at.exception
    assert at.selectbox(key="c_case").value == case.id
    assert at.subheader[0].value == f"{case.number}　{states.CASE_STATE_LABELS['answered']}"
    assert "自下周起自习室延长到二十二点三十分" in texts(at)
    at.run()  # and it stays there on the next rerun
    assert at.selectbox(key="c_case").value == case.id


def test_answering_the_last_case_in_the_filter_keeps_it_on_screen(demo_db):
    unit = demo_db.execute(
        "SELECT id FROM units WHERE id NOT IN (SELECT handling_unit_id FROM cases WHERE handling_unit_id "
        "IS NOT NULL) ORDER BY id LIMIT 1"
    ).fetchone()[0]
    leader = demo_db.execute("SELECT id FROM people WHERE staff_no = '10000001'").fetchone()[0]
    case = case_opening.open_case(
        demo_db,
        source="symposium",
        content="实验室夜间门禁太早",
        responsible_dept="学工部",
        contact_date=cases.dates.today(),
        cadre_id=leader,
        system="座谈",
        handling_unit_id=unit,
    )
    at = login(DEPARTMENT_ACCOUNTS["学工部"])
    goto(at, "pages/cases.py").run()
    at.selectbox(key="c_unit").set_value(unit).run()
    assert len(at.selectbox(key="c_case").options) == 1  # the only open case of that unit
    at.selectbox(key="c_case").set_value(case.id).run()
    at.text_area(key=f"answer_{case.id}").input("门禁延长到二十三点")
    at.button(key=f"answer_btn_{case.id}").click().run()
    assert not at.exception, at.exception
    assert at.subheader[0].value == f"{case.number}　{states.CASE_STATE_LABELS['answered']}"


def test_the_raiser_and_the_department_see_every_answer_in_order(demo_db):
    clerk = accounts.find_user(demo_db, "dangban")
    visitor = accounts.find_user(demo_db, "30000001")
    case = case_opening.open_case(
        demo_db,
        source="reception",
        content="图书馆自习室晚上十点关门太早",
        responsible_dept="党办",
        contact_date=cases.dates.today(),
        raised_by=visitor.id,
    )
    case_actions.answer(demo_db, case.id, LONG_ANSWER, clerk)
    case_actions.reopen(demo_db, case.id, "提出人电话反映仍未落实", clerk)
    case_actions.answer(demo_db, case.id, "第二次答复：周末也延长。", clerk)

    at = login("30000001")
    at.query_params["no"] = case.number
    goto(at, "pages/my_cases.py").run()
    assert not at.exception, at.exception
    page = texts(at)
    assert LONG_ANSWER in page and "第二次答复：周末也延长。" in page
    assert page.index("第 1 次答复") < page.index("第 2 次答复")

    at = login("dangban")
    at.query_params["no"] = case.number
    goto(at, "pages/cases.py").run()
    assert not at.exception, at.exception
    page = texts(at)
    assert LONG_ANSWER in page and "第二次答复：周末也延长。" in page
    assert page.index("第 1 次答复") < page.index("第 2 次答复")
