"""操作日志: administrators browse the audit log the services write; nobody else can."""

from __future__ import annotations

import datetime as dt

import pytest

from portal import accounts, audit
from portal.accounts import Role
from tests.conftest import goto, login, texts


@pytest.fixture
def logged(db):
    boss = accounts.create_user(db, "boss", "管理员甲", "Passw0rd!", [Role(role="admin")])
    accounts.create_user(db, "s1", "学生乙", "Passw0rd!", [Role(role="visitor")], actor_id=boss.id)
    for i in range(130):
        audit.record(db, boss.id, "rules.load", f"#{i} 2026-09-01")
    audit.record(db, None, "import.units", "units.xlsx: 新增 3")
    db.conn.commit()
    return db


def test_search_filters_pages_and_names_actions_in_chinese(logged):
    page = audit.search(logged)
    assert page.total == 133  # two accounts, 130 rule loads, one import
    assert len(page.entries) == audit.PAGE_SIZE
    newest = page.entries[0]
    assert newest.label == "数据导入（units）" and newest.actor == "系统"
    assert audit.search(logged, category="user.").entries[0].label == "新建账号"
    assert audit.search(logged, actor="boss", text="#12").total == 11  # #12, #120–#129
    assert audit.search(logged, actor="管理员").total == 131
    second = audit.search(logged, offset=audit.PAGE_SIZE)
    assert len(second.entries) == 33 and not {e.id for e in second.entries} & {e.id for e in page.entries}
    future = dt.date.today() + dt.timedelta(days=400)
    assert audit.search(logged, since=future).total == 0


def test_filter_values_are_data_not_sql(logged):
    assert audit.search(logged, text="%' OR 1=1 --").total == 0
    assert audit.search(logged, category="%").total == 0


def test_admin_browses_the_log_and_pages_through_it(logged):
    at = login("boss", "Passw0rd!")
    goto(at, "pages/admin_audit.py").run()
    assert not at.exception, at.exception
    assert "共 134 条，第 1/2 页" in texts(at)  # and the admin's own login
    frame = at.dataframe[0].value
    assert list(frame.columns) == ["时间", "操作人", "来源地址", "操作", "结果", "内容"]
    assert "导入规则文件" in set(frame["操作"])
    at.button(key="audit_next").click().run()
    assert "第 2/2 页" in texts(at)
    at.text_input(key="audit_text").input("units.xlsx").run()
    assert "共 1 条，第 1/1 页" in texts(at)


def test_only_admins_see_the_log(logged):
    at = login("s1", "Passw0rd!")
    with pytest.raises(ValueError):
        goto(at, "pages/admin_audit.py")


def test_every_category_of_the_filter_has_a_label_of_its_own():
    """Streamlit sends a choice back as the label the user saw: two categories with one label would
    make the second unreachable (the filter silently shows the first)."""
    from portal import audit

    labels = list(audit.CATEGORIES.values())
    assert len(labels) == len(set(labels))
