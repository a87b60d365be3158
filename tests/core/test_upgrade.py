"""An upgrade keeps the data: a database made by each earlier release (tests/fixtures/v<version>.sql,
made by that release's own code: tests/fixtures/make_v0_1_0.py) is opened with today's code, every
migration applies, and what the release stored is still there — every row and every value of every
column it had — and still works: accounts log in, cases keep their history and answers, bookings,
activities, the API token and the calendar address of the earlier release.

CHANGELOG.md names the releases: each one before the current version has its fixture."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
import tomllib
from pathlib import Path

import pytest
from sqlite_utils import Database

from portal import accounts, activities, api_tokens, audit, cases, feeds, rulesets, workdays
from portal.db import migrations, open_db
from portal.notify import outbox
from portal.reception import bookings
from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures"
RELEASES = sorted(FIXTURES.glob("v*.sql"))
# What a migration may change in a release's rows, and why.
CHANGES_EXPECTED = {
    ("data_stamp", "n"): "every committed write moves the data stamp (m011): migrating is one"
}


def _version(path: Path) -> str:
    return path.stem.removeprefix("v").replace("_", ".")


def _secrets(dump: str) -> dict[str, str]:
    """What the fixture's maker noted in its header: the tokens the database keeps only as digests."""
    found = {}
    for line in dump.splitlines():
        if not line.startswith("-- "):
            break
        what, sep, value = line[3:].partition(": ")
        if sep and value and " " not in value:
            found[what] = value
    return found


def _rows(conn: sqlite3.Connection) -> dict[str, tuple[list[str], list[tuple]]]:
    """Each table's columns and rows (in rowid order), the search index's internals aside."""
    tables = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'search_index%' "
            "AND name NOT LIKE 'sqlite_%' AND name != '_sqlite_migrations'"
        )
    ]
    out = {}
    for table in tables:
        columns = [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]
        out[table] = (columns, conn.execute(f'SELECT * FROM "{table}" ORDER BY rowid').fetchall())
    return out


