"""One date format as a browser shows it (2026年12月6日, 12月6日 where the year is obvious), measured
in Chromium on the pages with date fields: what a field displays, what the page's text, labels
and tooltips say. tests/pages/test_dates_shown.py reads what every page sends (AppTest); only a
browser shows how Streamlit's frontend draws a date field's value (it was 2026/11/08)."""

from __future__ import annotations

import re

import pytest

from tests.browser import a11y
from tests.browser.conftest import login, open_page

# 2026-12-06, 2026/11/08, 2026 / 11 / 08, 2026.12.6, 12/06/2026: not the interface's format
ODD_DATE = re.compile(
    r"(?<![\d-])(?:19|20)\d{2}\s?[-/.]\s?\d{1,2}\s?[-/.]\s?\d{1,2}(?!\d)|(?<!\d)\d{1,2}/\d{1,2}/(?:19|20)\d{2}"
)
CHINESE = re.compile(
    r"^(?:19|20)\d{2}年\d{1,2}月\d{1,2}日(?:（星期.）)?(?:\s*–\s*(?:19|20)\d{2}年\d{1,2}月\d{1,2}日)?$"
)

# who opens which page with date fields, headed how
PAGES = [
    ("10000001", "activity_log", "记录联系活动"),
    ("10000001", "activities", "联系活动记录"),
    ("jiaowu", "ledger", "工作台账"),
    ("admin", "admin_audit", "操作日志"),
    ("admin", "admin_calendar", "校历与工作日"),
]


def fields(page) -> list[dict]:
    """Every visible date field: its label and the value its segments display (the hidden
    ``<input type=date>`` beside them holds ISO for the form, and no one sees it)."""
    return page.evaluate(
        """() => [...document.querySelectorAll('[data-testid=stDateInput]')]
            .filter((d) => d.checkVisibility())
            .map((d) => ({label: (d.querySelector('label') || {}).innerText || '',
                          value: ((d.querySelector('[data-testid=stDateInputField] [role=group]') || {}).innerText || '')
                            .replace(/\\s+/g, '')}))"""
    )


def odd_dates(page) -> list[str]:
    found = [
        f"field {f['label']}: {f['value']!r}"
        for f in fields(page)
        if f["value"] and not CHINESE.match(f["value"])
    ]
    found += [f"{where}: {text[:60]!r}" for where, text in a11y.strings(page) if ODD_DATE.search(text)]
    return found


@pytest.mark.parametrize(("username", "path", "heading"), PAGES, ids=[p[1] for p in PAGES])
def test_a_date_field_and_the_page_show_dates_in_chinese(server, page, username, path, heading):
    login(page, server["url"], username)
    open_page(page, server["url"], path, heading)
    page.locator("[data-testid=stDateInput] input").first.wait_for()
    shown = [f for f in fields(page) if f["value"]]
    assert shown, "no date field with a value"  # the check below saw something
    assert not odd_dates(page), odd_dates(page)


def test_the_check_sees_a_date_field_in_another_format(server, page):
    login(page, server["url"], "10000001")
    open_page(page, server["url"], "activity_log", "记录联系活动")
    page.evaluate(
        """() => { const literals = document.querySelectorAll('[data-testid=stDateInputField] [data-type=literal]');
                   literals.forEach((s, n) => { s.textContent = n < 2 ? '/' : ''; }); }"""
    )  # the first field now reads 2026/11/24
    assert any(re.search(r"field 日期: '2026/11/\d+'", f) for f in odd_dates(page)), odd_dates(page)
    assert not CHINESE.match("2026 - 12 - 06") and CHINESE.match("2026年12月6日")
