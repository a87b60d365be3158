"""我的工作台 through AppTest: a cadre with met, behind and missed rules; scope for departments."""

from __future__ import annotations

import pytest

from portal import accounts
from tests.conftest import goto, login, texts
from tests.quota_fixtures import Org


@pytest.fixture
def university(db):
    """A school leader with a month met, a month missed, no contact college yet (behind) and two
    pairs (too many: missed); a second leader; a 宣传部 account and an admin."""
    org = Org(db)
    leader = org.cadre("校领导班子", "校级", name="张明远")
    other = org.cadre("校领导班子", "校级", name="李文华")
    org.activity(leader, "调查研究", "实地调研", "2026-09-15")
    org.activity(leader, "调查研究", "实地调研", "2026-11-03")
    org.activity(leader, "讲思政课", "思政课授课", "2026-10-20", hours=2)
    org.assign(leader, "结对子", "K1")
    org.assign(leader, "结对子", "K2")
    accounts.create_user(
        db, org.staff_no(leader), "张明远", "Demo-1234", [accounts.Role(role="visitor")], leader
    )
    accounts.create_user(
        db, org.staff_no(other), "李文华", "Demo-1234", [accounts.Role(role="visitor")], other
    )
    accounts.create_user(
        db, "xc", "宣传部", "Demo-1234", [accounts.Role(role="department", department="宣传部")]
    )
    accounts.create_user(db, "boss", "管理员", "Demo-1234", [accounts.Role(role="admin")])
    db.conn.commit()
    return org, leader, other


def open_dashboard(username: str):
    at = login(username, "Demo-1234")
    goto(at, "pages/dashboard.py").run()
    assert not at.exception, at.exception
    return at


def test_a_cadre_sees_met_behind_and_missed(university):
    org, leader, _ = university
    at = open_dashboard(org.staff_no(leader))
    shown = texts(at)
    assert "我的工作台" in shown and "张明远" in shown
    assert "进度滞后" in shown  # no contact college yet, due from the start of the year
    assert "未完成" in shown  # two pairs where the policy says exactly one; October's visit missing
    assert "已完成" in shown or "项完成" in shown
    assert not at.selectbox  # a cadre sees only his own dashboard
    bars = [m.value for m in at.markdown if "▰" in m.value or "▱" in m.value]
    assert any(":green[▰▰▰▰▰▰▰▰▰▰]" in b for b in bars)  # a task done: a full green bar
    assert any(b.startswith(":gray[▱▱▱▱▱▱▱▱▱▱]") for b in bars)  # nothing done yet
    # the period tabs and the click-through to the activities that counted
    assert any("本月" in t.label for t in at.tabs)
    assert any("计入的联系活动" in e.label for e in at.expander)
    frames = [f.value for f in at.dataframe]
    past = next(f for f in frames if "期间" in f.columns)
    october = past[(past["期间"] == "2026年10月") & (past["任务"].str.contains("实地调研"))]
    assert list(october["结果"]) == ["未完成"]
    running = next(f for f in frames if "按进度应完成" in f.columns)
    assert "进度滞后" in set(running["进度"])  # the same word as everywhere else


def test_a_department_sees_its_systems_only(university):
    org, leader, _ = university
    at = open_dashboard("xc")
    assert at.selectbox
    at.selectbox(key="dashboard_cadre").set_value(leader).run()
    shown = texts(at)
    assert "仅显示本部门负责的制度" in shown
    labels = " ".join(e.label for e in at.expander)
    assert "计入的联系活动" in labels  # the 思政课 hours count for 宣传部
    frames = " ".join(" ".join(map(str, f.value.to_numpy().ravel())) for f in at.dataframe)
    assert "调查研究" not in shown + frames and "结对子" not in shown + frames


def test_an_admin_opens_any_cadre(university):
    org, _, other = university
    at = open_dashboard("boss")
    at.selectbox(key="dashboard_cadre").set_value(other).run()
    assert "李文华" in texts(at)
    assert not at.exception
