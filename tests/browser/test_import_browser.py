"""An administrator imports cadres in a real browser: a bad file is refused row by row, a good one lands."""

import sqlite3

from tests.browser.conftest import login, settle


def test_admin_imports_cadres(server, page, tmp_path):
    base = server["url"]
    login(page, base, "admin")
    page.get_by_role("link", name="数据导入").first.click()
    page.get_by_role("heading", name="数据导入").wait_for()
    settle(page)
    page.locator("[data-testid=stSelectbox]").first.click()
    page.get_by_role("option", name="干部").click()
    page.get_by_text("任职开始").first.wait_for()  # the cadre sheet's columns are listed
    settle(page)  # the uploader is keyed by kind: wait for the new one

    bad = tmp_path / "bad.csv"
    bad.write_text("工号,姓名,单位,职务,级别\n10099001,测试甲,不存在的学院,院长,正处\n", encoding="utf-8")
    page.locator("input[type=file]").set_input_files(str(bad))
    page.get_by_text("导入被拒绝").wait_for()
    page.get_by_text("不存在的学院").first.wait_for(state="attached")

    good = tmp_path / "good.csv"
    good.write_text(
        "工号,姓名,单位,职务,级别,标签,中共党员\n10099002,测试乙,教务处,教务处副处长,副处,,是\n",
        encoding="utf-8-sig",
    )
    page.locator("input[type=file]").set_input_files(str(good))
    page.get_by_text("预览").first.wait_for()
    page.get_by_role("button", name="确认导入").click()
    page.get_by_text("导入完成").wait_for()

    conn = sqlite3.connect(server["db"])
    try:
        names = [
            r[0]
            for r in conn.execute(
                "SELECT p.name FROM cadre_posts c JOIN people p ON p.id = c.person_id WHERE p.staff_no LIKE '10099%'"
            )
        ]
    finally:
        conn.close()
    assert names == ["测试乙"]
