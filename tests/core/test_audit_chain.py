"""The audit log is append-only and tamper-evident: each entry chained to the one before by a hash,
SQLite refusing UPDATE and DELETE, `portal audit verify` naming the first broken link, and a
retention purge (never under 180 days) after which the chain still verifies from its anchor."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest
from click.testing import CliRunner

from portal import accounts, audit
from portal import db as database
from portal.accounts import Role
from portal.cli import cli
from portal.errors import ValidationError
from portal.settings import SettingsError


@pytest.fixture
def logged(db):
    boss = accounts.create_user(db, "boss", "管理员甲", "Passw0rd!", [Role(role="admin")])
    for i in range(20):
        audit.record(db, boss.id, "rules.load", f"#{i}", address=f"10.0.0.{i}")
    return db


def test_entries_are_chained_and_the_chain_verifies(logged):
    verdict = audit.verify(logged)
    assert verdict.ok and verdict.entries == 21
    hashes = [r[0] for r in logged.execute("SELECT hash FROM audit_log ORDER BY id")]
    assert len(set(hashes)) == 21 and all(len(h) == 64 for h in hashes)
    assert verdict.head_hash == hashes[-1]


def test_sqlite_refuses_to_change_or_remove_an_entry(logged):
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        logged.execute("UPDATE audit_log SET detail = 'nothing happened' WHERE id = 5")
    with pytest.raises(sqlite3.DatabaseError, match="retention purge"):
        logged.execute("DELETE FROM audit_log WHERE id = 5")
    with pytest.raises(sqlite3.DatabaseError, match="anchor"):
        logged.execute(
            "UPDATE audit_anchor SET anchor_id = 10, anchor_hash = (SELECT hash FROM audit_log WHERE id = 10)"
        )
    assert audit.verify(logged).ok


def _tamper(db, sql: str) -> None:
    """What someone with the database file in hand can do: drop the triggers first."""
    db.execute("DROP TRIGGER audit_log_append_only")
    db.execute("DROP TRIGGER audit_log_purge_only")
    db.execute(sql)
    db.conn.commit()


def test_a_changed_entry_is_the_first_broken_link(logged):
    _tamper(logged, "UPDATE audit_log SET detail = '#99' WHERE id = 7")
    verdict = audit.verify(logged)
    assert verdict.broken_at == 7 and "改动" in verdict.reason and verdict.entries == 7


def test_a_removed_entry_breaks_the_link_after_it(logged):
    _tamper(logged, "DELETE FROM audit_log WHERE id BETWEEN 8 AND 9")
    verdict = audit.verify(logged)
    assert verdict.broken_at == 10 and "第 8–9 条" in verdict.reason


def test_a_rewritten_hash_does_not_hide_the_change(logged):
    """Recomputing the changed entry's own hash breaks the link of the entry after it."""
    from portal.chain import COLUMNS, entry_hash

    previous = logged.execute("SELECT hash FROM audit_log WHERE id = 6").fetchone()[0]
    values = list(logged.execute(f"SELECT {', '.join(COLUMNS)} FROM audit_log WHERE id = 7").fetchone())
    values[COLUMNS.index("detail")] = "#99"
    forged = entry_hash(previous, values)
    _tamper(logged, f"UPDATE audit_log SET detail = '#99', hash = '{forged}' WHERE id = 7")
    assert audit.verify(logged).broken_at == 8


def test_portal_audit_verify_reports_the_first_broken_link(logged, tmp_path):
    result = CliRunner().invoke(cli, ["audit", "verify"])
    assert result.exit_code == 0 and "操作日志完好：21 条" in result.output
    _tamper(logged, "UPDATE audit_log SET address = '10.9.9.9' WHERE id = 12")
    result = CliRunner().invoke(cli, ["audit", "verify"])
    assert result.exit_code == 3
    assert "操作日志的哈希链在第 12 条断开" in result.output


def test_a_database_from_before_the_chain_is_chained_once_by_its_migration(tmp_path):
    path = tmp_path / "old.sqlite3"
    old = database.connect(path)
    with database.write(old):
        database.migrations.apply(old, stop_before="m021_audit_chain")
    with database.write(old):
        for i in range(5):
            old.execute(
                "INSERT INTO audit_log (at, user_id, action, detail) VALUES (?, NULL, 'rules.load', ?)",
                [f"2026-0{i + 1}-01T09:00:00+08:00", f"#{i}"],
            )
    old.close()
    with database.open_db(path) as upgraded:
        verdict = audit.verify(upgraded)
        assert verdict.ok and verdict.entries == 5
        audit.record(upgraded, None, "rules.load", "after the upgrade")
        assert audit.verify(upgraded).entries == 6
        with pytest.raises(sqlite3.DatabaseError):
            upgraded.execute("DELETE FROM audit_log WHERE id = 1")


