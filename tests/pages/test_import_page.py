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
    table = next(d.value for d in at.dataframe if list(d.value.columns) == ["行", "列", "原因"])
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


def _decoded(at):
    """The preview of the rows as read (its key), as a table."""
    return next(d.value for d in at.dataframe if list(d.value.columns)[-1:] == ["问题"])


def test_the_preview_shows_the_rows_as_read_before_anything_is_written(demo_db):
    """A GBK file: its first rows and every row with a problem, decoded, before 确认导入."""
    at = login("admin")
    goto(at, "pages/admin_import.py").run()
    at.selectbox[0].select("units").run()
    rows = [f"新建学院{n},学院" for n in range(1, 13)] + ["新建处室,不是类型"]
    data = ("单位名称,单位类型\n" + "\n".join(rows) + "\n").encode("gbk")
    at.file_uploader[0].upload("units.csv", data, "text/csv").run()
    assert not at.exception, at.exception
    shown = _decoded(at)
    assert list(shown.columns) == ["行", "单位名称", "单位类型", "问题"]
    assert list(shown["行"]) == [*range(2, 12), 14]  # the first ten, then the row refused
    assert list(shown["单位名称"])[:2] == ["新建学院1", "新建学院2"]  # decoded, not garbled
    assert "错误" in shown["问题"].iloc[-1] and shown["问题"].iloc[0] == ""
    assert "GB18030" in texts(at) and "共 13 行数据" in texts(at)
    assert org.unit_by_name(demo_db, "新建学院1") is None


def test_a_file_with_the_wrong_columns_shows_what_it_holds(demo_db):
    at = login("admin")
    goto(at, "pages/admin_import.py").run()
    at.selectbox[0].select("units").run()
    at.file_uploader[0].upload("units.csv", "名称,类型\n新能源学院,学院\n".encode(), "text/csv").run()
    assert "导入被拒绝" in texts(at)
    shown = _decoded(at)
    assert list(shown.columns) == ["行", "名称", "类型", "问题"] and list(shown["名称"]) == ["新能源学院"]


def test_a_good_file_is_previewed_then_confirmed(demo_db):
    at = login("admin")
    goto(at, "pages/admin_import.py").run()
    at.selectbox[0].select("units").run()
    at.file_uploader[0].upload(
        "units.csv", "单位名称,单位类型\n新能源学院,学院\n".encode("utf-8-sig"), "text/csv"
    ).run()
    shown = _decoded(at)
    assert list(shown["单位名称"]) == ["新能源学院"] and "UTF-8" in texts(at)
    next(b for b in at.button if b.label == "确认导入").click().run()
    assert org.unit_by_name(demo_db, "新能源学院") is not None


def test_new_accounts_come_as_files_to_download_once_never_as_a_table_of_passwords(demo_db):
    at = login("admin")
    goto(at, "pages/admin_import.py").run()
    at.selectbox[0].select("accounts").run()
    at.file_uploader[0].upload(
        "accounts.csv",
        "工号,姓名,角色\nn2026001,新同学甲,师生\nn2026002,新同学乙,师生\n".encode(),
        "text/csv",
    ).run()
    next(b for b in at.button if b.label == "确认导入").click().run()
    assert not at.exception, at.exception
    labels = [b.label for b in at.get("download_button")]
    assert "账号清单（Excel）" in labels and "账号开通通知（Word，每人一页）" in labels
    assert "只能下载一次" in texts(at)
    shown = [d.value for d in at.dataframe]
    listed = next(d for d in shown if "账号" in d.columns)
    assert list(listed["姓名"]) == ["新同学甲", "新同学乙"] and "初始密码" not in listed.columns
    held = {v for d in shown for col in d.columns for v in d[col].astype(str)}
    assert not any(len(v) == 12 and v.isalnum() and not v.isdigit() for v in held - {"n2026001", "n2026002"})
