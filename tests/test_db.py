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
