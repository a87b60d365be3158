"""Exactly-once on the pages that create: 记录联系活动 and the case actions of 意见建议办理.

A double click on 保存, a resubmit of the same form rendering, or sixteen racing submits create one
activity and one case; after saving, the form is replaced by what was created."""

from __future__ import annotations

import datetime as dt
import threading

from portal import (
    accounts,
    activities,
    activity_recording,
    case_actions,
    case_opening,
    cases,
    dates,
    states,
    submissions,
)
from portal.db import open_db
from portal.demo import DEPARTMENT_ACCOUNTS
from tests.conftest import errors_under, goto, login, texts


def _counts(db, staff_no: str = "10000001") -> tuple[int, int]:
    acts = db.execute(
        "SELECT count(*) FROM activities a JOIN people p ON p.id = a.cadre_id WHERE p.staff_no = ?",
        [staff_no],
    ).fetchone()[0]
    opened = db.execute(
        "SELECT count(*) FROM cases c JOIN people p ON p.id = c.cadre_id WHERE p.staff_no = ?", [staff_no]
    ).fetchone()[0]
    return acts, opened


def _fill_symposium(at) -> None:
    at.selectbox(key="system").select("座谈").run()
    at.selectbox(key="subtype").select("学生座谈").run()
    _type(at)


def _type(at) -> None:
    """The form's text as the browser still shows it (no rerun: the same rendering)."""
    at.text_input(key="place").input("图书馆报告厅")
    at.text_area(key="content").input("与学生代表座谈学风建设")
    at.text_area(key="opinions").input("考研自习室座位不足")


def _save(at) -> None:
    next(b for b in at.button if b.label == "保存").click().run()
    assert not at.exception, at.exception


def _page(username: str, page: str, same_form_as=None, form: str = ""):
    """``page`` as ``username`` sees it; with ``same_form_as``, it stands for the browser still
    showing the form ``form`` that page rendered (a double click, the back button, a second submit
    before the page redrew): the same session, the same form token."""
    at = login(username)
    if same_form_as is not None:
        key = f"_form_token_{form}"
        at.session_state[key] = same_form_as.session_state[key]
    return goto(at, page).run()


