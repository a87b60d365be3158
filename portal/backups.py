"""Copies of the database, and putting one back (``portal backup`` / ``portal restore``).

* A backup is SQLite's online backup of the live database: consistent while the server runs. It
  holds everything, the secret key, password hashes and robot secrets included, so it is written
  readable by its owner only (0600, in a 0700 folder when the folder is new), whatever the umask;
  docs/operations.md says how to encrypt it and copy it off the host.
* A restore checks the file first (an intact SQLite database of this portal), copies it into the
  database and migrates an older schema forward. The source is a backup file, or a point of the
  continuous Litestream replica (``portal.replication``), fetched into a private temporary folder
  beside the database, checked the same way and removed afterwards.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from . import config, seeds
from .db import connect, migrate, private_file
from .errors import PortalError


class BackupError(PortalError):
    """A backup or restore that did not happen; the message says why, in Chinese."""


def private_folder(folder: Path) -> None:
    """Create ``folder`` (and its parents) if missing; a folder made here is 0700."""
    if folder.exists():
        return
    private_folder(folder.parent)
    folder.mkdir(mode=0o700)
    os.chmod(folder, 0o700)  # mkdir's mode is narrowed by the umask, never widened: set it exactly


def backup(target: Path) -> None:
    """Write a consistent copy of the live database to ``target`` (never over an existing file)."""
    if target.exists():
        raise BackupError(f"{target} 已存在，未覆盖")
    private_folder(target.parent)
    try:
        os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        raise BackupError(f"{target} 已存在，未覆盖") from None
    source = connect()
    try:
        dest = sqlite3.connect(str(target))
        try:
            with dest:
                source.conn.backup(dest)
        finally:
            dest.close()
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    finally:
        source.close()


def check(path: Path) -> None:
    """Raise ``BackupError`` unless ``path`` is an intact database of this portal."""
    try:
        source = sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True)
    except sqlite3.Error:
        raise BackupError(f"{path} 不是完好的本平台数据库备份，未作任何修改") from None
    try:
        ok = source.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        is_portal = (
            source.execute("SELECT 1 FROM sqlite_master WHERE name = '_sqlite_migrations'").fetchone()
            is not None
        )
    except sqlite3.DatabaseError:
        ok = is_portal = False
    finally:
        source.close()
    if not (ok and is_portal):
        raise BackupError(f"{path} 不是完好的本平台数据库备份，未作任何修改")


def restore(source: Path) -> None:
    """Replace the database's content with ``source`` (checked first; stop the server before)."""
    check(source)
    private_file(config.db_path())
    src = sqlite3.connect(f"file:{source.resolve()}?mode=ro", uri=True)
    db = connect()
    try:
        with db.conn:
            src.backup(db.conn)
        migrate(db)
        seeds.seed(db)  # a backup from before the seeds moved out of the migrations
    finally:
        src.close()
        db.close()
