"""Messages as the receiving systems expect them: e-mail with Date, Message-ID and the sender's name
(received by a real SMTP server, aiosmtpd), and the 企业微信 access token fetched once and kept
between `portal notify run --once` processes, as WeCom asks."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
from email import message_from_bytes, policy
from email.utils import parseaddr, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from aiosmtpd.controller import Controller

from portal import accounts, case_messages, cases, notify, reception
from portal.notify import dispatch, outbox
from tests.idp import free_port

DAY = dt.date(2026, 12, 2)  # the reception day after the tests' clock (conftest.NOW)


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture
def smtp(monkeypatch):
    box = _Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    monkeypatch.setenv("PORTAL_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("PORTAL_SMTP_PORT", str(controller.port))
    monkeypatch.setenv("PORTAL_SMTP_FROM", "portal@hpu.edu.cn")
    yield box
    controller.stop()


def _booking(db, username: str) -> str:
    user = accounts.find_user(db, username)
    free = [s.slot for s in reception.slots(db, DAY) if s.free]
    made = reception.book(
        db,
        user,
        reception.BookingInput(
            date=DAY, slot=free[0], category="教学", subject="课程安排", phone="13800138000"
        ),
    )
    return made.code


def _check_headers(msg) -> None:
    name, address = parseaddr(str(msg["From"]))
    assert (name, address) == ("联系师生服务平台", "portal@hpu.edu.cn")
    sent = parsedate_to_datetime(str(msg["Date"]))
    assert abs((dt.datetime.now(dt.UTC) - sent).total_seconds()) < 120 and sent.utcoffset() == dt.timedelta(
        hours=8
    )
    assert str(msg["Message-ID"]).startswith("<") and str(msg["Message-ID"]).endswith("@hpu.edu.cn>")


def test_notification_mail_carries_date_message_id_and_the_senders_name(demo_db, smtp):
    for name in ("2023000040", "2023000041"):
        outbox.save_prefs(
            demo_db,
            accounts.find_user(demo_db, name).id,
            outbox.Prefs(channel="email", email=f"{name}@hpu.edu.cn"),
        )
        _booking(demo_db, name)
    report = dispatch.run_once(demo_db, scan_events=False)
    assert report.sent == 2 and len(smtp.messages) == 2
    for msg in smtp.messages:
        _check_headers(msg)
    assert smtp.messages[0]["Message-ID"] != smtp.messages[1]["Message-ID"]


def test_the_reminder_digest_carries_them_too(demo_db, smtp, monkeypatch):
    monkeypatch.setenv("PORTAL_NOTIFY_TO", "duban@hpu.edu.cn")
    monkeypatch.setenv("PORTAL_SMTP_FROM_NAME", "河南理工大学 联系师生服务平台")
    cfg = notify.config_from_env()
    listed = cases.list_cases(demo_db, accounts.find_user(demo_db, "admin"), states=list(cases.OPEN_STATES))
    assert notify.send(cfg, case_messages.digests(cfg, listed)) > 0
    msg = smtp.messages[0]
    assert parseaddr(str(msg["From"]))[0] == "河南理工大学 联系师生服务平台"
    assert msg["Date"] and msg["Message-ID"]


class _WeCom:
    def __init__(self) -> None:
        self.gettokens = 0
        self.sent: list[dict] = []


@pytest.fixture
def wecom(monkeypatch):
    state = _WeCom()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _reply(self, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):  # noqa: N802
            state.gettokens += 1
            self._reply(
                {"errcode": 0, "errmsg": "ok", "access_token": f"TOKEN{state.gettokens}", "expires_in": 7200}
            )

        def do_POST(self):  # noqa: N802
            query = parse_qs(urlsplit(self.path).query)
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if query.get("access_token") != [f"TOKEN{state.gettokens}"]:
                return self._reply({"errcode": 42001, "errmsg": "access_token expired"})
            state.sent.append(body)
            self._reply({"errcode": 0, "errmsg": "ok"})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("PORTAL_WECOM_API", f"http://127.0.0.1:{server.server_address[1]}")
    monkeypatch.setenv("PORTAL_WECOM_CORPID", "wwcorp")
    monkeypatch.setenv("PORTAL_WECOM_SECRET", "s3cret")
    monkeypatch.setenv("PORTAL_WECOM_AGENTID", "1000002")
    yield state
    server.shutdown()


def _notify_run() -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "portal", "notify", "run", "--once"],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_wecom_access_token_is_kept_between_runs(demo_db, wecom):
    for name in ("2023000040", "2023000041"):
        outbox.save_prefs(demo_db, accounts.find_user(demo_db, name).id, outbox.Prefs(channel="wecom"))
    _booking(demo_db, "2023000040")
    first = _notify_run()
    assert first.returncode == 0, first.stderr
    _booking(demo_db, "2023000041")
    second = _notify_run()
    assert second.returncode == 0, second.stderr
    assert [m["touser"] for m in wecom.sent] == ["2023000040", "2023000041"]
    assert wecom.gettokens == 1  # two processes, one gettoken
    # a token the server no longer accepts is dropped and fetched again on the next attempt
    demo_db.execute("UPDATE wecom_tokens SET token = 'STALE'")
    demo_db.conn.commit()
    outbox.save_prefs(demo_db, accounts.find_user(demo_db, "2023000042").id, outbox.Prefs(channel="wecom"))
    _booking(demo_db, "2023000042")
    assert _notify_run().returncode == 0
    assert demo_db.execute("SELECT count(*) FROM wecom_tokens").fetchone()[0] == 0
    demo_db.execute(
        "UPDATE notify_outbox SET next_attempt_at = '2026-11-24T09:00:00+08:00' WHERE state = 'pending'"
    )
    demo_db.conn.commit()
    assert _notify_run().returncode == 0
    assert wecom.gettokens == 2 and wecom.sent[-1]["touser"] == "2023000042"
