"""检索: one search box over activities and cases, two-character Chinese words included, and
nobody finds what he may not see."""

from __future__ import annotations

import datetime as dt

import pytest

from portal import accounts, activities, activity_recording, case_opening, cases, search
from portal.errors import ValidationError
from tests.conftest import goto, login, texts


def test_terms_are_phrases_of_single_characters():
    assert search.tokens("二食堂晚餐 C-CS 𠀀").split() == ["二", "食", "堂", "晚", "餐", "C-CS", "𠀀"]
    assert search.match_expression("食堂 C-CS") == '" 食 堂 " AND "C-CS"'
    assert search.match_expression('"引号" ;') == '""" 引 号 """'  # quotes doubled, FTS5's escape
    assert search.match_expression("   ") is None


def test_a_two_character_word_finds_the_case(demo_db):
    admin = accounts.find_user(demo_db, "admin")
    found = search.search(demo_db, admin, "食堂")
    assert found.case_total > 0 and found.activity_total > 0
    hit = found.cases[0]
    assert "食堂" in hit.snippet
    case = cases.get_case(demo_db, hit.id, admin)
    assert "食堂" in case.content + case.answer + case.raiser_name


def test_every_term_must_match_and_order_does_not(demo_db):
    admin = accounts.find_user(demo_db, "admin")
    both = search.search(demo_db, admin, "食堂 晚餐")
    reversed_ = search.search(demo_db, admin, "晚餐 食堂")
    assert both.case_total == reversed_.case_total > 0
    assert search.search(demo_db, admin, "食堂 不存在的词语组合").case_total == 0


def test_numbers_and_names_are_found(demo_db):
    admin = accounts.find_user(demo_db, "admin")
    some = cases.list_cases(demo_db, admin)[0]
    assert [h.id for h in search.search(demo_db, admin, some.number).cases] == [some.id]
    activity = activities.list_activities(demo_db, admin, limit=1)[0]
    by_name = search.search(demo_db, admin, activity.cadre_name, kinds=("activity",))
    assert activity.id in [h.id for h in by_name.activities] or by_name.activity_total > len(
        by_name.activities
    )


def test_new_and_changed_text_is_found_at_once(demo_db):
    admin = accounts.find_user(demo_db, "admin")
    activity = activities.list_activities(demo_db, admin, limit=1)[0]
    assert search.search(demo_db, admin, "澡堂热水").activity_total == 0
    activity_recording.update_activity(
        demo_db, activity.id, {"followup": "已协调后勤处解决澡堂热水问题"}, admin
    )
    found = search.search(demo_db, admin, "澡堂热水")
    assert [h.id for h in found.activities] == [activity.id]
    activity_recording.void_activity(demo_db, activity.id, "重复录入", admin)
    assert search.search(demo_db, admin, "澡堂热水").activity_total == 0
    assert search.search(demo_db, admin, "澡堂热水", include_voided=True).activities[0].state == "已作废"


def test_nobody_finds_what_he_may_not_see(demo_db):
    admin = accounts.find_user(demo_db, "admin")
    student = accounts.find_user(demo_db, "2023000001")
    jiaowu = accounts.find_user(demo_db, "jiaowu")
    everything = search.search(demo_db, admin, "食堂")
    mine = search.search(demo_db, student, "食堂")
    assert mine.activity_total == 0  # a student sees no activity records
    assert all(cases.can_view(student, cases.get_case(demo_db, h.id, admin)) for h in mine.cases)
    assert mine.case_total < everything.case_total
    theirs = search.search(demo_db, jiaowu, "食堂")
    for hit in theirs.activities:
        assert activities.get_activity(demo_db, hit.id, jiaowu)  # raises if out of scope
    assert all(cases.can_view(jiaowu, cases.get_case(demo_db, h.id, admin)) for h in theirs.cases)


def test_query_text_is_data(demo_db):
    admin = accounts.find_user(demo_db, "admin")
    for hostile in ['" OR 1=1 --', "NEAR(食堂)", "食堂*", "a' OR '1'='1", "AND OR NOT"]:
        search.search(demo_db, admin, hostile)  # no exception, no FTS syntax from the user
    with pytest.raises(ValidationError, match="控制字符"):
        search.search(demo_db, admin, "食堂\x00")  # refused in Chinese, never an unhandled error
    with pytest.raises(ValidationError, match="检索词过长"):
        search.search(demo_db, admin, "食" * 101)


def test_rebuild_gives_the_same_answers(demo_db):
    admin = accounts.find_user(demo_db, "admin")
    before = search.search(demo_db, admin, "食堂")
    search.rebuild(demo_db)
    after = search.search(demo_db, admin, "食堂")
    assert (before.case_total, before.activity_total) == (after.case_total, after.activity_total)


