"""A cadre logs an activity in a real browser and downloads its Word record form."""

import io

from docx import Document

from tests.browser.conftest import login, new_activity, open_page

CONTENT = '随堂听课，课堂秩序良好 <b>加粗</b> & "引号"'


def test_cadre_logs_an_activity_and_downloads_the_form(server, page):
    new_activity(page, server["url"], "10010001", "听课")
    page.get_by_label("地点").fill("理科楼 201")
    page.get_by_label("联系对象（打印在记录表上；不填则用所选对象的名称）").fill("2024级计算机1班")
    page.get_by_label("联系工作开展情况").fill(CONTENT)
    page.get_by_role("button", name="保存").click()
    page.get_by_text("已保存").first.wait_for()
    with page.expect_download() as info:
        page.get_by_role("button", name="下载记录表（Word）").click()
    download = info.value
    assert download.suggested_filename.endswith(".docx")
    document = Document(io.BytesIO(download.path().read_bytes()))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    assert CONTENT in cells
    assert "理科楼 201" in cells and "2024级计算机1班" in cells


def test_the_forms_bookmarked_address_still_opens_the_form(server, page):
    """pages/activity_form.py (renamed to say it holds the form) keeps its address /activity_log; the
    list stays at /activities."""
    login(page, server["url"], "10010001")
    open_page(page, server["url"], "activity_log", "记录联系活动")
    assert page.url.endswith("/activity_log")
    page.get_by_text("制度").first.wait_for()
    open_page(page, server["url"], "activities", "联系活动记录")
