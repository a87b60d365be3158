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


def test_errors_come_first_and_warnings_are_shown_and_exportable(demo_db):
    at = login("admin")
    goto(at, "pages/admin_import.py").run()
    at.selectbox[0].select("cadres").run()
    bad = "工号,姓名,单位,职务,级别\n1,甲,不存在的学院,院长,正处\n".encode("gbk")
    at.file_uploader[0].upload("cadres.csv", bad, "text/csv").run()
    assert not at.exception
    assert at.error[0].value.startswith("导入被拒绝") and "无法读取文件" not in texts(at)
    assert list(at.dataframe[0].value["列"]) == ["单位"]
    labels = [b.label for b in at.get("download_button")]
    assert labels[0] == "下载错误清单（.xlsx）"


def test_hostile_file_on_the_page_is_a_chinese_message(demo_db):
    from tests.core.test_import_files import BILLION_LAUGHS, replace_part, valid_xlsx

    at = login("admin")
    goto(at, "pages/admin_import.py").run()
    at.file_uploader[0].upload(
        "units.xlsx",
        replace_part(valid_xlsx(), "xl/worksheets/sheet1.xml", BILLION_LAUGHS),
        "application/octet-stream",
    ).run()
    assert not at.exception
    assert "恶意文件" in at.error[0].value


def test_confirm_imports_once_and_the_stale_preview_disappears(demo_db, monkeypatch):
    from portal import imports

    calls = []
    real_prepare = imports.prepare

    def counting(*args, **kwargs):
        calls.append(1)
        return real_prepare(*args, **kwargs)

    monkeypatch.setattr(imports, "prepare", counting)
    at = login("admin")
    goto(at, "pages/admin_import.py").run()
    at.selectbox[0].select("units").run()
    at.file_uploader[0].upload("units.csv", "单位名称,单位类型\n新能源学院,学院\n".encode(), "text/csv").run()
    at.run()  # another rerun: the preview is not computed again
    assert len(calls) == 1
    button = next(b for b in at.button if b.label == "确认导入")
    button.click().run()
    assert "导入完成" in texts(at) and "预览" not in texts(at)
    assert not [b for b in at.button if b.label == "确认导入"]
    assert demo_db.execute("SELECT count(*) FROM units WHERE name = '新能源学院'").fetchone()[0] == 1
    audit = "SELECT count(*) FROM audit_log WHERE action = 'import.units'"
    assert demo_db.execute(audit).fetchone()[0] == 1


def test_a_second_commit_of_the_same_preview_imports_nothing(demo_db):
    from portal import imports, submissions

    prepared = imports.prepare(demo_db, "units", "u.csv", "单位名称,单位类型\n新能源学院,学院\n".encode())
    token = submissions.new_token()
    first = imports.commit(demo_db, prepared, token=token)
    demo_db.execute("DELETE FROM units WHERE name = '新能源学院'")
    second = imports.commit(demo_db, prepared, token=token)
    assert first.counts["created"] == 1 and second.repeated and second.counts["created"] == 1
    assert demo_db.execute("SELECT count(*) FROM units WHERE name = '新能源学院'").fetchone()[0] == 0


def test_templates_have_the_header_and_one_example_row():
    import io

    from openpyxl import load_workbook

    from portal import imports
    from portal.tabular import write_xlsx_template

    for importer in imports.IMPORTERS.values():
        data = write_xlsx_template([c.name for c in importer.columns], importer.example)
        ws = load_workbook(io.BytesIO(data)).active
        rows = list(ws.iter_rows(values_only=True))
        assert list(rows[0]) == [c.name for c in importer.columns]
        assert len(rows) == 2 and rows[1][0]


def test_the_preview_keeps_the_parsed_rows_on_disk_not_in_the_session(demo_db):
    """100,000 parsed rows were ≈ 200 MB in the admin's session until 确认导入; they wait in a
    private temporary file, read back by the import and removed after it."""
    import os
    import stat

    at = login("admin")
    goto(at, "pages/admin_import.py").run()
    at.selectbox[0].select("units").run()
    rows = "".join(f"新学院{i},学院\n" for i in range(30))
    at.file_uploader[0].upload("units.csv", ("单位名称,单位类型\n" + rows).encode(), "text/csv").run()
    assert "新增 30 条" in texts(at)
    held = at.session_state["import_prepared"][1]
    assert held.items == [] and held.parked_at and os.path.exists(held.parked_at)
    assert stat.S_IMODE(os.stat(held.parked_at).st_mode) == 0o600  # only the server's user reads it
    next(b for b in at.button if b.label == "确认导入").click().run()
    assert "导入完成" in texts(at)
    assert demo_db.execute("SELECT count(*) FROM units WHERE name LIKE '新学院%'").fetchone()[0] == 30
    assert not os.path.exists(held.parked_at)


def test_another_file_replaces_the_parked_preview(demo_db):
    import os

    at = login("admin")
    goto(at, "pages/admin_import.py").run()
    at.selectbox[0].select("units").run()
    at.file_uploader[0].upload("a.csv", "单位名称,单位类型\n甲学院,学院\n".encode(), "text/csv").run()
    first = at.session_state["import_prepared"][1].parked_at
    at.file_uploader[0].upload("b.csv", "单位名称,单位类型\n乙学院,学院\n".encode(), "text/csv").run()
    assert at.session_state["import_prepared"][1].parked_at != first and not os.path.exists(first)


def test_a_parked_preview_whose_file_is_gone_asks_to_upload_again(demo_db):
    from portal import imports
    from portal.errors import ValidationError

    prepared = imports.prepare(demo_db, "units", "u.csv", "单位名称,单位类型\n丙学院,学院\n".encode()).park()
    prepared.discard()
    try:
        imports.commit(demo_db, prepared)
    except ValidationError as exc:
        assert "请重新上传文件" in exc.message
    else:
        raise AssertionError("a lost preview imported")
    assert org.unit_by_name(demo_db, "丙学院") is None