def test_the_search_page_shows_hits_for_a_department(demo_db):
    """Each result says what it is, opens its object, and shows the words around the match with the
    match highlighted; a case's title is its number, not "2026-0270 · 党办" beside a 编号 column."""
    at = login("dangban")
    goto(at, "pages/search.py").run()
    assert not at.exception, at.exception
    at.text_input(key="search_query").input("食堂").run()
    assert not at.exception, at.exception
    labels = [t.label for t in at.tabs]
    assert labels[0].startswith("意见建议（") and labels[1].startswith("联系活动（")
    case_tab, activity_tab = at.tabs
    links = [(p.proto.page, p.proto.query_string, p.value) for p in case_tab.get("page_link")]
    assert links and all(page.endswith("cases") and query.startswith("no=") for page, query, _ in links)
    assert all(label == query.removeprefix("no=") for _, query, label in links)  # the number, once
    assert any(m.value == ":blue-badge[意见建议]" for m in case_tab.markdown)  # what kind of object
    snippets = [m.value for m in case_tab.markdown if "食堂" in m.value]
    assert snippets and all(":orange-background[**食堂**]" in m for m in snippets)
    assert all(len(m) > 20 for m in snippets)  # a sentence, not a few characters
    opened = [(p.proto.page, p.proto.query_string) for p in activity_tab.get("page_link")]
    assert opened and all(page.endswith("activities") and query.startswith("id=") for page, query in opened)
    assert any(m.value == ":violet-badge[联系活动]" for m in activity_tab.markdown)
    assert "共 " in texts(at)


def test_the_search_page_for_a_student_searches_his_own_cases(demo_db):
    """The person who raised a case finds it, and its link opens it where he reads it: 我的诉求."""
    at = login("2023000001")
    goto(at, "pages/search.py").run()
    assert not at.exception, at.exception
    at.text_input(key="search_query").input("食堂").run()
    assert not at.exception, at.exception
    shown = at.get("page_link")
    results = [p for p in shown if p.proto.query_string.startswith("no=")]
    assert [t.label for t in at.tabs] == [f"意见建议（{len(results)}）"]
    assert all(p.proto.page.endswith("my_cases") for p in results)


def test_a_hit_is_marked_without_letting_user_text_become_markup(demo_db):
    visitor = accounts.find_user(demo_db, "30000001")
    dangban = accounts.find_user(demo_db, "dangban")
    case = case_opening.open_case(
        demo_db,
        source="reception",
        content="二食堂的饭菜<script>alert(1)</script>[点我](http://evil.example) **太咸**",
        responsible_dept="党办",
        contact_date=dt.date(2026, 11, 18),
        raised_by=visitor.id,
    )
    (hit,) = [h for h in search.search(demo_db, dangban, "食堂 太咸").cases if h.id == case.id]
    assert ("食堂", True) in hit.marks and ("太咸", True) in hit.marks
    assert "".join(piece for piece, _ in hit.marks) == hit.snippet
    at = login("dangban")
    goto(at, "pages/search.py").run()
    at.text_input(key="search_query").input("食堂 太咸").run()
    (shown,) = [m.value for m in at.markdown if "点我" in m.value]
    assert "<script>" not in shown and "\\<script\\>" in shown  # escaped: shown as typed, inert
    assert "\\[点我\\]\\(http" in shown  # no link


def test_a_snippet_is_the_field_that_matched_around_the_match():
    text = "前言" * 100 + "食堂晚餐窗口开放时间偏短" + "结语" * 100
    pieces = search.marked(text, "晚餐 食堂")
    assert [p for p, hit in pieces if hit] == ["食堂", "晚餐"]
    assert 100 <= len("".join(p for p, _ in pieces)) <= search.SNIPPET_WIDTH + 12


def test_the_search_narrows_as_the_lists_do(demo_db):
    """The search's date and system filters are the lists' own (``activities.filter_clause``,
    ``cases.filter_clause``): what it finds under them, the lists hold too — withdrawn cases as well."""
    admin = accounts.find_user(demo_db, "admin")
    some = search.search(demo_db, admin, "食堂").activities[0]
    system = activities.get_activity(demo_db, some.id, admin).system
    day = dt.date.fromisoformat(some.date[:10])
    since, until = day - dt.timedelta(days=120), day + dt.timedelta(days=120)
    found = search.search(demo_db, admin, "食堂", since=since, until=until, system=system, limit=10_000)
    listed = activities.list_activities(demo_db, admin, system=system, since=since, until=until)
    assert some.id in {h.id for h in found.activities} <= {a.id for a in listed}
    where, params = cases.filter_clause(
        admin, scope="all", include_withdrawn=True, system=system, since=since, until=until
    )
    in_range = {r[0] for r in demo_db.execute(f"SELECT c.id FROM cases c WHERE {where}", params)}
    assert {h.id for h in found.cases} <= in_range
    assert all(h.date[:10] <= until.isoformat() and h.date[:10] >= since.isoformat() for h in found.cases)
