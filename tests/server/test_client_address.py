"""A real `portal serve`: the client's address in the audit log and the request log is the TCP peer,
unless the peer is a trusted proxy (PORTAL_TRUSTED_PROXIES, default this host's loopback
addresses); only then is X-Forwarded-For believed, read from the right. Every request is one JSON
log line on stderr; /health shows the counts monitoring needs to callers from this host only."""

from __future__ import annotations

import asyncio
import http.client
import json
import time

import pytest

from portal import accounts, audit, sessions
from portal.accounts import Role
from portal.db import open_db
from tests.live import server
from tests.stclient import Tab

UNTRUSTED = "127.0.0.9"  # a loopback address, but not 127.0.0.1: a peer that is no configured proxy


def _get(base: str, path: str, headers: dict[str, str], source: str = "127.0.0.1") -> tuple[int, bytes]:
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30, source_address=(source, 0))
    try:
        conn.request("GET", path, headers=headers)
        answer = conn.getresponse()
        return answer.status, answer.read()
    finally:
        conn.close()


async def _login(base: str, password: str, **where) -> None:
    tab = Tab(base, **where)
    await tab.open()
    tab.set("账号（工号或学号）", "t001")
    tab.set("密码", password)
    await tab.click("登录")
    await tab.close()


def _entries(path) -> list[tuple[str, str, str, str]]:
    with open_db(path) as db:
        return [
            (e.action, e.outcome, e.address, e.detail)
            for e in reversed(audit.search(db, limit=1000).entries)
            if e.action in ("login.password", "api.refused")
        ]


@pytest.fixture
def site(db, tmp_path):
    accounts.create_user(db, "t001", "测试用户", "Passw0rd1", [Role(role="admin")])
    path = tmp_path / "portal.sqlite3"
    with server(path) as running:
        yield running, path


def test_the_audit_holds_the_peer_unless_the_peer_is_a_trusted_proxy(site):
    running, path = site
    spoof = {"X-Forwarded-For": "203.0.113.66"}
    asyncio.run(_login(running.base, "wrong-pass1", headers=spoof, source=UNTRUSTED))
    asyncio.run(_login(running.base, "Passw0rd1", headers=spoof, source=UNTRUSTED))
    # behind nginx on this host: nginx appends the address it saw to what the client sent
    proxied = {"X-Forwarded-For": "10.66.0.1, 198.51.100.23"}
    asyncio.run(_login(running.base, "wrong-pass1", headers=proxied))
    status, _ = _get(running.base, "/api/v1/roster", {"Authorization": "Bearer cpt_nope", **spoof}, UNTRUSTED)
    assert status == 401
    status, _ = _get(running.base, "/api/v1/roster", {"Authorization": "Bearer cpt_nope", **proxied})
    assert status == 401
    assert _entries(path) == [
        ("login.password", "failed", UNTRUSTED, "密码错误"),
        ("login.password", "ok", UNTRUSTED, ""),
        ("login.password", "failed", "198.51.100.23", "密码错误"),
        ("api.refused", "refused", UNTRUSTED, "令牌无效 GET /api/v1/roster?"),
        ("api.refused", "refused", "198.51.100.23", "令牌无效 GET /api/v1/roster?"),
    ]


def test_a_proxy_elsewhere_is_trusted_only_when_configured(db, tmp_path):
    accounts.create_user(db, "t001", "测试用户", "Passw0rd1", [Role(role="admin")])
    path = tmp_path / "portal.sqlite3"
    with server(path, PORTAL_TRUSTED_PROXIES=f"{UNTRUSTED}/32") as running:
        asyncio.run(
            _login(running.base, "wrong-pass1", headers={"X-Forwarded-For": "192.0.2.5"}, source=UNTRUSTED)
        )
        asyncio.run(_login(running.base, "wrong-pass1", headers={"X-Forwarded-For": "192.0.2.6"}))
    assert [e[2] for e in _entries(path)] == ["192.0.2.5", "127.0.0.1"]


