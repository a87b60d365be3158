"""The one module that knows how to reach the database: connections, transactions, settings.

* A connection per unit of work (``open_db()``), never shared across threads:
  Streamlit reruns a script on other threads, and sqlite3 connections refuse that.
* Set-up once per file and process: the file readable by its owner only (0600), WAL (it
  persists in the file) and the migration check;
  per connection: foreign keys on, ``synchronous = NORMAL``, a busy timeout.
* ``write(db)`` is the only way services write: it starts with ``BEGIN IMMEDIATE``
  so that check-then-insert (a booking's capacity) cannot race, and rolls back on
  any error so that bad input leaves the database as it was.
* The schema is a list of versioned migrations (sqlite-utils ``Migrations``) in
  ``portal/migrations.py``, applied here (``migrate``) by ``portal init`` and the first time a
  process opens the file.
"""

from __future__ import annotations

import functools
import os
import random
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlite_utils import Database
from sqlite_utils.db import Table

from . import config
from .errors import Busy
from .migrations import migrations

BUSY_TIMEOUT_MS = 5000
# How long a write waits for other writers (another session, another server process) before
# it gives up and the user is asked to try again. Long enough for a burst of bookings to drain.
WRITE_DEADLINE_S = 10.0


# --- connecting --------------------------------------------------------------------------


def _target(path: str | Path | None) -> Path:
    return Path(path) if path is not None else config.db_path()


def _file_key(target: Path) -> str | None:
    """The file's identity for this process's set-up cache (None: an in-memory database)."""
    if str(target) == ":memory:":
        return None
    return _resolved(str(target)) if target.is_absolute() else str(target.resolve())


@functools.lru_cache(maxsize=64)
def _resolved(absolute: str) -> str:
    # an absolute path's real path (symlinks followed) on every open_db was 3 % of a booking rush
    return str(Path(absolute).resolve())


# Files this process has set up: WAL switched on (it persists in the file) and migrations
# applied. A file that no longer exists is set up again when it is made anew.
_set_up: set[str] = set()


def connect(path: str | Path | None = None, *, shared: bool = False) -> Database:
    """A new connection with the per-connection pragmas. Prefer ``open_db()``.

    The busy timeout comes with ``sqlite3.connect``; foreign keys, ``synchronous`` and
    ``secure_delete`` hold for one connection only, so they are set on each. WAL is a property of the file: it is switched
    on the first time this process opens the file.
    """
    target = _target(path)
    key = _file_key(target)
    first = key is not None and (key not in _set_up or not target.exists())
    if first:
        private_file(target)
    # ``shared``: kept in open_db's pool and used by one thread at a time, not always the same one
    conn = sqlite3.connect(str(target), timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=not shared)
    db = Database(conn)
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("PRAGMA synchronous = NORMAL")
    # what is deleted (a purged telephone number, a retired account's name) is overwritten in the file,
    # not left in a free page (剩余信息保护); Debian's SQLite has it on by default, other builds do not
    db.execute("PRAGMA secure_delete = ON")
    db.execute(f"PRAGMA wal_autocheckpoint = {config.settings().wal_autocheckpoint}")
    if first:
        _switch_to_wal(db)
    return db


def _switch_to_wal(db: Database) -> None:
    """Switch the file to WAL (once: it persists in the file). The switch needs the file to itself,
    and while another connection is about to write it (threads or processes opening a new file at
    once, each setting it up) SQLite refuses at once with "database is locked" instead of waiting,
    which could deadlock; so the switch waits its turn here, as a write does."""

    def attempt(_left: float) -> None:
        mode = db.execute("PRAGMA journal_mode").fetchone()[0]
        if mode != "wal" and db.execute("PRAGMA journal_mode = WAL").fetchone()[0] != "wal":
            raise sqlite3.OperationalError("database is locked")  # not switched: try again

    with db.ensure_autocommit_on():
        _until_unlocked(attempt)


