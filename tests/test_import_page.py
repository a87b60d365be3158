"""The admin import page: upload, preview, row errors, confirm."""

from portal import org
from tests.conftest import goto, login, texts


def test_import_page_shows_row_errors_and_writes_nothing(demo_db):
    at = login("admin")
    goto(at, "pages/admin_import.py").run()
    at.selectbox[0].select("cadres").run()
    bad = "工号,姓名,单位,职务,级别\n1,甲,不存在的学院,院长,正处\n2,乙,教务处,处长,部级\n".encode()
    before = demo_db.execute("SELECT count(*) FROM cadre_posts").fetchone()[0]
    at.file_uploader[0].upload("cadres.csv", bad, "text/csv").run()
    assert not at.exception
    assert "导入被拒绝" in texts(at)
    table = at.dataframe[-1].value
    assert list(table["行"]) == [2, 3] and list(table["列"]) == ["单位", "级别"]
    assert demo_db.execute("SELECT count(*) FROM cadre_posts").fetchone()[0] == before


def test_import_page_preview_then_confirm(demo_db):
    at = login("admin")
    goto(at, "pages/admin_import.py").run()
    at.selectbox[0].select("units").run()
    at.file_uploader[0].upload("units.csv", "单位名称,单位类型\n新能源学院,学院\n".encode(), "text/csv").run()
    assert "预览" in texts(at) and "新增 1 条" in texts(at)
    assert org.unit_by_name(demo_db, "新能源学院") is None
    at.button(key=None) if False else None
    next(b for b in at.button if b.label == "确认导入").click().run()
    assert "导入完成" in texts(at)
    assert org.unit_by_name(demo_db, "新能源学院") is not None
