"""Backups and the database hold the secret key, password hashes and robot secrets in clear
(issue 19 §14): every copy the portal writes is readable by its owner only (0600), whatever the
umask of the cron job or shell that runs it."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from portal import sessions
from portal.cli import cli
from portal.db import open_db


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def _open_umask():
    """A shell's usual umask (022): without care, files come out 0644, readable by every local user."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_a_backup_is_written_0600_in_a_private_folder(tmp_path):
    assert run("init").exit_code == 0
    target = tmp_path / "new-folder" / "portal-2026-11-24.sqlite3"
    result = run("backup", str(target))
    assert result.exit_code == 0, result.output
    assert mode(target) == 0o600, oct(mode(target))
    assert mode(target.parent) == 0o700, oct(mode(target.parent))
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name], "no journal left behind"
    with sqlite3.connect(target) as conn:  # the copy is whole: the secret key is in it, hence 0600
        assert conn.execute("SELECT count(*) FROM settings").fetchone()[0] > 0


def test_the_database_and_its_wal_are_0600(tmp_path):
    assert run("init").exit_code == 0
    path = Path(os.environ["PORTAL_DB"])
    with open_db() as db:
        sessions.secret_key(db)  # the database holds it
        db.execute("CREATE TABLE IF NOT EXISTS t (x)")  # something in the WAL
        assert (path.parent / (path.name + "-wal")).exists()
        for p in path.parent.glob(path.name + "*"):
            assert mode(p) == 0o600, (p.name, oct(mode(p)))


def test_a_restore_onto_a_new_database_writes_it_0600(tmp_path, monkeypatch):
    assert run("init").exit_code == 0
    backup = tmp_path / "b" / "backup.sqlite3"
    assert run("backup", str(backup)).exit_code == 0
    fresh = tmp_path / "elsewhere" / "portal.sqlite3"
    monkeypatch.setenv("PORTAL_DB", str(fresh))
    result = run("restore", str(backup), "--yes")
    assert result.exit_code == 0, result.output
    assert mode(fresh) == 0o600, oct(mode(fresh))
    leftovers = [p.name for p in fresh.parent.iterdir() if not p.name.startswith("portal.sqlite3")]
    assert leftovers == []


def test_a_replica_address_is_printed_without_its_password():
    from portal import backups

    assert backups.shown("sftp://portal:s3cret@backup.example.edu.cn/srv/portal") == (
        "sftp://portal:***@backup.example.edu.cn/srv/portal"
    )
    assert backups.shown("/mnt/replica/portal") == "/mnt/replica/portal"


def test_the_server_does_not_start_while_a_restore_runs(tmp_path, monkeypatch):
    """The other half of the lock tests/server/test_restore_while_serving.py proves: `portal serve`
    started during a restore would open a database being replaced."""
    from portal import backups, server

    assert run("init").exit_code == 0
    monkeypatch.setattr(server, "serve", lambda **_: pytest.fail("the server started during a restore"))
    with backups.restoring():
        result = CliRunner().invoke(cli, ["serve"])
    assert result.exit_code == 1 and "正在恢复" in result.output, result.output


def test_a_restore_through_another_name_of_the_database_is_refused_too(tmp_path, monkeypatch):
    """The server runs on the database by one name (the unit's PORTAL_DB, a link to the data disk),
    the administrator restores it by another (the file's own path): still one database, one lock."""
    from portal import backups, config

    assert run("init").exit_code == 0
    real = config.db_path()
    link = tmp_path / "link.sqlite3"
    link.symlink_to(real)
    monkeypatch.setenv("PORTAL_DB", str(link))
    with backups.serving():
        monkeypatch.setenv("PORTAL_DB", str(real))
        with pytest.raises(backups.BackupError, match="请先停止服务"), backups.restoring():
            pytest.fail("the restore ran under the server")