def private_file(path: Path) -> None:
    """Make ``path`` readable by its owner only (0600), creating it empty if missing.

    The database holds password hashes, the secret key and robot secrets: whatever the umask of
    the shell or job that first opens it, it is never readable by other local users. SQLite gives
    its ``-wal`` and ``-shm`` files the database file's permissions; a file another release made
    0644 is narrowed here too (and its ``-wal``/``-shm`` with it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        return
    except FileExistsError:
        pass
    for found in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            if found.stat().st_mode & 0o077:
                os.chmod(found, 0o600)
        except OSError:  # not there, or not ours (a read-only copy): SQLite will say what matters
            pass


def migrate(db: Database) -> None:
    """Apply pending migrations (idempotent, cheap when there are none).

    Under ``BEGIN IMMEDIATE`` so that two processes starting at once take turns; the
    loser finds nothing pending. Each migration becomes a savepoint of that transaction.
    """
    if not migrations.pending(db):
        return
    with write(db):
        migrations.apply(db)


# Idle connections kept for the next unit of work. A new connection parses the whole schema on its
# first statement (≈ 170 tables, indexes, triggers and FTS tables: 1–5 ms, 15 % of a booking rush's
# server CPU when every rerun opened two or three); a kept one has it parsed. One unit of work uses a
# connection at a time, on whichever thread it runs (Streamlit reruns hop threads): it is taken out
# of the pool for the unit and put back after, with no transaction open. A connection is kept only for
# the file it was opened on (device and inode: a file restored or made anew gets fresh ones), in the
# process that opened it (a forked child never touches its parent's), and only after a unit that ended
# normally. At most ``POOL_SIZE`` are kept, the least recently used closed first.
POOL_SIZE = 16
_pool: list[
    tuple[str, tuple[int, int], Database]
] = []  # (file key, (st_dev, st_ino), connection), oldest first
_pool_lock = threading.Lock()
_pool_pid = os.getpid()
_inherited: list = []  # a parent's connections after a fork: never used, never closed here


def _identity(target: Path) -> tuple[int, int] | None:
    try:
        found = os.stat(target)
    except OSError:
        return None
    return (found.st_dev, found.st_ino)


def _take(key: str, identity: tuple[int, int]) -> Database | None:
    global _pool_pid
    with _pool_lock:
        if _pool_pid != os.getpid():  # forked: the parent's connections are not ours to use
            _inherited.extend(_pool)
            _pool.clear()
            _pool_pid = os.getpid()
        for i in range(len(_pool) - 1, -1, -1):
            if _pool[i][0] == key:
                _, kept_identity, db = _pool.pop(i)
                if kept_identity == identity:
                    return db
                db.close()  # the file was replaced
    return None


def _give_back(key: str, identity: tuple[int, int], db: Database) -> None:
    try:
        if db.conn.in_transaction:
            db.conn.rollback()
    except sqlite3.ProgrammingError:  # closed by the unit itself
        return
    with _pool_lock:
        if _pool_pid != os.getpid():
            db.close()
            return
        _pool.append((key, identity, db))
        while len(_pool) > POOL_SIZE:
            _pool.pop(0)[2].close()


def close_pool() -> None:
    """Close every kept connection (before a file is replaced in place, e.g. a restore)."""
    with _pool_lock:
        while _pool:
            _pool.pop()[2].close()


@contextmanager
def open_db(path: str | Path | None = None) -> Iterator[Database]:
    """One unit of work: a connection of its own for the unit (kept for the next one when it ends
    normally). The first time this process opens a file, the file is set up (WAL) and migrated;
    later opens only connect, or reuse a kept connection."""
    target = _target(path)
    key = _file_key(target)
    known = key is not None and key in _set_up and target.exists()
    identity = _identity(target) if known else None
    db = _take(key, identity) if key is not None and identity is not None else None
    if db is None:
        db = connect(target, shared=known)
    try:
        if not known:
            migrate(db)
            if key is not None:
                _set_up.add(key)
        yield db
    except BaseException:
        db.close()
        raise
    if key is not None and identity is not None:  # known: only a known file has an identity here
        _give_back(key, identity, db)
    else:
        db.close()


@contextmanager
def write(db: Database, *, housekeeping: bool = False) -> Iterator[Database]:
    """A write transaction that takes the write lock at once (``BEGIN IMMEDIATE``).

    Nested calls become savepoints of the outer transaction, so a service can call
    another service and the whole stays all-or-nothing. A committed write bumps the data
    stamp (cached results are stale) unless it is ``housekeeping``: sessions and login
    bookkeeping, which no cached page shows — a login must not recompute everyone's pages.
    """
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    _begin_immediate(db)
    try:
        yield db
        if not housekeeping:
            _bump_stamp(db)
    except BaseException:
        if db.conn.in_transaction:
            db.execute("ROLLBACK")
        _AFTER_COMMIT.pop(db, None)
        raise
    else:
        db.execute("COMMIT")
        for action in _AFTER_COMMIT.pop(db, []):
            action()


# What to do once the transaction in progress has committed (and never if it rolls back).
_AFTER_COMMIT: weakref.WeakKeyDictionary[Database, list[Callable[[], None]]] = weakref.WeakKeyDictionary()


def after_commit(db: Database, action: Callable[[], None]) -> None:
    """Run ``action`` when the current ``write()`` commits, or now outside of one: what reports
    a change outside the database (a log line) must not report one that was rolled back."""
    if db.conn.in_transaction:
        _AFTER_COMMIT.setdefault(db, []).append(action)
    else:
        action()


def inserted_id(source: sqlite3.Cursor | Table) -> int:
    """The rowid the INSERT just run on ``source`` (a cursor, or a table after ``.insert()``) made.
    Both type it ``int | None``: None only when nothing was inserted, which is a bug here."""
    rowid = source.lastrowid if isinstance(source, sqlite3.Cursor) else source.last_rowid
    if rowid is None:
        raise RuntimeError("nothing was inserted")
    return rowid


@contextmanager
def snapshot(db: Database) -> Iterator[Database]:
    """A read transaction: every query inside sees the database as of its first read, whatever
    other connections commit meanwhile (WAL) — for a report read in several queries, such as a
    workbook of many sheets. Inside a transaction already, that one is the snapshot."""
    if db.conn.in_transaction:
        yield db
        return
    db.execute("BEGIN")
    try:
        yield db
    finally:
        if db.conn.in_transaction:
            db.execute("ROLLBACK")  # nothing was written: ending the read is all


def _bump_stamp(db: Database) -> None:
    """Every committed write changes the data stamp: cached results keyed on it are stale."""
    try:
        db.conn.execute("UPDATE data_stamp SET n = n + 1 WHERE id = 1")
    except sqlite3.OperationalError as exc:  # before migration m011_data_stamp
        if "no such table" not in str(exc):
            raise


def data_stamp(db: Database) -> int:
    """A number that changes whenever anything is written (one indexed read: cheap per rerun)."""
    try:
        row = db.conn.execute("SELECT n FROM data_stamp WHERE id = 1").fetchone()
    except sqlite3.OperationalError:
        return -1
    return row[0] if row else -1


def is_locked(exc: BaseException) -> bool:
    """SQLite's "database is locked" / "database is busy" (another writer holds the lock)."""
    text = str(exc).lower()
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text)


