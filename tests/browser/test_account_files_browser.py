"""New accounts' initial passwords in a real browser (issue 20 item 9): the administrator who imported them
downloads each file once; the same file is refused the second time, and to another administrator."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from portal import downloads
from tests.browser.conftest import import_accounts, login


def test_the_account_list_downloads_once_to_the_admin_who_made_it(server, browser, page, tmp_path):
    login(page, server["url"], "admin")
    import_accounts(
        page, server["url"], tmp_path / "accounts.csv", "b2026001,浏览器甲,师生\nb2026002,浏览器乙,师生\n"
    )
    with page.expect_download() as taken:
        page.get_by_role("button", name="账号清单（Excel）").click()
    download = taken.value
    with open(download.path(), "rb") as saved:
        book = load_workbook(io.BytesIO(saved.read()))
    rows = {r[0].value: r[3].value for r in book.active.iter_rows() if r[0].value in ("b2026001", "b2026002")}
    assert set(rows) == {"b2026001", "b2026002"} and all(len(p) == 12 for p in rows.values())
    page.wait_for_timeout(downloads.ONCE_GRACE_S * 1000 + 500)  # past the one click's delivery
    again = page.request.get(download.url)
    # never again: refused by the gate (403, 只能下载一次) or already let go by Streamlit (404)
    assert again.status in (403, 404) and not again.body().startswith(b"PK")
    other = browser.new_context(locale="zh-CN")
    try:
        stranger = other.new_page()
        login(stranger, server["url"], "admin")  # the same role, another session: still refused
        assert stranger.request.get(download.url).status in (403, 404)
    finally:
        other.close()
