"""CSV injection through tables: every page's tables, as each kind of user sees them, show user
text exactly as typed (nothing prefixed or escaped on screen), and no table offers Streamlit's own
CSV download or copy (``client.disableDataExport``), so ``=HYPERLINK(…)`` never leaves as a live
formula. The pages' own Excel exports keep such text as text cells (tests/core/test_text_roundtrip.py);
the toolbar as a browser shows it: tests/browser/test_table_export_browser.py."""

from __future__ import annotations

import datetime as dt

import pytest
import streamlit as st

from portal import accounts, case_opening, navigation
from tests.conftest import goto, login

OPINION = '=HYPERLINK("http://evil.example/","点我查看详情")'


@pytest.mark.parametrize(("username", "sees_it"), [("dangban", True), ("2023000001", False)])
def test_every_table_shows_text_as_typed_and_offers_no_csv_download(demo_db, username, sees_it):
    """The department (意见建议办理's list) and the student who raised it (his pages show cards)."""
    student = accounts.find_user(demo_db, "2023000001")
    case_opening.open_case(
        demo_db,
        source="reception",
        content=OPINION,
        responsible_dept="党办",
        contact_date=dt.date(2026, 11, 18),
        raised_by=student.id,
        raiser_name=student.display_name,
    )
    at = login(username)
    assert st.get_option("client.disableDataExport") is True  # what the browser is told
    user = accounts.find_user(demo_db, username)
    tables, shown = 0, False
    for section in navigation.pages_for(user).values():
        for spec in section:
            goto(at, spec.path).run()
            assert not at.exception, (spec.path, at.exception)
            for frame in at.dataframe:
                tables += 1
                values = [str(v) for v in frame.value.to_numpy().ravel()]
                shown = shown or any(OPINION in v for v in values)
                assert not any(v.startswith("'=") for v in values), spec.path  # nothing prefixed
    assert tables > 0
    assert shown == sees_it, "the opinion appears, exactly as typed, in the department's case list"
