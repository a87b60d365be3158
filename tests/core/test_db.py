import sqlite3
import threading

import pytest

from portal import db as dbmod
from portal.db import open_db, write


def test_pragmas_and_schema(db):
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] == dbmod.BUSY_TIMEOUT_MS
    for table in (
        "units",
        "people",
        "cadre_posts",
        "users",
        "user_roles",
        "sessions",
        "activities",
        "bookings",
        "cases",
        "case_events",
    ):
        assert db[table].exists(), table


def test_migrations_are_idempotent_and_recorded(db):
    before = db.execute("SELECT count(*) FROM _sqlite_migrations").fetchone()[0]
    dbmod.migrate(db)
    assert db.execute("SELECT count(*) FROM _sqlite_migrations").fetchone()[0] == before
    assert before == len(dbmod.migrations._migrations)


def test_write_rolls_back_on_error(db):
    with pytest.raises(RuntimeError), write(db):
        db.execute("INSERT INTO settings (key, value) VALUES ('x', '1')")
        raise RuntimeError("boom")
    assert db.execute("SELECT count(*) FROM settings WHERE key = 'x'").fetchone()[0] == 0


def test_write_nests_as_savepoint(db):
    with write(db):
        db.execute("INSERT INTO settings (key, value) VALUES ('a', '1')")
        with pytest.raises(ValueError), write(db):
            db.execute("INSERT INTO settings (key, value) VALUES ('b', '1')")
            raise ValueError
    keys = [r[0] for r in db.execute("SELECT key FROM settings")]
    assert "a" in keys and "b" not in keys


def test_write_takes_the_lock_immediately(tmp_path):
    path = tmp_path / "portal.sqlite3"
    with open_db(path) as first, open_db(path) as second:
        second.execute("PRAGMA busy_timeout = 50")
        with write(first), pytest.raises(sqlite3.OperationalError, match="locked"):
            second.execute("BEGIN IMMEDIATE")


def test_connection_per_thread(tmp_path):
    path = tmp_path / "portal.sqlite3"
    errors = []

    def work():
        try:
            with open_db(path) as handle, write(handle):
                handle.execute("INSERT INTO audit_log (at, action) VALUES ('t', 'x')")
        except Exception as exc:  # pragma: no cover - the assertion shows it
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with open_db(path) as handle:
        assert handle.execute("SELECT count(*) FROM audit_log").fetchone()[0] == 8


def test_foreign_keys_enforced(db):
    with pytest.raises(sqlite3.IntegrityError), write(db):
        db.execute("INSERT INTO people (staff_no, name, unit_id) VALUES ('1', '张三', 999)")


def test_an_older_schema_migrates_forward_keeping_its_data(tmp_path):
    """A database made by an earlier release (only the first migrations applied) opens and upgrades."""
    path = tmp_path / "old.sqlite3"
    first_later = dbmod.migrations._migrations[2].name
    old = dbmod.connect(path)
    dbmod.migrations.apply(old, stop_before=first_later)
    old.execute("INSERT INTO units (name, kind) VALUES ('教务处', 'department')")
    old.conn.commit()
    assert not old["activities"].exists()
    old.close()
    with open_db(path) as db:
        applied = [m.name for m in dbmod.migrations.applied(db)]
        assert applied == [m.name for m in dbmod.migrations._migrations]
        assert db["activities"].exists() and db["cases"].exists()
        assert db.execute("SELECT name FROM units").fetchall() == [("教务处",)]


def statements_of_open(path) -> list[str]:
    """The SQL one ``open_db(path)`` runs before the caller's first query (bench/db_bench.py counts
    them too)."""
    seen: list[str] = []
    original = dbmod.sqlite3.connect

    def traced(*args, **kwargs):
        conn = original(*args, **kwargs)
        conn.set_trace_callback(seen.append)
        return conn

    dbmod.sqlite3.connect = traced
    try:
        with open_db(path):
            pass
    finally:
        dbmod.sqlite3.connect = original
    return seen


