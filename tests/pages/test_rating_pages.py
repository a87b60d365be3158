"""满意度 and 回访 on the pages (issue 21 items 1–2): the raiser rates from the answer's link on 我的诉求 and
reads what happened; the department finds answers awaiting a 回访 (home page, 只看待回访) and records one;
the supervising department sees a case sent to 督办 and adds 督办意见."""

from __future__ import annotations

import pytest

from portal import accounts, case_actions, case_opening, cases, links, ratings
from portal.demo import DEPARTMENT_ACCOUNTS
from tests.conftest import goto, login, texts


def _case(db, *, raised_by=None, dept="党办"):
    return case_opening.open_case(
        db,
        source="reception",
        content="图书馆自习室晚上十点关门太早",
        responsible_dept=dept,
        contact_date=cases.dates.today(),
        raised_by=raised_by,
    )


@pytest.fixture
def clerk(demo_db):
    return accounts.find_user(demo_db, DEPARTMENT_ACCOUNTS["党办"])


def _my_case(username: str, number: str):
    at = login(username)
    at.query_params.update(links.case(number, raiser=True).params)  # the answer message's link
    goto(at, "pages/my_cases.py").run()
    assert not at.exception, at.exception
    return at


def test_the_raiser_rates_from_the_link_once_per_answer(demo_db, clerk):
    visitor = accounts.find_user(demo_db, "30000001")
    case = _case(demo_db, raised_by=visitor.id)
    case_actions.answer(demo_db, case.id, "自下周起延长到二十二点三十分", clerk)
    at = _my_case("30000001", case.number)
    assert "请评价这次答复" in texts(at)
    assert at.radio(key=f"rating_{case.id}").options == ["满意", "基本满意", "不满意"]
    at.button(key=f"rate_btn_{case.id}").click().run()  # nothing chosen
    assert "请选择满意、基本满意或不满意" in [e.value for e in at.error]
    at.radio(key=f"rating_{case.id}").set_value("unsatisfied")
    at.button(key=f"rate_btn_{case.id}").click().run()  # 不满意 without a reason
    assert any("不满意时请填写意见" in e.value for e in at.error)
    at.text_area(key=f"rating_comment_{case.id}").input("周末也需要延长")
    at.button(key=f"rate_btn_{case.id}").click().run()
    assert not at.exception, at.exception
    page = texts(at)
    assert "已退回党办重新办理" in page  # what happened, said at once and kept on the card
    assert "意见：周末也需要延长" in page
    assert not [r for r in at.radio if r.key == f"rating_{case.id}"]  # rated: the form is gone
    assert cases.get_case(demo_db, case.id, visitor).state == "in_progress"

    case_actions.answer(demo_db, case.id, "周末也延长到二十二点三十分", clerk)  # a new answer is rated again
    at = _my_case("30000001", case.number)
    at.radio(key=f"rating_{case.id}").set_value("satisfied")
    at.button(key=f"rate_btn_{case.id}").click().run()
    assert "此件已办结，感谢您的评价" in texts(at)
    assert cases.get_case(demo_db, case.id, visitor).state == "closed"
    assert [r.label for r in ratings.of_case(demo_db, case.id, visitor).values()] == ["不满意", "满意"]


