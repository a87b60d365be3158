"""The authorization matrix: every role against every page.

Two layers are checked for each (account, page): the menu (``st.navigation`` only holds the
pages the roles allow, so switching to another raises) and the page itself (run directly,
as a hand-typed URL would before the menu exists, it must stop with the refusal).
Pages are read from ``portal.navigation.PAGES``, so a new page is covered the day it is added.
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from portal import accounts, navigation
from tests.conftest import KINDS_OF_USER, ROOT, goto, login, texts

REFUSAL = "您没有访问此页面的权限"

ACCOUNTS = KINDS_OF_USER


def test_every_page_names_known_roles_and_exists():
    for page in navigation.PAGES:
        assert page.roles <= navigation.ALL_ROLES, page.path
        assert (ROOT / page.path).exists(), page.path
        source = (ROOT / page.path).read_text(encoding="utf-8")
        assert "common.require(__file__)" in source, f"{page.path} does not check the role itself"


@pytest.mark.parametrize("who", list(ACCOUNTS))
def test_menu_holds_exactly_the_allowed_pages(demo_db, who):
    user = accounts.find_user(demo_db, ACCOUNTS[who])
    at = login(ACCOUNTS[who])
    for page in navigation.PAGES:
        if navigation.can_open(user, page):
            goto(at, page.path).run()
            assert not at.exception, (who, page.path, at.exception)
            assert REFUSAL not in texts(at), (who, page.path)
        else:
            with pytest.raises(ValueError):
                goto(at, page.path)


@pytest.mark.parametrize("who", list(ACCOUNTS))
def test_pages_refuse_by_themselves(demo_db, who):
    """Run each forbidden page script directly with the user's live session."""
    user = accounts.find_user(demo_db, ACCOUNTS[who])
    session_id = login(ACCOUNTS[who]).session_state["session_id"]
    forbidden = [p for p in navigation.PAGES if not navigation.can_open(user, p)]
    for page in forbidden:
        at = AppTest.from_file(str(ROOT / page.path), default_timeout=60)
        at.session_state["session_id"] = session_id
        at.run()
        assert REFUSAL in texts(at), (who, page.path)


def test_roles_of_the_matrix_accounts(demo_db):
    """The matrix is only as good as its accounts: make sure each has the role it stands for."""
    expect = {
        "student": "visitor",
        "staff": "visitor",
        "leader": "cadre",
        "middle_cadre": "cadre",
        "dept_jiaowu": "department",
        "dept_dangban": "department",
        "dept_zuzhi": "department",
        "admin": "admin",
    }
    for who, role in expect.items():
        assert accounts.find_user(demo_db, ACCOUNTS[who]).has(role), who
    assert not accounts.find_user(demo_db, ACCOUNTS["student"]).has("cadre", "department", "admin")


def test_anonymous_visitor_gets_no_page(demo_db):
    for page in navigation.PAGES:
        at = AppTest.from_file(str(ROOT / page.path), default_timeout=60).run()
        assert REFUSAL in texts(at), page.path


def test_the_reception_day_page_is_for_school_leaders_among_cadres(demo_db):
    leader = accounts.find_user(demo_db, ACCOUNTS["leader"])
    middle = accounts.find_user(demo_db, ACCOUNTS["middle_cadre"])
    assert leader.cadre_levels == ["校级"] and middle.cadre_levels in (["正处"], ["副处"])
    assert navigation.can_open(leader, "pages/reception_day.py")
    assert not navigation.can_open(middle, "pages/reception_day.py")
    assert navigation.can_open(accounts.find_user(demo_db, "dangban"), "pages/reception_day.py")


def test_the_menu_follows_roles_changed_meanwhile(demo_db):
    """The menu's pages are kept for the session (built once, not on every run), but a role granted
    or taken away while the user is signed in shows in the menu at the next run."""
    student = accounts.find_user(demo_db, ACCOUNTS["student"])
    ledger = next(p for p in navigation.PAGES if p.path == "pages/ledger.py")
    at = login(ACCOUNTS["student"])
    with pytest.raises(ValueError):
        goto(at, ledger.path)
    kept = at.session_state["_menu"]
    at.run()
    assert at.session_state["_menu"] is kept  # the same objects: nothing rebuilt
    roles = student.roles
    accounts.set_roles(demo_db, student.id, [*roles, accounts.Role(role="department", department="党办")])
    at.run()
    goto(at, ledger.path).run()
    assert not at.exception, at.exception
    assert REFUSAL not in texts(at)
    accounts.set_roles(demo_db, student.id, roles)
    at.run()
    with pytest.raises(ValueError):
        goto(at, ledger.path)