def _until_unlocked(attempt: Callable[[float], None]) -> None:
    """Run ``attempt(seconds_left)`` until it does not fail with "database is locked", for at most
    ``WRITE_DEADLINE_S``; then raise ``Busy``. A short random pause between attempts keeps many
    waiting connections from retrying in step."""
    deadline = time.monotonic() + WRITE_DEADLINE_S
    while True:
        try:
            attempt(deadline - time.monotonic())
            return
        except sqlite3.OperationalError as exc:
            if not is_locked(exc):
                raise
            if time.monotonic() + 0.01 >= deadline:
                raise Busy() from None
            time.sleep(random.uniform(0.002, 0.02))


def _begin_immediate(db: Database) -> None:
    """Take the write lock, waiting up to ``WRITE_DEADLINE_S``; then raise ``Busy``. SQLite's busy
    handler waits inside one attempt (its timeout is set to the time left)."""

    def attempt(left: float) -> None:
        db.conn.execute(f"PRAGMA busy_timeout = {max(1, int(left * 1000))}")
        db.conn.execute("BEGIN IMMEDIATE")

    try:
        _until_unlocked(attempt)
    finally:
        db.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")


def get_setting(db: Database, key: str, default: str | None = None) -> str | None:
    row = db.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
    return row[0] if row else default


def kept_setting(db: Database, key: str, make: Callable[[], str]) -> str:
    """The setting ``key``; the first time it is asked for, ``make()``'s value, kept. Processes
    asking at once keep one value: the first insert wins, the others read it."""
    found = get_setting(db, key)
    if found is not None:
        return found
    with write(db, housekeeping=True):
        db.execute("INSERT OR IGNORE INTO settings (key, value) VALUES (?, ?)", [key, make()])
        return db.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()[0]


def set_setting(db: Database, key: str, value: str) -> None:
    with write(db):
        db.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [key, value],
        )