def test_every_request_is_one_json_line_with_its_user_and_address(site):
    running, path = site
    with open_db(path) as db:
        user = accounts.find_user(db, "t001")
        session_id, claim = sessions.start(db, user.id)
        cookie = sessions.claim(db, claim)
    status, _ = _get(
        running.base, "/health", {"Cookie": f"portal_session={cookie}", "X-Forwarded-For": "198.51.100.7"}
    )
    assert status == 200
    _get(running.base, "/feeds/1-secrettoken/roster.ics", {}, UNTRUSTED)
    # the request's line is written once its response has gone out: wait for both lines
    deadline = time.monotonic() + 30
    while True:
        lines = [json.loads(line) for line in running.log.read_text().splitlines() if line.startswith("{")]
        requests = [r for r in lines if r["logger"] == "portal.request"]
        paths = [r["path"] for r in requests]
        if "/health" in paths and any(p.startswith("/feeds/") for p in paths) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    health = next(r for r in requests if r["path"] == "/health")
    assert health["status"] == 200 and health["user"] == "t001" and health["address"] == "198.51.100.7"
    assert health["method"] == "GET" and health["duration_ms"] >= 0 and health["time"].endswith("+08:00")
    feed = next(r for r in requests if r["path"].startswith("/feeds/"))
    assert feed["path"] == "/feeds/…/roster.ics" and feed["address"] == UNTRUSTED and feed["status"] == 404
    assert "secrettoken" not in running.log.read_text()
    # no line of the server's stderr is in another format (Streamlit's and uvicorn's own included)
    stderr_lines = [line for line in running.log.read_text().splitlines() if line.strip()]
    banner = [line for line in stderr_lines if not line.startswith("{")]
    assert all("Streamlit app" in line or "URL:" in line for line in banner), banner
    assert any(r["logger"].startswith("uvicorn") for r in lines)


def test_health_shows_dead_letters_and_failed_jobs_to_this_host_only(site):
    running, path = site
    with open_db(path) as db:
        user = accounts.find_user(db, "t001")
        db.execute(
            "INSERT INTO notify_outbox (event, dedupe_key, user_id, channel, payload, state, next_attempt_at, created_at) "
            "VALUES ('case.overdue', 'k1', ?, 'email', '{}', 'dead', '2026-11-24T09:00:00+08:00', '2026-11-24T09:00:00+08:00')",
            [user.id],
        )
        db.execute(
            "INSERT INTO job_runs (job, started_at, finished_at, outcome, summary) "
            "VALUES ('notify.run', '2026-11-24T09:59:00+08:00', '2026-11-24T09:59:01+08:00', 'failed', 'SMTP down')"
        )
        db.conn.commit()
    status, body = _get(running.base, "/health", {})
    found = json.loads(body)
    assert status == 200 and found["status"] == "warning"
    assert found["notify"]["dead_letters"] == 1 and found["failed_jobs"] == 1
    assert found["jobs"]["notify.run"]["last_outcome"] == "failed"
    status, body = _get(running.base, "/health", {}, UNTRUSTED)
    assert status == 200 and json.loads(body) == {"status": "ok"}


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        ("/feeds/secrettoken/roster.ics", "/feeds/…/roster.ics"),
        ("/feeds/secrettoken", "/feeds/…"),  # the file name lost by a calendar app or a copy
        ("/feeds/secrettoken/", "/feeds/…"),
        ("/feeds//secrettoken/roster.ics", "/feeds/…/roster.ics"),
        ("/feeds/secrettoken/roster.ics/extra", "/feeds/…"),
        ("/feeds/secrettoken.ics", "/feeds/…"),
        ("/cases", "/cases"),
    ],
)
def test_a_feed_token_never_reaches_the_log_however_the_path_is_cut(path, shown):
    """A calendar feed's address is a password: whatever form a request gives it (no file name, a
    doubled slash, a tail), the log shows none of it."""
    from portal.request_log import shown_path

    assert shown_path(path) == shown


def _feed_addresses(base: str, cookie: str, headers: dict[str, str], source: str | None = None) -> list[str]:
    async def visit():
        tab = Tab(base, cookie, page="account", headers=headers, source=source)
        try:
            return await tab.open()
        finally:
            await tab.close()

    run = asyncio.run(visit())
    assert run.exception is None, run.exception
    return [t for t in run.texts if t.startswith("webcal://")]


def test_feed_addresses_take_the_portals_address_from_a_trusted_proxy_only(db, tmp_path):
    """With PORTAL_PUBLIC_URL unset, 我的账号's calendar addresses were built from whatever
    ``X-Forwarded-Host`` a client sent, from any peer: an address the portal shows must never come
    from a client's header. From nginx on this host (a trusted proxy, which overwrites the header),
    its host is used; from any other peer the header is dropped before the app sees it."""
    accounts.create_user(db, "t001", "测试用户", "Passw0rd1", [Role(role="admin")])
    path = tmp_path / "portal.sqlite3"
    with server(path) as running, open_db(path) as live:
        _, claim = sessions.start(live, accounts.find_user(live, "t001").id)
        cookie = f"portal_session={sessions.claim(live, claim)}"
        forged = {"X-Forwarded-Host": "portal.attacker.example"}
        shown = _feed_addresses(running.base, cookie, forged, source=UNTRUSTED)
        assert shown and all(a.startswith("webcal://localhost:8501/feeds/") for a in shown), shown
        proxied = {"X-Forwarded-Host": "portal.example.edu.cn"}
        shown = _feed_addresses(running.base, cookie, proxied)
        assert shown and all(a.startswith("webcal://portal.example.edu.cn/feeds/") for a in shown), shown
