"""The portal command line: init, demo, import, user, backup/restore, serve."""

import sqlite3

from click.testing import CliRunner

from portal.cli import cli


def run(*args, input=None):
    result = CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)
    return result


def test_db_path_from_option_env_and_default(tmp_path, monkeypatch):
    target = tmp_path / "custom.sqlite3"
    assert run("--db", str(target), "init").exit_code == 0
    assert target.exists()
    monkeypatch.setenv("PORTAL_DB", str(tmp_path / "env.sqlite3"))
    assert run("init").exit_code == 0
    assert (tmp_path / "env.sqlite3").exists()


def test_import_reports_rows_and_exits_non_zero(tmp_path):
    good = tmp_path / "units.csv"
    good.write_text("单位名称,单位类型\n教务处,部门\n", encoding="utf-8-sig")
    result = run("import", "units", str(good))
    assert result.exit_code == 0 and "新增 1 条" in result.output
    bad = tmp_path / "cadres.csv"
    bad.write_text("工号,姓名,单位,职务,级别\n1,甲,无此单位,处长,正处\n", encoding="utf-8")
    result = run("import", "cadres", str(bad))
    assert result.exit_code == 1
    assert "第 2 行" in result.output and "无此单位" in result.output


def test_user_add_admin_and_reset(tmp_path):
    result = run("user", "add", "root", "--admin", "--name", "管理员", input="Secret123\nSecret123\n")
    assert result.exit_code == 0 and "管理员" in result.output
    result = run("user", "add", "root", "--admin", input="Secret123\nSecret123\n")
    assert result.exit_code == 1 and "已存在" in result.output
    result = run("user", "reset-password", "root")
    assert result.exit_code == 0 and "新密码" in result.output
    assert run("user", "reset-password", "nobody").exit_code == 1


def test_demo_refuses_to_overwrite_without_force(tmp_path):
    assert "干部" in run("demo").output
    assert "已有数据" in run("demo").output
    assert "干部" in run("demo", "--force", "--seed", "2").output


def test_backup_and_restore_round_trip(tmp_path):
    run("demo")
    backup = tmp_path / "backup.sqlite3"
    assert run("backup", str(backup)).exit_code == 0
    conn = sqlite3.connect(backup)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    people = conn.execute("SELECT count(*) FROM people").fetchone()[0]
    conn.close()
    assert run("backup", str(backup)).exit_code == 1  # never overwrites
    from portal.db import open_db

    with open_db() as db:
        db.execute("DELETE FROM user_roles")
        db.conn.commit()
    assert run("restore", str(backup), "--yes").exit_code == 0
    with open_db() as db:
        assert db.execute("SELECT count(*) FROM people").fetchone()[0] == people
        assert db.execute("SELECT count(*) FROM user_roles").fetchone()[0] > 0
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"not a database")
    assert run("restore", str(junk), "--yes").exit_code == 1


def test_user_link_unlink_and_list(tmp_path):
    """Issue 19 §1.2: linking a campus identity to a local account from the command line, audited."""
    assert run("user", "add", "root", "--admin", input="Secret-123\nSecret-123\n").exit_code == 0
    result = run("user", "link", "root", "it-zhang")
    assert result.exit_code == 0 and "it-zhang" in result.output
    assert run("user", "link", "nobody", "x1").exit_code == 1
    result = run("user", "links")
    assert result.exit_code == 0 and result.output.startswith("it-zhang\troot\t")
    assert run("user", "unlink", "it-zhang").exit_code == 0
    assert run("user", "links", "root").output == ""
    assert run("user", "unlink", "it-zhang").exit_code == 1
