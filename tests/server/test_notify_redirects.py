"""Webhooks never follow a redirect (issue 19 §11), against real HTTP servers on 127.0.0.1.

A robot address must point at an allowed host (``PORTAL_WEBHOOK_HOSTS``), but a user chooses its
path, and an allowed host that answers ``302 Location: http://10.x.x.x/…`` (an open redirect, or a
campus proxy) would send the portal's POST anywhere inside the network — and the internal answer
would come back to the user as 消息通知's last error. The portal posts to the address it checked and
nowhere else, and never shows a remote body."""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from portal import accounts, reception
from portal.notify import channels, dispatch, outbox
from tests.server.test_notify import at, booking_input

SECRET = "INTERNAL-ADMIN-PASSWORD-hunter2"


class _Hits:
    def __init__(self) -> None:
        self.paths: list[str] = []


def _server(handler_for) -> tuple[ThreadingHTTPServer, _Hits]:
    hits = _Hits()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(hits))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, hits


def _internal(hits: _Hits):
    """A service inside the network: whatever reaches it reads a secret."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _answer(self) -> None:
            hits.paths.append(self.path)
            body = json.dumps({"errcode": 1, "errmsg": SECRET, "secret": SECRET}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer  # noqa: N815

    return Handler


def _redirector(target: str, status: int = 302, body: bytes = b""):
    def handler_for(hits: _Hits):
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self) -> None:
                hits.paths.append(self.path)
                self.send_response(status)
                self.send_header("Location", target)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer  # noqa: N815

        return Handler

    return handler_for


@pytest.fixture
def internal():
    server, hits = _server(_internal)
    hits.url = f"http://127.0.0.1:{server.server_address[1]}/admin/secrets"
    yield hits
    server.shutdown()


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_robot_address_that_redirects_is_not_followed(internal, monkeypatch, status):
    # the allowed host is "localhost"; the internal service is 127.0.0.1, not allowed
    monkeypatch.setenv("PORTAL_WEBHOOK_HOSTS", "localhost")
    server, hits = _server(_redirector(internal.url, status))
    try:
        hook = f"http://localhost:{server.server_address[1]}/cgi-bin/webhook/send?key=k"
        msg = outbox.Message(subject="预约成功", text="明天见", url="https://portal.example.edu.cn/x")
        with pytest.raises(channels.ChannelError) as refused:
            channels.send_wecom_robot(hook, msg)
    finally:
        server.shutdown()
    assert hits.paths, "the allowed host was asked"
    assert internal.paths == [], "the portal followed the redirect into the network"
    assert SECRET not in str(refused.value)
    assert f"HTTP {status}" in str(refused.value) and "重定向" in str(refused.value)


def test_an_error_page_body_is_not_shown(monkeypatch):
    """An allowed host answering 500 with a page: the user sees the status, not the page."""
    monkeypatch.setenv("PORTAL_WEBHOOK_HOSTS", "localhost")
    server, _ = _server(_redirector("/", 500, f"<html>{SECRET}</html>".encode()))
    try:
        hook = f"http://localhost:{server.server_address[1]}/robot/send?access_token=t"
        with pytest.raises(channels.ChannelError) as refused:
            channels.send_dingtalk(hook, "SECabc", outbox.Message(subject="s", text="t", url="u"))
    finally:
        server.shutdown()
    assert SECRET not in str(refused.value) and "HTTP 500" in str(refused.value)


def test_the_last_error_on_the_notifications_page_holds_no_internal_answer(demo_db, internal, monkeypatch):
    """End to end: a student's robot address on an allowed host that redirects; 消息通知's last error."""
    monkeypatch.setenv("PORTAL_WEBHOOK_HOSTS", "localhost")
    monkeypatch.setenv("PORTAL_PUBLIC_URL", "https://portal.example.edu.cn")
    monkeypatch.setenv("PORTAL_TODAY", "2026-11-24T07:00:00")
    server, hits = _server(_redirector(internal.url))
    try:
        db = demo_db
        user = accounts.find_user(db, "2023000046")
        outbox.save_prefs(
            db,
            user.id,
            outbox.Prefs(
                channel="wecom_robot",
                webhook=f"http://localhost:{server.server_address[1]}/cgi-bin/webhook/send?key=k",
            ),
        )
        reception.book(db, user, booking_input(db, dt.date(2026, 12, 2)), now=at(7, 40))
        report = dispatch.run_once(db, at(7, 41), scan_events=False)
    finally:
        server.shutdown()
    assert report.sent == 0 and report.failed == 1
    assert hits.paths and internal.paths == []
    row = outbox.entries(db, user_id=user.id)[0]
    assert SECRET not in row.last_error and "重定向" in row.last_error
