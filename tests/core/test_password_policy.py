"""Local passwords (issue 19 §5.20, §5.21): a configurable complexity rule, initial and reset passwords
changed at the first login, generated passwords without look-alike characters, argon2id kept; the
demo's published password flagged until changed."""

from __future__ import annotations

import pytest

from portal import accounts, imports, passwords
from portal.accounts import Role
from portal.db import open_db
from portal.errors import ValidationError
from tests.core.test_cli import run

AMBIGUOUS = set("1Il0Oo")


def test_the_default_rule_is_eight_characters_of_three_classes(db):
    for weak in ("Ab1", "abcdefgh", "abcd1234", "ABCD1234", "abcd-efg"):
        with pytest.raises(ValidationError):
            passwords.check_password_strength(weak)
    for strong in ("Abcd1234", "abcd-123", "ABCD_efg", "密码Abc12345"):
        passwords.check_password_strength(strong)
    with pytest.raises(ValidationError, match="至少 8 位.*三类"):
        passwords.check_password_strength("abcd1234")


def test_the_rule_is_configuration(monkeypatch):
    monkeypatch.setenv("PORTAL_PASSWORD_MIN_LENGTH", "12")
    monkeypatch.setenv("PORTAL_PASSWORD_CLASSES", "4")
    with pytest.raises(ValidationError, match="至少 12 位"):
        passwords.check_password_strength("Abcd-1234")
    with pytest.raises(ValidationError, match="四类"):
        passwords.check_password_strength("Abcdefgh12345")
    passwords.check_password_strength("Abcd-12345678")
    monkeypatch.setenv("PORTAL_PASSWORD_CLASSES", "2")
    monkeypatch.setenv("PORTAL_PASSWORD_MIN_LENGTH", "8")
    passwords.check_password_strength("abcd1234")
    assert "至少 8 位" in passwords.password_rule()


@pytest.mark.parametrize("classes", ["2", "3", "4"])
def test_generated_passwords_avoid_look_alikes_and_pass_the_rule(monkeypatch, classes):
    monkeypatch.setenv("PORTAL_PASSWORD_CLASSES", classes)
    made = [passwords.generate_password() for _ in range(300)]
    assert not AMBIGUOUS & set("".join(made))
    for password in made:
        passwords.check_password_strength(password)
    assert len(set(made)) == len(made)


def test_initial_and_reset_passwords_must_be_changed_at_the_first_login(db):
    # the first administrator, from the command line (portal user add root --admin)
    assert run("user", "add", "root", "--admin", input="Root-pass1\nRoot-pass1\n").exit_code == 0
    admin = accounts.find_user(db, "root")
    assert admin.must_change_password
    user = accounts.create_user(db, "t001", "测试", "Initial-1", [Role(role="visitor")], actor_id=admin.id)
    assert accounts.authenticate(db, "t001", "Initial-1").must_change_password
    accounts.change_password(db, user.id, "Initial-1", "Mine-2026a")
    assert not accounts.get_user(db, user.id).must_change_password
    new = accounts.reset_password(db, "t001", actor_id=admin.id)
    assert accounts.authenticate(db, "t001", new).must_change_password
    with pytest.raises(ValidationError, match="不能与原密码相同"):
        accounts.change_password(db, user.id, new, new)
    stored = db.execute("SELECT password_hash FROM users WHERE id = ?", [user.id]).fetchone()[0]
    assert stored.startswith("$argon2id$")


def test_imported_accounts_get_initial_passwords_to_change(db):
    sheet = "工号,姓名,角色\n30000077,张三,师生\n".encode()
    report = imports.run_import(db, "accounts", "accounts.csv", sheet)
    ((username, password),) = report.secrets
    assert not AMBIGUOUS & set(password)
    assert accounts.authenticate(db, username, password).must_change_password


def test_the_demo_password_is_flagged_until_changed(demo_db, tmp_path):
    assert accounts.demo_passwords_in_use(demo_db)
    with open_db(tmp_path / "other.sqlite3") as empty:
        assert not accounts.demo_passwords_in_use(empty)
    flagged = demo_db.execute("SELECT count(*) FROM users WHERE demo_password = 1").fetchone()[0]
    admin = accounts.find_user(demo_db, "admin")
    accounts.change_password(demo_db, admin.id, "demo1234", "Admin-2026x")
    assert demo_db.execute("SELECT count(*) FROM users WHERE demo_password = 1").fetchone()[0] == flagged - 1
    demo_db.execute("UPDATE users SET demo_password = 0 WHERE username <> '2023000001'")
    demo_db.conn.commit()
    accounts.reset_password(demo_db, "2023000001", actor_id=admin.id)
    assert not accounts.demo_passwords_in_use(demo_db)


def test_the_published_demo_password_is_nobodys_own(demo_db, monkeypatch):
    """A change or reset clears the demo warning (login page, console), so neither may set the demo's
    published password again: with a rule of two classes (PORTAL_PASSWORD_CLASSES=2) an administrator
    could reset admin to demo1234 and the warning went away with the password still public."""
    monkeypatch.setenv("PORTAL_PASSWORD_CLASSES", "2")
    admin = accounts.find_user(demo_db, "admin")
    for published in ("demo1234", "Demo1234", "DEMO1234"):
        with pytest.raises(ValidationError, match="演示密码"):
            accounts.reset_password(demo_db, "2023000001", published, actor_id=admin.id)
        with pytest.raises(ValidationError, match="演示密码"):
            accounts.change_password(demo_db, admin.id, "demo1234", published)
        with pytest.raises(ValidationError, match="演示密码"):
            accounts.create_user(demo_db, "t900", "测试", published, actor_id=admin.id)
    assert accounts.authenticate(demo_db, "2023000001", "demo1234")  # unchanged
    assert accounts.demo_passwords_in_use(demo_db)