@pytest.fixture(params=RELEASES, ids=_version)
def release(request, tmp_path):
    """(the release's rows as it left them, the path of its database after today's code opened it,
    the tokens noted by its maker)."""
    dump = request.param.read_text(encoding="utf-8")
    path = tmp_path / "portal.sqlite3"  # PORTAL_DB (tests/conftest.py): what every service opens
    conn = sqlite3.connect(path)
    conn.executescript(dump)
    before = _rows(conn)
    applied = [r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations ORDER BY id")]
    conn.close()
    assert migrations.pending(Database(path)), "the fixture is older than today's schema"
    with open_db(path):
        pass  # the first open of a file migrates it
    return before, path, _secrets(dump), applied


def test_every_release_before_this_one_has_its_database():
    """A release's schema is tested as long as an installation may still run it."""
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    released = re.findall(r"^## (\d+\.\d+\.\d+)", changelog, flags=re.M)
    current = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    earlier = [v for v in released if v != current]
    assert earlier, "CHANGELOG.md names no earlier release"
    assert sorted(_version(p) for p in RELEASES) == sorted(earlier)


def test_every_migration_applies_and_the_file_is_sound(release):
    _, path, _, applied = release
    with open_db(path) as db:
        assert not migrations.pending(db)
        names = [r[0] for r in db.execute("SELECT name FROM _sqlite_migrations ORDER BY id")]
        assert names[: len(applied)] == applied  # the release's own, then every later one
        assert len(names) > len(applied)
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []


def test_every_row_and_value_the_release_stored_is_still_there(release):
    before, path, _, _ = release
    conn = sqlite3.connect(path)
    after = _rows(conn)
    conn.close()
    problems = []
    for table, (columns, rows) in before.items():
        if table not in after:
            problems.append(f"{table}: table gone")
            continue
        now_columns, now_rows = after[table]
        if len(now_rows) != len(rows):
            problems.append(f"{table}: {len(rows)} rows before, {len(now_rows)} after")
            continue
        for i, column in enumerate(columns):
            if column not in now_columns:
                problems.append(f"{table}.{column}: column gone")
                continue
            if (table, column) in CHANGES_EXPECTED:
                continue
            j = now_columns.index(column)
            changed = [old[i] for old, new in zip(rows, now_rows, strict=True) if old[i] != new[j]]
            if changed:
                problems.append(f"{table}.{column}: {len(changed)} values changed, e.g. {changed[0]!r}")
    assert not problems, "\n".join(problems)
    assert sum(len(rows) for _, rows in before.values()) > 5000  # a university, not an empty file


def test_accounts_still_log_in(release):
    _, path, _, _ = release
    with open_db(path) as db:
        for username in ("admin", "dangban", "10000001", "10010001", "30000001", "2023000001"):
            user = accounts.authenticate(db, username, "demo1234")
            assert user.username == username and user.is_active
        student = accounts.authenticate(db, "2023000001", "demo1234")
        assert student.has("student") or student.roles, student


def test_cases_keep_their_history_and_answers(release):
    before, path, _, _ = release
    columns, rows = before["cases"]
    old = [dict(zip(columns, r, strict=True)) for r in rows]
    events_columns, events = before["case_events"]
    history = {}
    for e in events:
        event = dict(zip(events_columns, e, strict=True))
        history.setdefault(event["case_id"], []).append(event["action"])
    answered = [c for c in old if c["answer"]]
    assert len(answered) >= 10 and any(c["state"] == "closed" for c in old)
    with open_db(path) as db:
        admin = accounts.find_user(db, "admin")
        assert admin is not None
        for row in old:
            case = cases.get_case(db, row["id"], admin)
            assert (case.number, case.state, case.content) == (row["number"], row["state"], row["content"])
            assert [e.action for e in cases.events(db, case.id, admin)] == history[row["id"]]
        for row in answered:
            given = cases.answers(db, row["id"], admin)
            assert given and given[-1].body == row["answer"]  # the latest answer, whole


def test_bookings_and_duty_days_survive(release):
    before, path, _, _ = release
    columns, rows = before["bookings"]
    old = [dict(zip(columns, r, strict=True)) for r in rows]
    assert len(old) >= 20 and {b["status"] for b in old} >= {"received", "booked"}
    with open_db(path) as db:
        clerk = accounts.find_user(db, "dangban")
        assert clerk is not None
        for row in old:
            booking = bookings.find_by_code(db, clerk, row["code"])
            assert (booking.user_id, booking.date.isoformat(), booking.slot, booking.status) == (
                row["user_id"],
                row["date"],
                row["slot"],
                row["status"],
            )
            assert booking.subject == row["subject"]


def test_activities_keep_their_content_and_history(release):
    before, path, _, _ = release
    columns, rows = before["activities"]
    old = [dict(zip(columns, r, strict=True)) for r in rows]
    history_columns, history_rows = before["activity_history"]
    versions: dict[int, int] = {}
    for h in history_rows:
        entry = dict(zip(history_columns, h, strict=True))
        versions[entry["activity_id"]] = versions.get(entry["activity_id"], 0) + 1
    with open_db(path) as db:
        admin = accounts.find_user(db, "admin")
        assert admin is not None
        for row in old:
            activity = activities.get_activity(db, row["id"], admin)
            assert (activity.system, activity.date.isoformat(), activity.content) == (
                row["system"],
                row["date"],
                row["content"],
            )
            assert len(activities.history(db, row["id"], admin)) == versions.get(row["id"], 0)


def test_what_the_release_issued_still_works(release):
    """The API token it issued reads, its calendar address still works (one of the form before
    m026 is recognised as the earlier form and given the notice to subscribe anew), its audit log verifies, its rule revision, calendar
    override and queued message are there."""
    _, path, secrets, applied = release
    with open_db(path) as db:
        token = secrets["API token (roster, cases)"]
        assert api_tokens.check(db, token, "roster", "upgrade test").name == "教务系统"
        feed = secrets["feed token of 2023000001"]
        if "m026_feed_token_digest" in applied:  # kept as a digest by the release itself: still its address
            found = feeds.user_for_token(db, feed)
            assert found is not None and found.username == "2023000001"
        else:  # an address of the earlier form
            assert feeds.user_for_token(db, feed) is None
            assert feeds.is_legacy(db, feed)
        verdict = audit.verify(db)
        assert verdict.ok and verdict.entries >= 3, verdict
        assert [r.effective_from for r in rulesets.history(db) if r.id is not None] == [dt.date(2027, 9, 1)]
        assert not workdays.is_working_day(db, dt.date(2026, 12, 31))
        student = accounts.find_user(db, "2023000001")
        assert student is not None
        assert outbox.get_prefs(db, student.id).email == "student@example.edu.cn"
        queued = outbox.entries(db, user_id=student.id)
        assert [e.message.subject for e in queued] == ["您反映的问题已答复"]


def _shape(db: Database) -> dict[str, dict[str, object]]:
    """Every table as SQLite enforces it: columns (type, NOT NULL, default, key), CHECKs, foreign keys
    with their actions, indexes and triggers — whatever text the schema holds them in."""
    found: dict[str, dict[str, object]] = {}
    for table in db.tables:
        if table.name.startswith(("search_index", "sqlite_")) or table.name == "_sqlite_migrations":
            continue
        found[table.name] = {
            "columns": sorted((c.name, c.type, c.notnull, c.default_value, c.is_pk) for c in table.columns),
            "checks": sorted((c.column, re.sub(r"\s+", " ", c.check)) for c in table.checks),
            "foreign keys": sorted(
                (fk.column, fk.other_table, fk.other_column, fk.on_delete, fk.on_update)
                for fk in table.foreign_keys
            ),
            "indexes": sorted((i.name, tuple(i.columns), i.unique, i.partial) for i in table.indexes),
            "triggers": sorted(t.name for t in table.triggers),
        }
    return found


def test_an_upgraded_database_has_the_schema_of_a_new_one(release, tmp_path):
    """The migrations a release ran (its CHECKs widened by editing the schema table) and those a new
    database runs (the same CHECKs widened by rebuilding the table) end in the same constraints, keys,
    indexes and triggers."""
    _, path, _, _ = release
    with open_db(path) as upgraded, open_db(tmp_path / "new.sqlite3") as new:
        old_shape, new_shape = _shape(upgraded), _shape(new)
    assert old_shape.keys() == new_shape.keys()
    differences = {
        (table, part): (old_shape[table][part], new_shape[table][part])
        for table in new_shape
        for part in new_shape[table]
        if old_shape[table][part] != new_shape[table][part]
    }
    assert not differences
