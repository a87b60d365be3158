import io

import pytest
from openpyxl import Workbook

from portal import accounts, imports, org
from portal.errors import ImportRejected

UNITS = "单位名称,单位类型\n校领导班子,部门\n教务处,部门\n党委办公室,部门\n计算机科学与技术学院,学院\n校工会,部门\n"
CADRES = (
    "工号,姓名,单位,职务,级别,标签,中共党员,分管单位,任职开始,任职结束\n"
    "10000001,张书记,校领导班子,党委书记,校级,party_secretary;principal,是,党委办公室；教务处,2020-01-01,\n"
    "10010001,李处长,教务处,教务处处长,正处,principal,是,,2021-09-01,\n"
    "10010002,赵院长,计算机科学与技术学院,院长,正处,dean;principal,否,,,\n"
    "10010002,赵院长,教务处,教务处兼职副处长,副处,,否,,2022-01-01,2023-12-31\n"
)


def load(db, kind, text, name="x.csv", **kw):
    return imports.run_import(db, kind, name, text.encode("utf-8-sig"), **kw)


def snapshot(db):
    return [
        list(db.execute(f"SELECT * FROM {t} ORDER BY 1"))
        for t in ("units", "people", "cadre_posts", "post_charges", "users", "user_roles")
    ]


def test_units_and_cadres_import_and_reimport_is_idempotent(db):
    assert load(db, "units", UNITS).counts["created"] == 5
    report = load(db, "cadres", CADRES)
    assert report.counts["created"] == 4
    cadre = next(c for c in org.list_cadres(db) if c.staff_no == "10000001")
    post = cadre.posts[0]
    assert post.level == "校级" and {"school_leader", "party_secretary", "cpc_member"} <= post.all_tags
    assert sorted(post.charges) == ["党委办公室", "教务处"]
    zhao = next(c for c in org.list_cadres(db) if c.staff_no == "10010002")
    assert len(zhao.posts) == 2 and "middle_cadre" in zhao.posts[0].all_tags
    before = snapshot(db)
    again = load(db, "cadres", CADRES)
    assert again.counts["unchanged"] == 4 and snapshot(db) == before
    assert load(db, "units", UNITS).counts["unchanged"] == 5


def test_bad_rows_are_all_reported_and_nothing_is_written(db):
    load(db, "units", UNITS)
    before = snapshot(db)
    bad = (
        "工号,姓名,单位,职务,级别,标签,中共党员,任职开始\n"
        "10000001,张书记,校领导班子,党委书记,校级,party_secretary,是,2020-01-01\n"
        ",无工号,教务处,处长,正处,,,\n"
        "10010009,钱某,不存在的处,处长,正处,,,\n"
        "10010010,孙某,教务处,处长,厅级,,,\n"
        "10010011,周某,教务处,副处长,副处,wizard,也许,2020-13-45\n"
        "10000001,张书记,校领导班子,党委书记,校级,,是,\n"
    )
    with pytest.raises(ImportRejected) as exc:
        load(db, "cadres", bad)
    found = {(e.row, e.column) for e in exc.value.errors}
    assert {
        (3, "工号"),
        (4, "单位"),
        (5, "级别"),
        (6, "标签"),
        (6, "中共党员"),
        (6, "任职开始"),
        (7, ""),
    } <= found
    assert "第 4 行" in exc.value.report() and "不存在" in exc.value.report()
    assert snapshot(db) == before


def test_bad_import_leaves_the_file_byte_for_byte(db, tmp_path):
    load(db, "units", UNITS)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    path = tmp_path / "portal.sqlite3"
    raw = path.read_bytes()
    with pytest.raises(ImportRejected):
        load(db, "cadres", "工号,姓名,单位,职务,级别\n1,甲,无此单位,处长,正处\n")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert path.read_bytes() == raw


def test_missing_columns_wrong_type_and_unreadable_files(db):
    with pytest.raises(ImportRejected) as exc:
        load(db, "units", "单位名称\n教务处\n")
    assert exc.value.errors[0].column == "单位类型" and exc.value.errors[0].row == 1
    with pytest.raises(ImportRejected, match="类型不受支持"):
        imports.run_import(db, "units", "x.exe", b"MZ")
    with pytest.raises(ImportRejected):
        imports.run_import(db, "units", "x.xlsx", b"not a zip")
    with pytest.raises(ImportRejected, match="编码"):
        imports.run_import(
            db, "units", "x.csv", "单位名称,单位类型\n教务处,部门\n".encode("gbk") + b"\xff\x80"
        )


def test_xlsx_first_sheet_and_date_cells(db):
    import datetime as dt

    load(db, "units", UNITS)
    wb = Workbook()
    ws = wb.active
    ws.append(
        ["姓名", "工号", "单位", "职务", "级别", "任职开始", "备注"]
    )  # any order, extra columns ignored
    ws.append(["李处长", 10010001, "教务处", "教务处处长", "正处", dt.datetime(2021, 9, 1), "x"])
    buf = io.BytesIO()
    wb.save(buf)
    report = imports.run_import(db, "cadres", "cadres.xlsx", buf.getvalue())
    assert report.counts["created"] == 1
    post = org.list_cadres(db)[0].posts[0]
    assert post.start_date.isoformat() == "2021-09-01" and org.list_cadres(db)[0].staff_no == "10010001"


def test_dry_run_previews_without_writing(db):
    report = load(db, "units", UNITS, dry_run=True)
    assert report.counts["created"] == 5 and report.dry_run
    assert db.execute("SELECT count(*) FROM units").fetchone()[0] == 0


def test_account_import_creates_people_accounts_and_passwords(db):
    load(db, "units", UNITS)
    text = "工号,姓名,角色,部门,单位,人员类别\ns2023001,学生甲,师生,,计算机科学与技术学院,学生\nd001,教务员,部门,教务处,教务处,教职工\n"
    report = load(db, "accounts", text)
    assert report.counts["created"] == 2 and len(report.secrets) == 2
    username, password = report.secrets[0]
    assert accounts.authenticate(db, username, password).has("visitor")
    assert accounts.find_user(db, "d001").departments == ["教务处"]
    assert load(db, "accounts", text).counts["unchanged"] == 2


def test_initial_passwords_are_hashed_lightly_and_upgraded_on_first_login(db):
    load(db, "units", UNITS)
    report = load(db, "accounts", "工号,姓名,角色\ns1,甲,师生\n")
    username, password = report.secrets[0]
    stored = db.execute("SELECT password_hash FROM users WHERE username = ?", [username]).fetchone()[0]
    assert stored.startswith("$argon2id$") and "m=8192" in stored
    accounts.authenticate(db, username, password)
    upgraded = db.execute("SELECT password_hash FROM users WHERE username = ?", [username]).fetchone()[0]
    assert upgraded != stored and "m=8192" not in upgraded
