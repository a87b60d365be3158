"""CSV injection through the table toolbar: Streamlit's "Download as CSV" would export an opinion
such as ``=HYPERLINK(...)`` raw, live in Excel. The toolbar offers no data export; the portal's
own Excel exports keep the text exactly, as text cells."""

import datetime as dt
import io
from pathlib import Path

from openpyxl import load_workbook

from portal import case_opening
from portal.db import open_db
from tests.browser.conftest import login, settle

OPINION = '=HYPERLINK("http://evil.example/","点我查看详情")'


def test_tables_offer_no_csv_download(server, page):
    with open_db(server["db"]) as db:
        case_opening.open_case(
            db, source="other", content=OPINION, responsible_dept="党办", contact_date=dt.date(2026, 11, 20)
        )
    login(page, server["url"], "dangban")
    page.get_by_role("link", name="意见建议办理").first.click()
    page.get_by_role("heading", name="意见建议办理").wait_for()
    settle(page)
    table = page.locator("[data-testid=stDataFrame]").first
    table.wait_for()
    table.hover()
    page.get_by_role("button", name="搜索").first.wait_for()  # the toolbar is showing
    assert page.get_by_role("button", name="下载为 CSV").count() == 0
    assert page.get_by_role("button", name="Download as CSV").count() == 0
    # the portal's own export instead: the opinion comes back exactly, as a text cell
    # the workbook is built when the button is pressed: wait for it as long as a loaded machine takes
    settle(page)  # a click during a rerun in flight can be lost
    with page.expect_download(timeout=120_000) as download:
        page.get_by_role("button", name="导出 Excel").click()
    data = Path(download.value.path()).read_bytes()
    assert data[:2] == b"PK", data[:80]
    ws = load_workbook(io.BytesIO(data)).active
    cells = [c for row in ws.iter_rows() for c in row if c.value == OPINION]
    assert cells and all(c.data_type == "s" for c in cells)
