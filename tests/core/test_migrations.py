"""The schema's migrations (portal/migrations.py): a CHECK is widened by rebuilding the table through
sqlite-utils' transform, and the rebuild keeps every row, index, trigger and reference."""

from __future__ import annotations

import sqlite3

import pytest

from portal import db as portal_db
from portal import migrations as schema
from portal.migrations import migrations


def _named(suffix: str):
    """A migration by the end of its name, whatever number a merge gives it."""
    (found,) = [m for m in migrations._migrations if m.name.endswith(suffix)]
    return found


def _before(tmp_path, suffix: str):
    """A database whose migrations stopped just before the one named ``…suffix``."""
    handle = portal_db.connect(tmp_path / "old.sqlite3")
    with portal_db.write(handle):
        migrations.apply(handle, stop_before=_named(suffix).name)
    return handle


def _schema_of(handle, table: str) -> dict[str, list[str]]:
    rows = handle.execute(
        "SELECT type, name FROM sqlite_master WHERE tbl_name = ? AND name NOT LIKE 'sqlite_autoindex%' "
        "ORDER BY type, name",
        [table],
    ).fetchall()
    found: dict[str, list[str]] = {}
    for kind, name in rows:
        found.setdefault(kind, []).append(name)
    return found


def _rows(handle, table: str, columns: list[str]) -> list[tuple]:
    return handle.execute(f"SELECT rowid, {', '.join(columns)} FROM {table} ORDER BY rowid").fetchall()


CASE = (
    "INSERT INTO cases (id, number, source, content, responsible_dept, state, contact_date, deadline_days, "
    "due_date, created_at, updated_at) VALUES (?, ?, 'other', '旧的意见', '党办', 'referred', '2026-11-02', 10, "
    "'2026-11-16', 'x', 'x')"
)


def test_widening_the_case_states_keeps_rows_indexes_triggers_and_references(tmp_path):
    handle = _before(tmp_path, "_case_withdrawal")
    for n in (1, 2, 5):
        handle.execute(CASE, [n, f"2026-000{n}"])
        handle.execute("INSERT INTO case_events (case_id, at, action) VALUES (?, 'x', 'opened')", [n])
    # a guard another developer put on the table: it must survive the rebuild
    handle.execute(
        "CREATE TRIGGER cases_watch AFTER UPDATE OF state ON cases "
        "BEGIN INSERT INTO settings (key, value) VALUES ('watched.' || new.id, new.state); END"
    )
    handle.conn.commit()
    declared = handle.execute("PRAGMA table_info(cases)").fetchall()  # names, types, NOT NULL, defaults
    columns = [r[1] for r in declared]
    rows = _rows(handle, "cases", columns)
    shape = _schema_of(handle, "cases")
    assert {"search_case_i", "search_case_u", "search_case_d", "cases_watch"} <= set(shape["trigger"])

    portal_db.migrate(handle)

    assert handle.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert handle.execute("PRAGMA foreign_key_check").fetchall() == []
    assert handle.execute("PRAGMA writable_schema").fetchone()[0] == 0
    assert _rows(handle, "cases", columns) == rows
    assert handle.execute("PRAGMA table_info(cases)").fetchall()[: len(declared)] == declared
    after = _schema_of(handle, "cases")
    assert set(shape["trigger"]) <= set(after["trigger"]) and set(shape["index"]) <= set(after["index"])
    handle.execute("DELETE FROM search_queue")
    handle.execute("UPDATE cases SET state = 'withdrawn' WHERE id = 2")  # the wider CHECK
    assert handle.execute("SELECT value FROM settings WHERE key = 'watched.2'").fetchone() == ("withdrawn",)
    assert handle.execute("SELECT doc FROM search_queue").fetchall() == [(5,)]  # case 2's search document
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        handle.execute("UPDATE cases SET state = 'lost' WHERE id = 1")
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        handle.execute("INSERT INTO case_events (case_id, at, action) VALUES (99, 'x', 'opened')")
    handle.close()


