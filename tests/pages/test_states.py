"""One vocabulary of states: every page names case, booking and day states through portal.states,
and the same case reads the same on 我的预约, 我的诉求 and 意见建议办理."""

from __future__ import annotations

import ast
from pathlib import Path

from portal import accounts, case_opening, cases, reception, states
from tests.conftest import goto, login, texts

PAGES = Path(__file__).resolve().parents[2] / "pages"
LABELS = {
    *states.CASE_STATE_LABELS.values(),
    *states.BOOKING_STATUS_LABELS.values(),
    states.CHECKED_IN_LABEL,
    states.DAY_STATUS_LABELS["cancelled"],  # not 正常: accounts and dashboards say it of other things
    states.ACTIVITY_STATE_LABELS["voided"],  # not 有效: assignments say it of themselves
}


def _hard_coded(tree: ast.AST) -> list[tuple[int, str]]:
    """String constants that are a state label, or an f-string that starts with one ("已取消（…", "已作废：…")."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in LABELS:
            found.append((node.lineno, node.value))
        elif isinstance(node, ast.JoinedStr) and node.values:
            first = node.values[0]
            if isinstance(first, ast.Constant) and any(
                str(first.value).startswith((label + "（", label + "：")) for label in LABELS
            ):
                found.append((node.lineno, str(first.value)))
    return found


def test_no_page_writes_a_state_label_itself():
    offenders = {
        page.name: hits
        for page in sorted(PAGES.glob("*.py"))
        if (hits := _hard_coded(ast.parse(page.read_text(encoding="utf-8"))))
    }
    assert not offenders, offenders


def test_the_core_has_one_label_per_state():
    assert set(states.CASE_STATE_LABELS) == set(states.CASE_STATES)
    assert set(states.BOOKING_STATUS_LABELS) == set(states.BOOKING_STATUSES)
    assert cases.STATE_LABELS is states.CASE_STATE_LABELS
    assert reception.STATUS_LABELS is states.BOOKING_STATUS_LABELS


def test_a_visitors_case_reads_the_same_on_every_page(demo_db):
    row = demo_db.execute(
        "SELECT b.id, u.username, c.id FROM bookings b JOIN cases c ON c.booking_id = b.id "
        "JOIN users u ON u.id = b.user_id WHERE c.raised_by = b.user_id AND c.state = 'registered' "
        "ORDER BY b.id LIMIT 1"
    ).fetchone()
    if row is None:  # the demo answered them all: open one as the reception day does
        row = demo_db.execute(
            "SELECT b.id, u.username FROM bookings b JOIN users u ON u.id = b.user_id "
            "WHERE b.status = 'received' ORDER BY b.id LIMIT 1"
        ).fetchone()
        visitor = accounts.find_user(demo_db, row[1])
        case = case_opening.open_case(
            demo_db,
            source="reception",
            content="宿舍热水供应时间太短",
            responsible_dept="党办",
            contact_date=cases.dates.today(),
            booking_id=row[0],
            raised_by=visitor.id,
            raiser_name=visitor.display_name,
        )
        row = (row[0], row[1], case.id)
    booking_id, username, case_id = row
    visitor = accounts.find_user(demo_db, username)
    case = cases.get_case(demo_db, case_id, visitor)
    label = states.CASE_STATE_LABELS["registered"]
    assert case.state_label == label

    at = login(username)
    goto(at, "pages/my_bookings.py").run()
    assert not at.exception, at.exception
    assert f"办理编号 {case.number}：{label}" in texts(at)

    goto(at, "pages/my_cases.py").run()
    assert not at.exception, at.exception
    page = texts(at)
    assert f"**{case.number}**" in page.replace("\\", "")
    assert f"-badge[{label}]" in page  # the card's state badge
    assert "待登记" not in page
