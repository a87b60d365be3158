import datetime as dt

import pytest

from portal import accounts, audit, config, dates, org, provisioning, sessions, sso
from portal.accounts import Role
from portal.db import write
from portal.errors import AuthError, ValidationError


def make_user(db, username="t001", password="Secret123", roles=None):
    return accounts.create_user(db, username, "测试用户", password, roles or [Role(role="visitor")])


def test_passwords_are_argon2id_hashes(db):
    make_user(db)
    stored = db.execute("SELECT password_hash FROM users").fetchone()[0]
    assert stored.startswith("$argon2id$")
    assert "Secret123" not in stored


def test_login_ok_and_same_message_for_wrong_user_and_wrong_password(db):
    make_user(db)
    assert accounts.authenticate(db, "t001", "Secret123").username == "t001"
    with pytest.raises(AuthError) as wrong_password:
        accounts.authenticate(db, "t001", "nope12345")
    with pytest.raises(AuthError) as wrong_user:
        accounts.authenticate(db, "nobody", "nope12345")
    assert wrong_password.value.message == wrong_user.value.message == accounts.LOGIN_FAILED


def _lock_out(db, name: str, right: str = "Secret123") -> None:
    """Wrong passwords until the name is locked (from the address in force): the last one, and then
    the right one, are refused with the lock's message."""
    for _ in range(config.settings().lockout_threshold - 1):
        with pytest.raises(AuthError, match="账号或密码错误"):
            accounts.authenticate(db, name, "bad-pass1")
    with pytest.raises(AuthError, match="分钟后再试"):
        accounts.authenticate(db, name, "bad-pass1")
    with pytest.raises(AuthError, match="分钟后再试"):
        accounts.authenticate(db, name, right)


def test_lockout_after_repeated_failures_even_with_the_right_password(db):
    make_user(db)
    _lock_out(db, "t001")
    # an unknown name locks the same way, revealing nothing
    for _ in range(config.settings().lockout_threshold):
        with pytest.raises(AuthError):
            accounts.authenticate(db, "ghost", "bad-pass1")
    with pytest.raises(AuthError, match="分钟后再试"):
        accounts.authenticate(db, "ghost", "bad-pass1")
    # an administrator's reset unlocks
    accounts.reset_password(db, "t001", "Newpass123")
    assert accounts.authenticate(db, "t001", "Newpass123").username == "t001"


def test_disabled_account_cannot_log_in(db):
    user = make_user(db)
    accounts.set_active(db, user.id, False)
    with pytest.raises(AuthError):
        accounts.authenticate(db, "t001", "Secret123")


def test_password_strength_and_username_rules(db):
    with pytest.raises(ValidationError, match="至少 8 位"):
        make_user(db, password="a1")
    with pytest.raises(ValidationError, match="三类"):
        make_user(db, password="abcdefghij")
    with pytest.raises(ValidationError, match="账号只能"):
        make_user(db, username="<script>")
    make_user(db)
    with pytest.raises(ValidationError, match="已存在"):
        make_user(db)


def test_department_role_needs_a_responsible_department(db):
    with pytest.raises(ValidationError, match="责任部门"):
        make_user(db, roles=[Role(role="department", department="食堂")])
    user = make_user(db, roles=[Role(role="department", department="教务处"), Role(role="visitor")])
    assert user.departments == ["教务处"] and user.has("visitor")


def test_cadre_role_follows_from_a_current_post(db):
    unit, _ = org.save_unit(db, "教务处", "department")
    person, _ = org.save_person(db, "10010001", "李四")
    user = accounts.create_user(db, "10010001", "李四", "Secret123", [Role(role="visitor")], person.id)
    assert not user.has("cadre")
    org.save_post(db, person.id, unit.id, "教务处处长", "正处", ["principal"])
    assert accounts.get_user(db, user.id).has("cadre")


def test_sessions_resume_end_and_expire(db, monkeypatch):
    user = make_user(db)
    session_id, claim = sessions.start(db, user.id)
    assert sessions.resume(db, session_id).id == user.id
    cookie = sessions.claim(db, claim)
    assert cookie and sessions.claim(db, claim) is None  # one time only
    assert sessions.resume_from_cookie(db, cookie)[1].id == user.id
    assert sessions.resume_from_cookie(db, cookie[:-2] + "xx") is None  # bad signature
    sessions.end(db, session_id=session_id)
    assert sessions.resume(db, session_id) is None
    assert sessions.resume_from_cookie(db, cookie) is None
    # inactivity
    session_id, _ = sessions.start(db, user.id)
    monkeypatch.setenv("PORTAL_SESSION_IDLE", "60")
    monkeypatch.setenv("PORTAL_TODAY", "2026-11-24T10:05:00")  # five idle minutes after NOW
    assert sessions.resume(db, session_id) is None