def test_a_file_is_set_up_once_per_process_and_each_connection_gets_its_pragmas(tmp_path):
    path = tmp_path / "portal.sqlite3"
    first = statements_of_open(path)
    assert any("journal_mode" in s for s in first) and any("_sqlite_migrations" in s for s in first)
    again = statements_of_open(path)
    assert not any("journal_mode" in s or "sqlite_master" in s or "_sqlite_migrations" in s for s in again)
    with open_db(path) as db:  # and yet each connection is set up
        assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert db.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        assert db.execute("PRAGMA busy_timeout").fetchone()[0] == dbmod.BUSY_TIMEOUT_MS
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_file_made_anew_at_a_known_path_is_set_up_again(tmp_path):
    """``portal demo --force`` deletes the file and opens the path again in the same process."""
    path = tmp_path / "portal.sqlite3"
    with open_db(path):
        pass
    for suffix in ("", "-wal", "-shm"):
        (tmp_path / f"portal.sqlite3{suffix}").unlink(missing_ok=True)
    with open_db(path) as db:
        assert db["users"].exists()
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_every_foreign_key_and_supervision_filter_has_an_index(db):
    """Lookups by a foreign key (a case's activity, a user's bookings …) and the supervision filters
    (a department's open cases by due date) never scan a whole table."""
    missing = []
    for (table,) in db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ):
        first = set()
        for index in db.execute(f"PRAGMA index_list({table})").fetchall():
            partial = index[4]
            cols = [r[2] for r in db.execute(f"PRAGMA index_info({index[1]})")]
            if cols and not partial:
                first.add(cols[0])
        pk = [r[1] for r in db.execute(f"PRAGMA table_info({table})") if r[5] == 1]
        for fk in db.execute(f"PRAGMA foreign_key_list({table})").fetchall():
            if fk[3] not in first and pk[:1] != [fk[3]]:
                missing.append(f"{table}.{fk[3]}")
    assert not missing
    plan = " ".join(
        str(r[3])
        for r in db.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM cases WHERE responsible_dept = ? AND state IN ('registered', "
            "'referred') ORDER BY due_date",
            ["党办"],
        )
    )
    assert "responsible_dept" in plan, plan


def test_a_new_file_opened_while_another_connection_writes_it_still_switches_to_wal(tmp_path):
    """Switching a file to WAL needs it to itself, and SQLite refuses at once ("database is locked")
    rather than wait while another connection is about to write it (its busy handler would deadlock): threads or processes opening a new database
    at the same moment (8 threads, tests/core/test_db.py::test_connection_per_thread, failed so under
    load). The switch waits its turn as a write does."""
    path = tmp_path / "new.sqlite3"
    reader = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    reader.execute("CREATE TABLE t (x)")
    reader.execute("BEGIN IMMEDIATE")  # another connection about to write (as one setting the file up)
    threading.Timer(0.3, lambda: reader.execute("COMMIT")).start()
    handle = dbmod.connect(path)
    assert handle.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    handle.close()
    reader.close()


def test_what_is_deleted_is_overwritten_in_the_file(tmp_path):
    """剩余信息保护: a row deleted (a purged telephone number) leaves no copy in the file's free pages.
    Every connection asks for it (``secure_delete``), whatever the SQLite build's default."""
    path = tmp_path / "portal.sqlite3"
    first = statements_of_open(path)
    assert any("secure_delete = ON" in s for s in first), first
    with open_db(path) as db:
        assert db.execute("PRAGMA secure_delete").fetchone()[0] == 1
        with write(db):
            db.execute("CREATE TABLE probe (id INTEGER PRIMARY KEY, v TEXT)")
            for i in range(50):
                db.execute("INSERT INTO probe (v) VALUES (?)", [f"其他记录 {i} " * 10])
            db.execute("INSERT INTO probe (v) VALUES (?)", ["联系电话 13912345678"])
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        with write(db):
            db.execute("DELETE FROM probe WHERE v LIKE '联系电话%'")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    files = [path, path.with_name(path.name + "-wal")]
    assert not any(f.exists() and b"13912345678" in f.read_bytes() for f in files)
