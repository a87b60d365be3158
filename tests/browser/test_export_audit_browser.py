"""Exports of personal data are in the audit log (等保: 安全审计 of who took what away): the case list's
Excel export and the files of new accounts with their initial passwords — who, what, from which
address — recorded when the file is built for the person who clicked, in a real browser."""

from __future__ import annotations

import sqlite3

from tests.browser.conftest import import_accounts, login, settle


def _entries(db_path, action: str) -> list[tuple[str, str, str]]:
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(
            "SELECT u.username, a.detail, a.address FROM audit_log a LEFT JOIN users u ON u.id = a.user_id "
            "WHERE a.action = ? ORDER BY a.id",
            [action],
        ).fetchall()
    finally:
        conn.close()


def test_the_case_lists_excel_export_is_audited(server, page):
    login(page, server["url"], "dangban")
    page.get_by_role("link", name="意见建议办理").first.click()
    page.get_by_role("heading", name="意见建议办理").wait_for()
    settle(page)
    before = _entries(server["db"], "case.export")
    with page.expect_download(timeout=120_000):
        page.get_by_role("button", name="导出 Excel").click()
    after = _entries(server["db"], "case.export")
    assert len(after) == len(before) + 1, after
    username, detail, address = after[-1]
    assert username == "dangban" and address == "127.0.0.1"
    assert "件" in detail, detail


def test_the_new_accounts_files_are_audited(server, page, tmp_path):
    login(page, server["url"], "admin")
    import_accounts(
        page, server["url"], tmp_path / "accounts.csv", "b2026101,审计甲,师生\nb2026102,审计乙,师生\n"
    )
    before = _entries(server["db"], "user.account_files")  # the server is shared with other test files
    with page.expect_download():
        page.get_by_role("button", name="账号清单（Excel）").click()
    found = _entries(server["db"], "user.account_files")
    assert len(found) == len(before) + 1, found
    username, detail, address = found[-1]
    assert username == "admin" and address == "127.0.0.1"
    assert "2" in detail and "账号清单" in detail, detail
