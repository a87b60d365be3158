"""Who may fetch a download (portal/downloads.py): the user a page built the bytes for, for an
hour; the register stays bounded. The server's gate is tested in a real browser
(tests/browser/test_session_gate_browser.py)."""

from __future__ import annotations

import asyncio

import pytest

from portal import accounts, config, downloads, server, sessions


@pytest.fixture(autouse=True)
def register(monkeypatch):
    monkeypatch.setattr(downloads, "_built", {})
    monkeypatch.setattr(downloads, "_once", {})
    monkeypatch.setattr(downloads, "_spent", set())
    clock = [1000.0]
    monkeypatch.setattr(downloads.time, "monotonic", lambda: clock[0])
    return clock


def test_the_bytes_built_for_a_user_are_his_alone():
    form = b"PK\x03\x04 a record form"
    assert downloads.built(7, form) is form
    assert downloads.may_fetch(7, form)
    assert not downloads.may_fetch(8, form)  # another user, even logged in
    assert not downloads.may_fetch(7, form + b" ")  # other bytes
    downloads.built(8, form)  # the same export built for a second user: his too
    assert downloads.may_fetch(8, form) and downloads.may_fetch(7, form)


def test_an_entry_expires_after_an_hour_and_a_rebuild_renews_it(register):
    downloads.built(7, b"ics")
    register[0] += downloads.TTL_S - 1
    assert downloads.may_fetch(7, b"ics")
    register[0] += 2
    assert not downloads.may_fetch(7, b"ics")
    downloads.built(7, b"ics")
    assert downloads.may_fetch(7, b"ics")


def test_the_register_never_holds_more_than_its_limit(monkeypatch, register):
    monkeypatch.setattr(downloads, "LIMIT", 100)
    for i in range(250):
        register[0] += 1
        downloads.built(i, f"file {i}".encode())
    assert len(downloads._built) <= 100
    assert downloads.may_fetch(249, b"file 249")  # the newest are kept
    assert not downloads.may_fetch(0, b"file 0")


def test_a_single_time_download_is_served_once_to_its_owner_only(register):
    """New accounts' passwords (pages/account_files.py): one click's delivery spends the file (the
    button's check and its download, within seconds); a rerun of the page that builds the same bytes
    does not renew it; a HEAD does not start the clock; nobody else ever has it."""
    passwords = b"PK\x03\x04 initial passwords"
    downloads.built(7, passwords, once=True)
    assert not downloads.may_fetch(8, passwords)
    register[0] += 600
    assert downloads.may_fetch(7, passwords, serving=False)  # HEAD: checked, not spent
    assert downloads.may_fetch(7, passwords)  # the button's check
    register[0] += 1
    assert downloads.may_fetch(7, passwords)  # the download itself
    register[0] += downloads.ONCE_GRACE_S
    assert not downloads.may_fetch(7, passwords) and downloads.spent(7, passwords)
    downloads.built(7, passwords, once=True)  # the page's next run, the same bytes
    assert not downloads.may_fetch(7, passwords)
    assert not downloads.spent(8, passwords)


def test_a_download_is_served_for_no_cache_to_keep(db):
    """A download is one person's (a copy of 我的数据, a record form): the browser of a shared computer
    and a proxy must not serve it again without the gate's check being asked for the next person. The
    owner gets it with ``Cache-Control: private, no-cache`` and ``Vary: Cookie`` (no proxy keeps it, the
    browser revalidates; not no-store: Chromium never finishes a no-store answer nobody reads, and
    Streamlit fetches every download button's file once without reading it)."""
    user = accounts.create_user(db, "2023999999", "甲同学", "Aa1!aaaaaa")
    _, claim = sessions.start(db, user.id)
    cookie = f"{config.SESSION_COOKIE}={sessions.claim(db, claim)}".encode()
    data = downloads.built(user.id, b"PK\x03\x04 my data")

    async def streamlit(scope, receive, send):  # Streamlit's media route: no caching headers of its own
        headers = [(b"content-type", b"application/zip"), (b"content-length", str(len(data)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": data})

    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/media/abc.zip",
        "headers": [(b"cookie", cookie)],
        "query_string": b"",
    }
    asyncio.run(server.SessionGate(streamlit)(scope, None, send))
    start, body = sent
    assert start["status"] == 200 and body["body"] == data
    headers = {k.lower(): v for k, v in start["headers"]}
    assert headers.get(b"cache-control") == b"private, no-cache", start["headers"]
    assert b"cookie" in headers.get(b"vary", b"").lower(), start["headers"]