def _race(path, kind: str, create, racers: int = 16) -> tuple[list[submissions.Outcome], list[Exception]]:
    """``racers`` threads, each with its own connection, submit one form token at the same instant:
    what each got back, and what failed."""
    token = submissions.new_token()
    start = threading.Barrier(racers)
    outcomes, errors = [], []

    def submit():
        with open_db(path) as db:
            start.wait()
            try:
                outcomes.append(submissions.once(db, token, kind, lambda: create(db)))
            except Exception as exc:  # noqa: BLE001 - any failure is the test's finding
                errors.append(exc)

    threads = [threading.Thread(target=submit) for _ in range(racers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes, errors


def _events(db, case: cases.Case, action: str) -> int:
    """How many times the case's history records ``action``."""
    return db.execute(
        "SELECT count(*) FROM case_events WHERE case_id = ? AND action = ?", [case.id, action]
    ).fetchone()[0]


def test_saving_twice_creates_one_activity_and_one_case(demo_db):
    before = _counts(demo_db)
    at = _page("10000001", "pages/activity_form.py")
    again = _page("10000001", "pages/activity_form.py", same_form_as=at, form="activity")
    _fill_symposium(at)
    _fill_symposium(again)
    _save(at)
    _save(again)  # the same rendering submitted a second time
    assert _counts(demo_db) == (before[0] + 1, before[1] + 1)
    number = demo_db.execute("SELECT number FROM cases ORDER BY id DESC LIMIT 1").fetchone()[0]
    for page in (at, again):
        shown = texts(page)
        assert "已保存" in shown and number in shown and "考研自习室座位不足" in shown  # what was created
        assert not [b for b in page.button if b.label == "保存"]  # the form is replaced by the result


def test_a_new_entry_starts_an_empty_form_that_saves_again(demo_db):
    before = _counts(demo_db)
    at = _page("10000001", "pages/activity_form.py")
    _fill_symposium(at)
    _save(at)
    at.run()
    next(b for b in at.button if b.label == "记录下一条").click().run()
    assert not at.exception, at.exception
    assert at.text_area(key="content").value == ""
    _fill_symposium(at)
    _save(at)
    assert _counts(demo_db) == (before[0] + 2, before[1] + 2)


def test_racing_submits_of_one_form_create_one_activity_and_one_case(demo_db, tmp_path):
    path = tmp_path / "portal.sqlite3"
    leader = accounts.find_user(demo_db, "10000001")
    data = activities.ActivityInput(
        cadre_id=leader.person_id,
        system="座谈",
        subtype="学生座谈",
        date=dates.today(),
        place="图书馆报告厅",
        content="与学生代表座谈",
        opinions=["宿舍楼道灯坏了"],
    )
    before = _counts(demo_db)
    outcomes, errors = _race(
        path, "activity", lambda db: activity_recording.log_activity(db, data, leader).id
    )
    assert not errors, errors
    assert sum(o.created for o in outcomes) == 1 and len({o.object_id for o in outcomes}) == 1
    assert _counts(demo_db) == (before[0] + 1, before[1] + 1)


def _open_case(db) -> cases.Case:
    leader = db.execute("SELECT id FROM people WHERE staff_no = '10000001'").fetchone()[0]
    return case_opening.open_case(
        db,
        source="symposium",
        content="图书馆自习室晚上十点关门太早",
        responsible_dept="学工部",
        contact_date=cases.dates.today(),
        cadre_id=leader,
        system="座谈",
    )


def _case_page(case, same_form_as=None, form: str = ""):
    """学工部's 意见建议办理 on ``case`` (``same_form_as`` and ``form`` as in ``_page``)."""
    at = _page(DEPARTMENT_ACCOUNTS["学工部"], "pages/cases.py", same_form_as, form)
    at.selectbox(key="c_case").set_value(case.id).run()
    return at


def test_an_answer_submitted_twice_answers_once_without_an_error(demo_db):
    case = _open_case(demo_db)
    at = _case_page(case)
    again = _case_page(case, same_form_as=at, form=f"answer_{case.id}")
    for page in (at, again):
        page.text_area(key=f"answer_{case.id}").input("自下周起延长到二十二点三十分")
        page.button(key=f"answer_btn_{case.id}").click().run()
        assert not page.exception, page.exception
        assert not page.error, [e.value for e in page.error]
        assert f"{case.number}　{states.CASE_STATE_LABELS['answered']}" in [h.value for h in page.subheader]
    assert _events(demo_db, case, "answered") == 1


def test_a_progress_note_sent_twice_is_recorded_once(demo_db):
    case = _open_case(demo_db)
    at = _case_page(case)
    at.text_input(key=f"progress_{case.id}").input("已与图书馆沟通")
    at.button(key=f"progress_btn_{case.id}").click().run()
    assert at.text_input(key=f"progress_{case.id}").value == ""  # recorded: the box starts empty
    at.text_input(key=f"progress_{case.id}").input("已与图书馆沟通")  # the browser sent it again
    at.button(key=f"progress_btn_{case.id}").click().run()
    assert not at.error, [e.value for e in at.error]
    assert not at.exception, at.exception
    assert _events(demo_db, case, "progress") == 1


def test_a_double_click_on_swap_does_not_swap_back(demo_db):
    from portal.reception import roster

    at = _page("xiaoban", "pages/reception_roster.py")
    coming = [
        d for d in roster.list_roster(demo_db, cases.dates.today(), dt.date(2027, 6, 30)) if not d.cancelled
    ]
    a, b = (d.date.isoformat() for d in coming[:2])
    leaders = {d: roster.get_day(demo_db, dt.date.fromisoformat(d)).leader_id for d in (a, b)}
    for _ in range(2):  # the same form, sent twice
        at.selectbox(key="swap_a").select(a)
        at.selectbox(key="swap_b").select(b)
        next(x for x in at.button if x.label == "对调值班校领导").click().run()
        assert not at.exception, at.exception
    after = {d: roster.get_day(demo_db, dt.date.fromisoformat(d)).leader_id for d in (a, b)}
    assert after == {a: leaders[b], b: leaders[a]}


def test_creating_an_account_twice_creates_it_once_and_keeps_showing_its_password(demo_db):
    at = _page("admin", "pages/admin_users.py")
    for _ in range(2):  # the same form sent twice
        at.text_input[0].input("20269999")
        at.text_input[1].input("新同学")
        next(b for b in at.button if b.label == "新建").click().run()  # (AppTest follows the st.rerun)
        assert not at.exception, at.exception
        assert not at.error, [e.value for e in at.error]
        assert "初始密码（仅显示这一次）" in texts(at)
        assert at.text_input[0].value == ""
        labels = [b.label for b in at.get("download_button")]
        assert "账号开通通知（Word，每人一页）" in labels  # to print and hand over, downloaded once
        shown = at.code[0].value
    assert accounts.authenticate(demo_db, "20269999", shown).username == "20269999"
    assert demo_db.execute("SELECT count(*) FROM users WHERE username = '20269999'").fetchone()[0] == 1


def test_an_edit_sent_twice_is_one_edit(demo_db):
    me = accounts.find_user(demo_db, "10010001")
    target = activities.list_activities(demo_db, me)[0]
    at = _page("10010001", "pages/activities.py")
    at.selectbox(key="chosen").select(target.id).run()
    for _ in range(2):
        at.text_input(key=f"e_place_{target.id}").input("新地点")
        next(b for b in at.button if b.label == "保存修改").click().run()
        assert not at.exception, at.exception
    assert [h.action for h in activities.history(demo_db, target.id, me)].count("edited") == 1


def test_racing_answers_with_one_token_answer_once_and_all_see_it(demo_db, tmp_path):
    case = _open_case(demo_db)
    path = tmp_path / "portal.sqlite3"
    xgb = accounts.find_user(demo_db, DEPARTMENT_ACCOUNTS["学工部"])
    outcomes, errors = _race(
        path, "answer", lambda db: case_actions.answer(db, case.id, "已延长开放", xgb).id
    )
    assert not errors, errors  # no 此件当前为“已答复” for the resubmits
    assert sum(o.created for o in outcomes) == 1 and {o.object_id for o in outcomes} == {case.id}
    assert _events(demo_db, case, "answered") == 1


def test_a_case_answered_again_after_a_reopen_is_answered_again(demo_db):
    case = _open_case(demo_db)
    at = _case_page(case)
    at.text_area(key=f"answer_{case.id}").input("已延长开放时间")
    at.button(key=f"answer_btn_{case.id}").click().run()
    at.text_input(key=f"reopen_reason_{case.id}").input("提出人电话反映仍未落实")
    at.button(key=f"reopen_{case.id}").click().run()
    assert not at.exception, at.exception
    at.text_area(key=f"answer_{case.id}").input("已延长开放时间")  # the same words, a new round
    at.button(key=f"answer_btn_{case.id}").click().run()
    assert not at.error, [e.value for e in at.error]
    assert _events(demo_db, case, "answered") == 2


def test_every_problem_of_a_new_account_shows_at_once_beside_its_field(demo_db):
    at = _page("admin", "pages/admin_users.py")
    at.text_input(key="new_username").input("张 三")
    at.multiselect(key="new_roles").select("department")
    next(b for b in at.button if b.label == "新建").click().run()
    assert not at.exception, at.exception
    assert errors_under(at, "new_username") == ["账号只能由字母、数字和 _ . @ - 组成"]
    assert errors_under(at, "new_name") == ["姓名不能为空"]
    assert (
        errors_under(at, "new_department")
        and "部门角色须指定责任部门" in errors_under(at, "new_department")[0]
    )
    assert at.text_input(key="new_username").value == "张 三"  # what was typed stays, to be corrected