def test_widening_the_outbox_states_keeps_queued_messages(tmp_path):
    handle = _before(tmp_path, "_notify_skipped")
    handle.execute("INSERT INTO users (id, username, display_name, created_at) VALUES (1, 'u', 'U', 'x')")
    for key in ("a", "b"):
        handle.execute(
            "INSERT INTO notify_outbox (event, dedupe_key, user_id, channel, payload, next_attempt_at, created_at) "
            "VALUES ('booking.confirmed', ?, 1, 'email', '{}', 'x', 'x')",
            [key],
        )
    handle.conn.commit()
    columns = [r[1] for r in handle.execute("PRAGMA table_info(notify_outbox)")]
    rows = _rows(handle, "notify_outbox", columns)

    portal_db.migrate(handle)

    assert _rows(handle, "notify_outbox", columns) == rows
    handle.execute("UPDATE notify_outbox SET state = 'skipped' WHERE dedupe_key = 'a'")
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):  # one message per occurrence, user, channel
        handle.execute(
            "INSERT INTO notify_outbox (event, dedupe_key, user_id, channel, payload, next_attempt_at, created_at) "
            "VALUES ('booking.confirmed', 'b', 1, 'email', '{}', 'x', 'x')"
        )
    handle.execute("DELETE FROM users WHERE id = 1")  # ON DELETE CASCADE, as before the rebuild
    assert handle.execute("SELECT count(*) FROM notify_outbox").fetchone()[0] == 0
    handle.close()


def test_a_widening_runs_again_without_change(db):
    before = db.execute("SELECT sql FROM sqlite_master WHERE name = 'cases'").fetchone()[0]
    with portal_db.write(db):
        _named("_case_withdrawal").fn(db)
    assert db.execute("SELECT sql FROM sqlite_master WHERE name = 'cases'").fetchone()[0] == before


def _scratch(tmp_path, on_delete: str):
    handle = portal_db.connect(tmp_path / f"scratch-{on_delete.replace(' ', '_')}.sqlite3")
    handle.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY, state TEXT CHECK (state IN ('a', 'b')))")
    handle.execute(
        f"CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id) {on_delete})"
    )
    handle.execute("INSERT INTO parent (id, state) VALUES (1, 'a')")
    handle.execute("INSERT INTO child (id, parent_id) VALUES (10, 1)")
    handle.conn.commit()
    return handle


def test_a_widening_never_fires_a_cascade_on_the_rows_that_reference_the_table(tmp_path):
    """Dropping the old table inside the migration's transaction, where PRAGMA foreign_keys cannot
    be turned off, would delete (or empty) the rows that cascade from it: refused, nothing changed."""
    for action in ("ON DELETE CASCADE", "ON DELETE SET NULL"):
        handle = _scratch(tmp_path, action)
        with pytest.raises(RuntimeError, match="child.parent_id"), portal_db.write(handle):
            schema._widen_check(
                handle, "parent", "CHECK (state IN ('a', 'b'))", "CHECK (state IN ('a', 'b', 'c'))"
            )
        assert handle.execute("SELECT id, parent_id FROM child").fetchall() == [(10, 1)]
        assert (
            "'c'" not in handle.execute("SELECT sql FROM sqlite_master WHERE name = 'parent'").fetchone()[0]
        )
        handle.close()


def test_a_widening_keeps_plain_references_checked(tmp_path):
    handle = _scratch(tmp_path, "")
    with portal_db.write(handle):
        schema._widen_check(
            handle, "parent", "CHECK (state IN ('a', 'b'))", "CHECK (state IN ('a', 'b', 'c'))"
        )
    handle.execute("UPDATE parent SET state = 'c'")
    assert handle.execute("SELECT id, parent_id FROM child").fetchall() == [(10, 1)]
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        handle.execute("DELETE FROM parent")
    handle.close()


def test_a_widening_refuses_a_check_the_migrations_did_not_make(tmp_path):
    handle = _scratch(tmp_path, "")
    with pytest.raises(RuntimeError, match="CHECK to widen"), portal_db.write(handle):
        schema._widen_check(handle, "parent", "CHECK (state IN ('x'))", "CHECK (state IN ('x', 'y'))")
    handle.close()


def test_every_column_of_an_append_only_record_but_its_text_is_refused_a_change(db):
    """m033_retention_pass names the columns its triggers refuse; a column added to one of those tables
    by a later migration must be named too (re-create the trigger there), or it could be changed."""
    for table, text, _ in schema.RETENTION_TEXTS:
        columns = {c[1] for c in db.execute(f"PRAGMA table_info({table})")}
        (sql,) = db.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", [f"{table}_append_only_u"]
        ).fetchone()
        named = {c.strip() for c in sql.split(" OF ", 1)[1].split(" ON ", 1)[0].split(",")}
        assert named == columns - {text}, table
