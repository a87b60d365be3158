"""Logins under attack: parallel guesses never check more passwords than the lockout allows,
hashes use OWASP's argon2id parameters, and concurrent verifications are bounded."""

from __future__ import annotations

import threading

import pytest
from argon2 import PasswordHasher

from portal import accounts, config
from portal.accounts import Role
from portal.db import open_db
from portal.errors import AuthError, PortalError

WORKERS = 16


def _counting_verify(monkeypatch) -> list[int]:
    """Count real password verifications (thread-safe), keeping the real check."""
    calls: list[int] = []
    real = accounts._verify

    def counted(password_hash: str, password: str) -> bool:
        calls.append(1)
        return real(password_hash, password)

    monkeypatch.setattr(accounts, "_verify", counted)
    return calls


def _storm(path, username: str, password: str, workers: int = WORKERS) -> list[str]:
    """``workers`` real threads, each with its own connection, log in at the same instant."""
    barrier = threading.Barrier(workers)
    outcomes: list[str] = []

    def attempt() -> None:
        with open_db(path) as db:
            barrier.wait()
            try:
                accounts.authenticate(db, username, password)
                outcomes.append("ok")
            except AuthError as exc:
                outcomes.append(exc.message)

    threads = [threading.Thread(target=attempt) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def test_parallel_wrong_guesses_check_no_more_passwords_than_the_threshold(db, tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_LOCKOUT_THRESHOLD", "5")
    accounts.create_user(db, "t001", "测试用户", "Secret123", [Role(role="visitor")])
    calls = _counting_verify(monkeypatch)
    outcomes = _storm(tmp_path / "portal.sqlite3", "t001", "wrong-guess1")
    assert len(outcomes) == WORKERS and "ok" not in outcomes
    assert len(calls) <= 5, f"{len(calls)} passwords were checked with a threshold of 5"
    # the account is locked now, even for the right password, and nothing more is checked
    with pytest.raises(AuthError, match="分钟后再试"):
        accounts.authenticate(db, "t001", "Secret123")
    assert len(calls) <= 5


def test_parallel_guesses_on_an_unknown_name_lock_it_the_same_way(db, tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_LOCKOUT_THRESHOLD", "5")
    calls = _counting_verify(monkeypatch)
    _storm(tmp_path / "portal.sqlite3", "ghost", "wrong-guess1")
    assert len(calls) <= 5
    with pytest.raises(AuthError, match="分钟后再试"):
        accounts.authenticate(db, "ghost", "wrong-guess1")


def test_a_right_password_after_a_few_failures_still_logs_in_and_resets(db):
    accounts.create_user(db, "t001", "测试用户", "Secret123", [Role(role="visitor")])
    for _ in range(config.settings().lockout_threshold - 1):
        with pytest.raises(AuthError, match="账号或密码错误"):
            accounts.authenticate(db, "t001", "bad-pass1")
    assert accounts.authenticate(db, "t001", "Secret123").username == "t001"
    for _ in range(config.settings().lockout_threshold - 1):  # the count started again
        with pytest.raises(AuthError, match="账号或密码错误"):
            accounts.authenticate(db, "t001", "bad-pass1")
    assert accounts.authenticate(db, "t001", "Secret123").username == "t001"


# --- item 9: argon2id parameters, rehash on login, bounded verifications ---------------------

OWASP = {"memory_cost": 19 * 1024, "time_cost": 2, "parallelism": 1}


def _params(stored: str) -> dict:
    from argon2 import extract_parameters

    p = extract_parameters(stored)
    return {"memory_cost": p.memory_cost, "time_cost": p.time_cost, "parallelism": p.parallelism}


@pytest.mark.real_hasher
def test_new_hashes_use_owasp_argon2id_parameters(db):
    accounts.create_user(db, "t001", "测试用户", "Secret123", [Role(role="visitor")])
    stored = db.execute("SELECT password_hash FROM users").fetchone()[0]
    assert stored.startswith("$argon2id$")
    assert _params(stored) == OWASP


@pytest.mark.real_hasher
def test_an_old_64_mib_hash_is_rehashed_on_the_next_successful_login(db):
    accounts.create_user(db, "t001", "测试用户", "Secret123", [Role(role="visitor")])
    old = PasswordHasher().hash("Secret123")  # argon2-cffi's default: 64 MiB, t=3, p=4
    db.execute("UPDATE users SET password_hash = ? WHERE username = 't001'", [old])
    db.conn.commit()
    with pytest.raises(AuthError):
        accounts.authenticate(db, "t001", "wrong-pass1")
    assert db.execute("SELECT password_hash FROM users").fetchone()[0] == old  # a failure changes nothing
    accounts.authenticate(db, "t001", "Secret123")
    stored = db.execute("SELECT password_hash FROM users").fetchone()[0]
    assert stored != old and _params(stored) == OWASP
    assert accounts.authenticate(db, "t001", "Secret123").username == "t001"


def test_concurrent_verifications_are_bounded_and_the_excess_is_asked_to_retry(db, tmp_path, monkeypatch):
    import time

    for i in range(WORKERS):
        accounts.create_user(db, f"u{i:03d}", "测试用户", "Secret123", [Role(role="visitor")])
    monkeypatch.setattr(accounts, "_verification_slot", accounts.VerificationSlots(2))
    monkeypatch.setenv("PORTAL_LOGIN_WAIT", "0.3")
    running, peak, lock = [0], [0], threading.Lock()
    real = accounts._verify

    def slow(password_hash: str, password: str) -> bool:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.25)
        try:
            return real(password_hash, password)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(accounts, "_verify", slow)
    barrier = threading.Barrier(WORKERS)
    outcomes: list[str] = []

    def attempt(i: int) -> None:
        with open_db(tmp_path / "portal.sqlite3") as conn:
            barrier.wait()
            try:
                accounts.authenticate(conn, f"u{i:03d}", "Secret123")
                outcomes.append("ok")
            except AuthError as exc:
                outcomes.append(exc.message)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] <= 2
    assert "ok" in outcomes
    busy = [o for o in outcomes if o != "ok"]
    assert busy and all("请稍后再试" in o for o in busy), outcomes
    # being turned away is not a failed guess: the account is not closer to a lockout
    assert db.execute("SELECT count(*) FROM login_attempts").fetchone()[0] == 0


def test_guessing_the_old_password_on_the_change_form_is_limited_the_same_way(db, tmp_path, monkeypatch):
    """A stolen session must not be a way round the lockout: 我的账号 checks passwords too."""
    monkeypatch.setenv("PORTAL_LOCKOUT_THRESHOLD", "5")
    user = accounts.create_user(db, "t001", "测试用户", "Secret123", [Role(role="visitor")])
    calls = _counting_verify(monkeypatch)
    barrier = threading.Barrier(WORKERS)
    messages: list[str] = []

    def guess(i: int) -> None:
        with open_db(tmp_path / "portal.sqlite3") as conn:
            barrier.wait()
            try:
                accounts.change_password(conn, user.id, f"guess-{i:04d}", "Newpass123")
            except PortalError as exc:
                messages.append(exc.message)

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(messages) == WORKERS
    assert len(calls) <= 5, f"{len(calls)} old passwords were checked with a threshold of 5"
    assert any("分钟后再试" in m for m in messages)
    with pytest.raises(AuthError, match="分钟后再试"):
        accounts.authenticate(db, "t001", "Secret123")