def _age(db, days: int, ids: range) -> None:
    """Entries written ``days`` ago (tests cannot wait half a year): rewritten and rechained by hand,
    which is what the migration does for old rows."""
    from portal.chain import COLUMNS, GENESIS, entry_hash

    db.execute("DROP TRIGGER audit_log_append_only")
    when = (dt.datetime.now(dt.timezone(dt.timedelta(hours=8))) - dt.timedelta(days=days)).isoformat(
        timespec="seconds"
    )
    for i in ids:
        db.execute("UPDATE audit_log SET at = ? WHERE id = ?", [when, i])
    previous = GENESIS
    for row in db.execute(f"SELECT id, {', '.join(COLUMNS)} FROM audit_log ORDER BY id").fetchall():
        previous = entry_hash(previous, row[1:])
        db.execute("UPDATE audit_log SET hash = ? WHERE id = ?", [previous, row[0]])
    db.conn.commit()
    db.execute(
        "CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
    )


def test_purge_keeps_180_days_and_the_chain_verifies_from_its_anchor(logged, monkeypatch):
    monkeypatch.delenv("PORTAL_TODAY")  # the triggers judge an entry's age by the real clock
    _age(logged, 400, range(1, 11))
    with pytest.raises(ValidationError, match="至少保留 180 天"):
        audit.purge(logged, dt.date.today() - dt.timedelta(days=100))
    removed = audit.purge(logged)  # PORTAL_AUDIT_KEEP_DAYS: 365 by default
    assert removed == 10
    verdict = audit.verify(logged)
    assert verdict.ok and verdict.anchor_id == 10 and verdict.entries == 12  # 11 kept + the purge's own
    newest = audit.search(logged).entries[0]
    assert newest.action == "audit.purge" and "锚点 #10" in newest.detail
    # the anchor cannot be pulled onto an entry younger than 180 days, nor back
    with pytest.raises(sqlite3.DatabaseError, match="anchor"):
        logged.execute(
            "UPDATE audit_anchor SET anchor_id = 15, anchor_hash = (SELECT hash FROM audit_log WHERE id = 15)"
        )
    with pytest.raises(sqlite3.DatabaseError, match="anchor"):
        logged.execute("UPDATE audit_anchor SET anchor_id = 0, anchor_hash = '0'")


def test_the_retention_setting_is_never_under_180_days(monkeypatch):
    from portal import config

    monkeypatch.setenv("PORTAL_AUDIT_KEEP_DAYS", "90")
    with pytest.raises(SettingsError, match="PORTAL_AUDIT_KEEP_DAYS = “90”：不能小于 180"):
        config.settings()


def test_portal_audit_purge_refuses_a_date_within_180_days(logged):
    result = CliRunner().invoke(cli, ["audit", "purge", "--before", "2026-10-01"])
    assert result.exit_code == 1 and "至少保留 180 天" in result.output


def test_an_accounts_import_writes_each_new_account_into_the_chain(logged):
    from portal import imports

    boss = accounts.find_user(logged, "boss")
    sheet = "工号,姓名,角色,部门,单位,人员类别\n" + "".join(
        f"s20990{i:02d},学生{i},师生,,,学生\n" for i in range(12)
    )
    report = imports.run_import(logged, "accounts", "a.csv", sheet.encode("utf-8-sig"), actor_id=boss.id)
    assert report.counts["created"] == 12
    created = [
        r[0]
        for r in logged.execute(
            "SELECT detail FROM audit_log WHERE action = 'user.create' AND detail LIKE 's2099%'"
        )
    ]
    assert len(created) == 12 and created[0].startswith("s2099000")
    verdict = audit.verify(logged)
    assert verdict.ok, verdict.reason


def test_only_the_audit_module_writes_the_audit_log():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    writers = [
        str(path.relative_to(root))
        for path in sorted((root / "portal").rglob("*.py"))
        if "INSERT INTO audit_log" in path.read_text(encoding="utf-8")
    ]
    assert writers == ["portal/audit.py"]
