"""`portal restore` replaces the database's content page by page: under a running `portal serve` the
server's connections, caches and sessions went on over a database changed beneath them (a session
of the old one acting on the restored one, writes of the moment lost or mixed in). A restore is
refused while a server uses the database, and a server does not start while a restore runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from portal import accounts
from portal.accounts import Role
from portal.db import open_db
from tests.live import server


def _restore(db: Path, backup: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "portal", "--db", str(db), "restore", str(backup), "--yes"],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _users(db: Path) -> set[str]:
    with open_db(db) as handle:
        return {r[0] for r in handle.execute("SELECT username FROM users")}


def test_a_restore_is_refused_while_the_server_runs_on_the_database(db, tmp_path):
    accounts.create_user(db, "before", "备份前", "Passw0rd1", [Role(role="admin")])
    path = tmp_path / "portal.sqlite3"
    backup = tmp_path / "backups" / "portal-backup.sqlite3"
    done = subprocess.run(
        [sys.executable, "-m", "portal", "--db", str(path), "backup", str(backup)], capture_output=True
    )
    assert done.returncode == 0, done.stderr
    accounts.create_user(db, "after", "备份后", "Passw0rd1", [Role(role="admin")])
    with server(path):
        refused = _restore(path, backup)
        assert refused.returncode != 0
        assert "portal serve" in refused.stderr + refused.stdout and "停止" in refused.stderr + refused.stdout
        assert _users(path) == {"before", "after"}  # nothing replaced
    restored = _restore(path, backup)  # the server stopped: the restore goes ahead
    assert restored.returncode == 0, restored.stderr
    assert _users(path) == {"before"}


def test_the_demo_is_not_rebuilt_under_a_running_server(db, tmp_path):
    """`portal demo --force` deleted the database file and its WAL under the running server: the server
    went on writing to a file no longer there, the new demo beside it."""
    accounts.create_user(db, "kept", "保留", "Passw0rd1", [Role(role="admin")])
    db.execute("INSERT INTO units (name, kind) VALUES ('测试学院', 'college')")
    path = tmp_path / "portal.sqlite3"
    with server(path):
        refused = subprocess.run(
            [sys.executable, "-m", "portal", "--db", str(path), "demo", "--force"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert refused.returncode != 0
        assert "portal serve" in refused.stderr and "停止" in refused.stderr, refused.stderr
        assert _users(path) == {"kept"}