def test_the_department_finds_and_records_a_followup(demo_db, clerk):
    case = _case(demo_db)  # raised by someone without an account: the 回访 is due once answered
    case_actions.answer(demo_db, case.id, "已协调图书馆延长开放时间", clerk)
    at = login(DEPARTMENT_ACCOUNTS["党办"])
    assert "答复后提出人未评价、待回访的意见建议" in texts(at)  # the home page's 待办
    goto(at, "pages/cases.py").run()
    at.checkbox(key="c_followup").check().run()
    assert not at.exception, at.exception
    numbers = [o.split("　")[0] for o in at.selectbox(key="c_case").options]
    assert case.number in numbers
    awaiting = {c.number for c in ratings.awaiting_followup(demo_db, clerk)}
    assert set(numbers) == awaiting  # the filter is the list of answers awaiting a 回访
    at.selectbox(key="c_case").set_value(case.id).run()
    at.selectbox(key=f"fu_method_{case.id}").set_value("phone")
    at.text_input(key=f"fu_caller_{case.id}").input("党办 李老师")
    at.radio(key=f"fu_rating_{case.id}").set_value("basic")
    at.text_area(key=f"fu_comment_{case.id}").input("提出人表示基本解决")
    at.button(key=f"fu_btn_{case.id}").click().run()
    assert not at.exception, at.exception
    assert f"{case.number} 已记录回访：基本满意" in texts(at)
    (made,) = ratings.of_case(demo_db, case.id, clerk).values()
    assert (made.via, made.method, made.caller, made.comment) == (
        "followup",
        "phone",
        "党办 李老师",
        "提出人表示基本解决",
    )
    assert cases.get_case(demo_db, case.id, clerk).state == "closed"


def test_a_supervised_case_reaches_the_supervising_office(demo_db, clerk):
    visitor = accounts.find_user(demo_db, "30000001")
    case = _case(demo_db, raised_by=visitor.id)
    for words in ("第一次", "第二次"):
        case_actions.answer(demo_db, case.id, f"{words}答复", clerk)
        ratings.rate(demo_db, case.id, "unsatisfied", visitor, "没解决")
    at = _my_case("30000001", case.number)
    assert "已转校办督办" in texts(at)

    at = login(DEPARTMENT_ACCOUNTS["校办"])
    at.query_params["no"] = case.number
    goto(at, "pages/cases.py").run()
    assert not at.exception, at.exception
    assert "督办：校办" in texts(at)
    assert not [b for b in at.button if b.key == f"answer_btn_{case.id}"]  # 党办 answers it, not 校办
    at.text_input(key=f"urge_{case.id}").input("请于本周内落实并答复")
    at.button(key=f"urge_btn_{case.id}").click().run()
    assert not at.exception, at.exception
    assert f"{case.number} 已提交督办意见" in texts(at)
    assert cases.events(demo_db, case.id, clerk)[-1].note == "请于本周内落实并答复"


def _ratings_table(at):
    """The table of 师生对答复的评价 on 我的工作台 (None: not shown)."""
    return next((d.value for d in at.dataframe if "评价方式" in d.value.columns), None)


def test_the_leader_on_duty_sees_how_his_visitors_rated_the_answers(demo_db, clerk):
    """Item 3: the cadre who met the raiser reads the ratings on 我的工作台; another department viewing
    his dashboard sees only the cases it handles."""
    leader = demo_db.execute("SELECT id FROM people WHERE staff_no = '10000001'").fetchone()[0]
    visitor = accounts.find_user(demo_db, "30000001")
    case = case_opening.open_case(
        demo_db,
        source="reception",
        content="图书馆自习室晚上十点关门太早",
        responsible_dept="党办",
        contact_date=cases.dates.today(),
        cadre_id=leader,
        system="接待日",
        raised_by=visitor.id,
    )
    case_actions.answer(demo_db, case.id, "自下周起延长到二十二点三十分", clerk)
    ratings.rate(demo_db, case.id, "basic", visitor, "希望周末也延长")
    at = login("10000001")
    goto(at, "pages/dashboard.py").run()
    assert not at.exception, at.exception
    assert "师生对答复的评价" in [s.value for s in at.subheader]
    table = _ratings_table(at)
    row = table[table["编号"] == case.number].iloc[0]
    assert (row["评价"], row["评价方式"], row["意见"]) == ("基本满意", "提出人评价", "希望周末也延长")
    assert "满意率" in [m.label for m in at.metric]

    at = login(DEPARTMENT_ACCOUNTS["教务处"])
    at.query_params["cadre"] = str(leader)
    goto(at, "pages/dashboard.py").run()
    assert not at.exception, at.exception
    numbers = (
        set(at.dataframe(key="contact_ratings").value["编号"])
        if "contact_ratings" in [d.key for d in at.dataframe]
        else set()
    )
    assert case.number not in numbers  # 党办's case
