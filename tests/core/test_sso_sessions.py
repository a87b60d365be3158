"""Sessions opened by campus single sign-on: a reload resumes the same session (so the idle
timeout applies), single logout ends it, and dead sessions are purged."""

from __future__ import annotations

import datetime as dt

from portal import accounts, config, dates, sessions


def _user(db):
    return accounts.create_user(db, "30000001", "张老师", roles=[accounts.Role(role="visitor")])


def _count(db) -> int:
    return db.execute("SELECT count(*) FROM sessions").fetchone()[0]


def test_reloads_of_one_sso_login_resume_one_session(db):
    user = _user(db)
    first = sessions.for_identity(db, user.id, "oidc:alice|1764000000")
    for _ in range(5):  # every reload is a new Streamlit session that sees the same identity
        assert sessions.for_identity(db, user.id, "oidc:alice|1764000000") == first
    assert _count(db) == 1


def test_idle_timeout_applies_to_sso_sessions(db, monkeypatch):
    user = _user(db)
    session_id = sessions.for_identity(db, user.id, "oidc:alice|1764000000")
    late = dates.now() + dt.timedelta(seconds=config.settings().session_idle + 60)
    monkeypatch.setattr(dates, "now", lambda: late)
    assert sessions.resume(db, session_id) is None
    # the identity provider's cookie still says "logged in": the portal does not start over
    assert sessions.for_identity(db, user.id, "oidc:alice|1764000000") is None
    # a fresh login at the provider is a new identity key and opens a new session
    assert sessions.for_identity(db, user.id, "oidc:alice|1764009999") is not None


def test_single_logout_ends_the_session_of_that_ticket(db):
    user = _user(db)
    session_id, cookie = sessions.open_with_cookie(db, user.id, sessions.cas_key("ST-1-abc"))
    assert sessions.resume_from_cookie(db, cookie)[0] == session_id
    assert sessions.end_identity(db, sessions.cas_key("ST-1-abc")) is True
    assert sessions.resume(db, session_id) is None
    assert sessions.resume_from_cookie(db, cookie) is None
    assert sessions.end_identity(db, sessions.cas_key("ST-unknown")) is False


def test_purge_removes_dead_sessions_and_keeps_live_ones(db, monkeypatch):
    user = _user(db)
    live, _ = sessions.start(db, user.id)
    ended, _ = sessions.start(db, user.id)
    sessions.end(db, session_id=ended)
    old, _ = sessions.start(db, user.id)
    long_ago = (dates.now() - dt.timedelta(seconds=config.settings().session_max_age * 3)).isoformat(
        timespec="seconds"
    )
    db.execute("UPDATE sessions SET created_at = ?, last_seen = ? WHERE id = ?", [long_ago, long_ago, old])
    db.execute("UPDATE sessions SET ended_at = ? WHERE id = ?", [long_ago, ended])
    db.conn.commit()
    assert sessions.purge(db) == 2
    assert [r[0] for r in db.execute("SELECT id FROM sessions")] == [live]


def test_starting_a_session_purges_now_and_then(db):
    user = _user(db)
    stale, _ = sessions.start(db, user.id)
    long_ago = (dates.now() - dt.timedelta(seconds=config.settings().session_max_age * 3)).isoformat(
        timespec="seconds"
    )
    db.execute("UPDATE sessions SET created_at = ?, last_seen = ? WHERE id = ?", [long_ago, long_ago, stale])
    db.conn.commit()
    sessions._last_purge = None  # as after a restart
    sessions.start(db, user.id)
    assert db.execute("SELECT count(*) FROM sessions WHERE id = ?", [stale]).fetchone()[0] == 0