def test_sso_identity_maps_to_account_by_staff_no(db):
    person, _ = org.save_person(db, "30000001", "王五")
    accounts.create_user(db, "30000001", "王五", None, [Role(role="visitor")], person.id)
    found = provisioning.account_for(db, sso.Identity(source="cas", staff_no="30000001"))
    assert found.display_name == "王五"
    with pytest.raises(AuthError, match="没有与该工号对应"):
        provisioning.account_for(db, sso.Identity(source="cas", staff_no="99999999"))


def test_a_password_typed_as_the_account_name_never_reaches_the_audit_log_or_the_logs(db, caplog):
    """Typing the password into the 账号 box (autofill, haste) is the commonest login mistake. The audit log
    is append-only and kept at least 180 days, read by every administrator on 操作日志 and copied to
    journald/syslog: a name that is no account is kept masked — enough to see the same wrong name come
    back (and from where), never the text typed."""
    import logging

    from portal import audit

    make_user(db)
    caplog.set_level(logging.INFO, logger="portal.audit")
    for _ in range(2):
        with pytest.raises(AuthError):
            accounts.authenticate(db, "Hx7!qLw9zR", "Hx7!qLw9zR")
    with pytest.raises(AuthError):
        accounts.authenticate(db, "t001", "wrong-pass1")
    entries = list(reversed(audit.search(db, category="login.").entries))
    stored = "".join(f"{e.actor} {e.detail}" for e in entries)
    assert "Hx7!qLw9zR" not in stored and "Hx7!qLw9zR" not in caplog.text
    unknown = [e.actor for e in entries if e.detail == "账号不存在"]
    assert len(unknown) == 2 and unknown[0] == unknown[1] and unknown[0].startswith("H…（未知账号 #")
    assert entries[-1].actor.startswith("t001（")  # a real account is named as always


def test_wrong_passwords_from_one_address_lock_the_name_for_that_address_only(db):
    """Anyone could lock any account — the administrator's too — for everyone with five wrong
    passwords every 15 minutes. The lock holds for the address that guessed; the owner logs in from
    his own, and the guesser's lock stays."""
    make_user(db)
    with audit.at_address("10.8.0.66"):
        _lock_out(db, "t001")
    with audit.at_address("10.20.1.7"):
        assert accounts.authenticate(db, "t001", "Secret123").username == "t001"
    with audit.at_address("10.8.0.66"), pytest.raises(AuthError, match="分钟后再试"):
        accounts.authenticate(db, "t001", "Secret123")


def test_guessing_spread_over_many_addresses_locks_the_name_everywhere(db, monkeypatch):
    """``PORTAL_LOCKOUT_NAME_THRESHOLD`` failures of one name from all addresses together lock it for
    every address: guessing from many addresses stays bounded."""
    monkeypatch.setenv("PORTAL_LOCKOUT_NAME_THRESHOLD", "8")
    make_user(db)
    for i in range(8):  # two from each address: none reaches PORTAL_LOCKOUT_THRESHOLD (5)
        with audit.at_address(f"10.9.0.{i // 2}"), pytest.raises(AuthError):
            accounts.authenticate(db, "t001", "bad-pass1")
    with audit.at_address("10.20.1.7"), pytest.raises(AuthError, match="分钟后再试"):
        accounts.authenticate(db, "t001", "Secret123")
    accounts.reset_password(db, "t001", "Newpass123")  # an administrator's reset unlocks everywhere
    with audit.at_address("10.9.0.1"):
        assert accounts.authenticate(db, "t001", "Newpass123").username == "t001"


def test_failed_login_counts_and_their_addresses_are_purged_with_the_rest(db):
    make_user(db)
    with audit.at_address("10.8.0.66"), pytest.raises(AuthError):
        accounts.authenticate(db, "t001", "bad-pass1")
    assert db.execute("SELECT address FROM login_attempts_by_address").fetchall() == [("10.8.0.66",)]
    later = dates.now() + dt.timedelta(days=accounts.ATTEMPTS_KEEP_DAYS + 1)
    with write(db):
        accounts.purge_attempts(db, later.date(), later)
    assert db.execute("SELECT count(*) FROM login_attempts_by_address").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM login_attempts").fetchone()[0] == 0
