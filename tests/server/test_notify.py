"""Notifications where people are (issue 12 §2), against real servers started here on 127.0.0.1: an SMTP
server (aiosmtpd) and a webhook receiver that checks 企业微信 and 钉钉 payloads and the DingTalk signature."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import socket
import threading
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from aiosmtpd.controller import Controller

from portal import (
    accounts,
    case_actions,
    case_opening,
    cases,
    dates,
    links,
    navigation,
    publication,
    quota,
    ratings,
    reception,
)
from portal.errors import ValidationError
from portal.notify import dispatch, outbox
from portal.reception import bans, roster, waitlist
from tests.conftest import goto, login, texts


def read_qr(png: bytes) -> str:
    """What a phone's camera reads from a QR code image (zxing-cpp)."""
    import io

    import zxingcpp
    from PIL import Image

    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert len(found) == 1, found
    return found[0].text


TODAY = dt.date(2026, 11, 24)
BASE = "https://portal.example.edu.cn"
DING_SECRET = "SEC0123456789abcdef"


@pytest.fixture(autouse=True)
def _seven_in_the_morning(monkeypatch):
    """Messages are queued at the service clock (``dates.now``: the pinned day at the real time of
    day) and these tests dispatch at set times of that day from 07:30 on: run after 07:41 Beijing
    time, a message was queued after the moment the test sent it at, and was not due. The clock
    stands at 07:00."""
    monkeypatch.setenv("PORTAL_TODAY", f"{TODAY.isoformat()}T07:00:00")


def at(hour: int, minute: int = 0, day: dt.date = TODAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), dates.TZ)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the servers ------------------------------------------------------------------------------


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list = []
        self.attachments: dict[str, list] = {}  # subject → [(file name, bytes)]

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        msg = message_from_bytes(envelope.content, policy=policy.default)
        body = msg.get_body(preferencelist=("plain",))
        self.messages.append((envelope.rcpt_tos, msg["Subject"], body.get_content()))
        self.attachments[msg["Subject"]] = [
            (p.get_filename(), p.get_content()) for p in msg.iter_attachments()
        ]
        return "250 OK"


@pytest.fixture
def smtp(monkeypatch):
    box = _Mailbox()
    port = _free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("PORTAL_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("PORTAL_SMTP_PORT", str(port))
    monkeypatch.setenv("PORTAL_SMTP_FROM", "portal@example.edu.cn")
    yield box
    controller.stop()


class Receiver:
    """企业微信 (gettoken, message/send, group robot) and 钉钉 robot endpoints; refuses wrong shapes."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict]] = []
        self.refused: list[str] = []
        self.failing = False


def _handler(rx: Receiver):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _reply(self, body: dict, status: int = 200) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _refuse(self, why: str) -> None:
            rx.refused.append(why)
            self._reply({"errcode": 40001, "errmsg": why})

        def do_GET(self):  # noqa: N802
            url = urlsplit(self.path)
            q = parse_qs(url.query)
            if (
                url.path == "/cgi-bin/gettoken"
                and q.get("corpid") == ["wwcorp"]
                and q.get("corpsecret") == ["s3cret"]
            ):
                return self._reply(
                    {"errcode": 0, "errmsg": "ok", "access_token": "TOKEN1", "expires_in": 7200}
                )
            return self._refuse("bad gettoken")

        def do_POST(self):  # noqa: N802
            url = urlsplit(self.path)
            q = parse_qs(url.query)
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])).decode())
            if rx.failing:
                return self._reply({"errcode": -1, "errmsg": "system busy"})
            if url.path == "/cgi-bin/message/send":
                card = body.get("textcard", {})
                if (
                    q.get("access_token") != ["TOKEN1"]
                    or body.get("msgtype") != "textcard"
                    or not isinstance(body.get("agentid"), int)
                    or not body.get("touser")
                    or not all(card.get(k) for k in ("title", "description", "url"))
                ):
                    return self._refuse("bad wecom message")
            elif url.path == "/cgi-bin/webhook/send":
                if (
                    q.get("key") != ["robotkey"]
                    or body.get("msgtype") != "text"
                    or not body["text"].get("content")
                ):
                    return self._refuse("bad wecom robot message")
            elif url.path == "/robot/send":
                stamp, sign = q.get("timestamp", [""])[0], q.get("sign", [""])[0]
                want = base64.b64encode(
                    hmac.new(
                        DING_SECRET.encode(), f"{stamp}\n{DING_SECRET}".encode(), hashlib.sha256
                    ).digest()
                ).decode()
                link = body.get("link", {})
                if q.get("access_token") != ["dingtoken"] or sign != want:  # parse_qs undid the URL encoding
                    return self._refuse("bad dingtalk signature")
                if body.get("msgtype") != "link" or not all(
                    link.get(k) for k in ("title", "text", "messageUrl")
                ):
                    return self._refuse("bad dingtalk message")
            else:
                return self._refuse(f"unknown path {url.path}")
            rx.received.append((url.path, body))
            return self._reply({"errcode": 0, "errmsg": "ok"})

    return Handler


@pytest.fixture
def hooks(monkeypatch):
    rx = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(rx))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    rx.base = base
    monkeypatch.setenv("PORTAL_WEBHOOK_HOSTS", "127.0.0.1")
    monkeypatch.setenv("PORTAL_WECOM_API", base)
    monkeypatch.setenv("PORTAL_WECOM_CORPID", "wwcorp")
    monkeypatch.setenv("PORTAL_WECOM_SECRET", "s3cret")
    monkeypatch.setenv("PORTAL_WECOM_AGENTID", "1000002")
    yield rx
    server.shutdown()


@pytest.fixture(autouse=True)
def _links(monkeypatch):
    monkeypatch.setenv("PORTAL_PUBLIC_URL", BASE)


def email_for(db, *usernames: str) -> dict[str, accounts.User]:
    found = {}
    for name in usernames:
        user = accounts.find_user(db, name)
        outbox.save_prefs(db, user.id, outbox.Prefs(channel="email", email=f"{name}@example.edu.cn"))
        found[name] = user
    return found


def assert_working_link(db, url: str, recipient: accounts.User) -> None:
    """The link points at this portal, at a page the recipient may open, naming an existing object."""
    assert url.startswith(BASE + "/"), url
    parts = urlsplit(url)
    spec = next(p for p in navigation.PAGES if p.url_path == parts.path.strip("/"))
    assert navigation.can_open(recipient, spec), (url, recipient.username)
    q = {k: v[0] for k, v in parse_qs(parts.query).items()}
    if "no" in q:
        assert cases.find_by_number(db, q["no"], recipient)
    if "code" in q:
        assert (
            reception.get_booking(
                db, recipient, db.execute("SELECT id FROM bookings WHERE code = ?", [q["code"]]).fetchone()[0]
            ).user_id
            == recipient.id
        )
    if "date" in q:
        assert roster.get_day(db, dt.date.fromisoformat(q["date"])) is not None


def opens_in_the_portal(url: str, username: str, shows: str) -> None:
    """The recipient logs in and follows the link: the page opens on the object (no refusal)."""
    parts = urlsplit(url)
    page = login(username)
    for key, values in parse_qs(parts.query).items():
        page.query_params[key] = values[0]
    goto(page, f"pages{parts.path}.py").run()
    assert not page.exception, page.exception
    assert not any("无法打开链接" in e.value for e in page.error), [e.value for e in page.error]
    assert shows in texts(page) + "".join(str(s.value) for s in page.selectbox), (url, shows)


def mail_to(smtp, address: str) -> list[tuple[str, str]]:
    return [(subject, body) for rcpt, subject, body in smtp.messages if address in rcpt]


def booking_input(db, day: dt.date, slot_index: int = 0) -> reception.BookingInput:
    free = [s.slot for s in reception.slots(db, day) if s.free]
    return reception.BookingInput(
        date=day, slot=free[slot_index], category="教学", subject="课程安排", phone="13800138000"
    )


# --- tests ------------------------------------------------------------------------------------


def test_the_message_is_written_in_the_same_transaction_as_the_booking(demo_db):
    email_for(demo_db, "2023000040")
    student = accounts.find_user(demo_db, "2023000040")
    day = dt.date(2026, 12, 2)
    from portal.db import write

    with pytest.raises(RuntimeError), write(demo_db):
        reception.book(demo_db, student, booking_input(demo_db, day), now=at(10))
        raise RuntimeError("the caller's transaction fails after booking")
    assert demo_db.execute("SELECT count(*) FROM notify_outbox").fetchone()[0] == 0
    assert (
        demo_db.execute(
            "SELECT count(*) FROM bookings WHERE user_id = ? AND date = ?", [student.id, day.isoformat()]
        ).fetchone()[0]
        == 0
    )
    booking = reception.book(demo_db, student, booking_input(demo_db, day), now=at(10))
    rows = outbox.entries(demo_db, user_id=student.id)
    assert [(r.event, r.channel, r.state) for r in rows] == [("booking.confirmed", "email", "pending")]
    assert booking.code in rows[0].message.subject and rows[0].message.url.endswith(f"code={booking.code}")


def test_every_event_reaches_smtp_once_with_a_working_link(demo_db, smtp, monkeypatch):
    monkeypatch.setenv("PORTAL_NOTIFY_DEFAULT_CHANNEL", "email")
    monkeypatch.setenv("PORTAL_NOTIFY_EMAIL_DOMAIN", "example.edu.cn")
    db = demo_db
    dangban = accounts.find_user(db, "dangban")
    student = accounts.find_user(db, "2023000041")
    # booking confirmed, then cancelled
    day = dt.date(2026, 12, 2)
    first = reception.book(db, student, booking_input(db, day), now=at(10))
    reception.cancel(db, student, first.id, now=at(10, 5))
    # booking changed: the place of a day with bookings (the holders and the leader hear of it)
    holder_name = db.execute(
        "SELECT u.username FROM bookings b JOIN users u ON u.id = b.user_id WHERE b.date = ? AND b.status = 'booked'",
        [day.isoformat()],
    ).fetchone()[0]
    roster.change_place(db, day, "行政楼 201 会议室", dangban)
    # roster published: a new day planned
    planned = roster.plan(db, dt.date(2027, 3, 3), dt.date(2027, 3, 3), dangban).created[0]
    # a case assigned to 党办, answered to the visitor who raised it
    visitor = accounts.find_user(db, "30000001")
    case = case_opening.open_case(
        db,
        source="reception",
        content="宿舍热水器坏了",
        responsible_dept="党办",
        contact_date=TODAY,
        system="接待日",
        raised_by=visitor.id,
        raiser_name=visitor.display_name,
    )
    case_actions.answer(db, case.id, "已维修。", dangban)
    # the answer published with the visitor's consent (答复公开): he is told
    publication.record_consent(db, visitor, given=True, case_id=case.id)
    draft = publication.draft(db, dangban, case.id)
    publication.publish(db, dangban, case.id, draft.question, draft.answer)
    # a cadre behind pace who opted in
    behind = next(
        r
        for r in quota.compute(db, since=TODAY, on=TODAY)
        if r.behind and r.status == "in_progress" and r.period_kind == "year"
    )
    cadre = accounts.find_user(db, behind.staff_no)
    outbox.save_prefs(
        db, cadre.id, outbox.Prefs(channel="email", email="cadre@example.edu.cn", opt_in=["quota"])
    )

    # the waiting list: on a full day one waiter is promoted into a place that frees, another's wish
    # (a slot nobody gives up) ends when booking closes; a no-show rule applied
    for n in range(sum(1 for s in reception.slots(db, day) if s.free)):
        reception.book(db, accounts.find_user(db, f"20230001{n:02d}"), booking_input(db, day), now=at(10, 10))
    promoted, ended = accounts.find_user(db, "2023000042"), accounts.find_user(db, "2023000043")
    wanted = reception.BookingInput(
        date=day, slot="08:30", category="教学", subject="课程", phone="13800138000"
    )
    waitlist.join(db, promoted, waitlist.WaitInput(**{**wanted.model_dump(), "slot": None}), now=at(10, 20))
    waitlist.join(db, ended, waitlist.WaitInput(**wanted.model_dump()), now=at(10, 21))
    freed = next(
        b for b in reception.day_list(db, dangban, day) if b.status == "booked" and b.slot != "08:30"
    )
    reception.cancel(db, dangban, freed.id, now=at(10, 30))
    waitlist.confirm(db, promoted, reception.mine_on(db, promoted, day).id, now=at(10, 40))
    waitlist.sweep(db, dt.datetime(2026, 12, 1, 17, tzinfo=dates.TZ))
    assert waitlist.my_entries(db, ended)[0].state == "expired"
    absent = db.execute("SELECT user_id, date FROM bookings WHERE status = 'no_show' LIMIT 1").fetchone()
    strict = reception.load_template(db).model_copy(update={"no_show_limit": 1})
    assert bans.apply_rule(db, [absent[0]], dt.date.fromisoformat(absent[1]), strict)

    first_run = dispatch.run_once(db, at(9))
    second_run = dispatch.run_once(db, at(9, 30))
    assert first_run.sent > 0 and first_run.failed == first_run.dead == 0
    assert second_run.queued == second_run.sent == 0, "nothing twice"
    events = {e.event for e in outbox.entries(db, state="sent", limit=100000)}
    assert events == set(outbox.EVENTS), set(outbox.EVENTS) - events
    assert outbox.counts(db)["pending"] == 0
    # each row is one mail, and no mail went twice to one person
    assert len(smtp.messages) == outbox.counts(db)["sent"]
    assert len({(tuple(r), s, b) for r, s, b in smtp.messages}) == len(smtp.messages)

    def only(who, word):
        address = outbox.address(db, accounts.find_user(db, who).id, "email")
        found = [(s, b) for s, b in mail_to(smtp, address) if word in s]
        assert len(found) == 1, (address, word, [s for s, _ in mail_to(smtp, address)])
        return found[0][1]

    def link_in(body):
        return next(line for line in body.splitlines() if line.startswith("查看详情：")).removeprefix(
            "查看详情："
        )

    confirmed = only(student.username, "预约成功")
    assert_working_link(db, link_in(confirmed), student)
    # the confirmation carries the check-in link, also as a QR code a phone's camera reads
    checkin = links.checkin(first.code).url
    assert f"签到链接（到达后出示其二维码）：{checkin}" in confirmed
    [(name, png)] = smtp.attachments[f"【接待日预约】预约成功（{first.code}）"]
    assert name == "签到二维码.png" and read_qr(png) == checkin
    assert first.code in only(student.username, "预约已取消")
    holder = accounts.find_user(db, holder_name)
    body = only(holder_name, "接待日安排有变动")
    assert "行政楼 201 会议室" in body
    assert_working_link(db, link_in(body), holder)
    leader = accounts.find_user(db, planned.leader_staff_no)
    body = only(leader.username, "值班安排")
    assert dates.format_date(planned.date) in body
    assert_working_link(db, link_in(body), leader)
    body = only("dangban", f"【意见建议交办】{case.number}")
    assert_working_link(db, link_in(body), dangban)
    assert "宿舍热水器" not in body, "what someone raised never leaves the portal"
    body = only("30000001", f"{case.number} 已答复")
    assert_working_link(db, link_in(body), visitor)
    # the day before: tomorrow's visitors and the leader on duty
    tomorrow = roster.get_day(db, TODAY + dt.timedelta(days=1))
    duty_leader = accounts.find_user(db, tomorrow.leader_staff_no)
    assert_working_link(db, link_in(only(duty_leader.username, "明天是您的接待日")), duty_leader)
    reminded = db.execute(
        "SELECT u.username FROM bookings b JOIN users u ON u.id = b.user_id WHERE b.date = ? AND b.status = 'booked'",
        [tomorrow.date.isoformat()],
    ).fetchall()
    for (name,) in reminded:
        body = only(name, "明天接待")
        assert_working_link(db, link_in(body), accounts.find_user(db, name))
        # 确认前往 and 取消预约: one-tap links, each its own signed token
        taps = [
            line.split("：", 1)[1]
            for line in body.splitlines()
            if line.startswith(("确认前往：", "取消预约："))
        ]
        assert len(taps) == 2 and all("/my_bookings?act=" in t for t in taps) and taps[0] != taps[1]
    # overdue: the department and 督办 (the administrators)
    overdue = [c for c in cases.list_cases(db, dangban, scope="handle", on=TODAY) if c.overdue]
    assert overdue
    for who in ("dangban", "admin"):
        assert_working_link(
            db, link_in(only(who, f"{overdue[0].number} 已逾期")), accounts.find_user(db, who)
        )
    assert_working_link(db, link_in(only(promoted.username, "候补成功")), promoted)
    assert "预约已截止，未能递补" in only(ended.username, "候补结束")
    restricted = accounts.get_user(db, absent[0])
    assert "前不能预约接待" in only(restricted.username, "预约受限")
    body = only(cadre.username, "进度滞后")
    assert behind.title in body
    # and the links work for real: each recipient follows one
    opens_in_the_portal(link_in(only("dangban", f"【意见建议交办】{case.number}")), "dangban", case.number)
    opens_in_the_portal(link_in(only("30000001", f"{case.number} 已答复")), "30000001", "已维修。")
    opens_in_the_portal(link_in(only(holder_name, "接待日安排有变动")), holder_name, "行政楼 201 会议室")
    opens_in_the_portal(
        link_in(only(duty_leader.username, "明天是您的接待日")),
        duty_leader.username,
        tomorrow.date.isoformat(),
    )


def test_quiet_hours_hold_all_but_urgent_messages(demo_db, smtp):
    db = demo_db
    email_for(db, "2023000042", "dangban")
    student = accounts.find_user(db, "2023000042")
    reception.book(db, student, booking_input(db, dt.date(2026, 12, 2)), now=at(21, 50))
    report = dispatch.run_once(db, at(23, 0), scan_events=False)
    assert report.sent == 0 and report.held == 1 and smtp.messages == []
    # tonight, 党办 cancels tomorrow's reception day: the visitors must know before they come
    holder = db.execute(
        "SELECT u.username FROM bookings b JOIN users u ON u.id = b.user_id WHERE b.date = '2026-11-25' "
        "AND b.status = 'booked'"
    ).fetchone()[0]
    email_for(db, holder)
    roster.cancel_day(db, dt.date(2026, 11, 25), accounts.find_user(db, "dangban"), "校领导临时公出")
    report = dispatch.run_once(db, at(23, 5), scan_events=False)
    assert report.sent == 1 and report.held == 1
    assert (
        mail_to(smtp, f"{holder}@example.edu.cn")
        and "校领导临时公出" in mail_to(smtp, f"{holder}@example.edu.cn")[0][1]
    )
    assert dispatch.run_once(db, at(7, 29, TODAY + dt.timedelta(days=1)), scan_events=False).sent == 0
    assert dispatch.run_once(db, at(7, 31, TODAY + dt.timedelta(days=1)), scan_events=False).sent == 1
    assert len(mail_to(smtp, "2023000042@example.edu.cn")) == 1


def test_wecom_and_dingtalk_payloads_and_signature(demo_db, hooks):
    db = demo_db
    users = {name: accounts.find_user(db, name) for name in ("2023000043", "2023000044", "2023000045")}
    outbox.save_prefs(db, users["2023000043"].id, outbox.Prefs(channel="wecom"))  # userid: the 学号
    outbox.save_prefs(
        db,
        users["2023000044"].id,
        outbox.Prefs(channel="wecom_robot", webhook=f"{hooks.base}/cgi-bin/webhook/send?key=robotkey"),
    )
    outbox.save_prefs(
        db,
        users["2023000045"].id,
        outbox.Prefs(
            channel="dingtalk",
            webhook=f"{hooks.base}/robot/send?access_token=dingtoken",
            webhook_secret=DING_SECRET,
        ),
    )
    codes = {}
    for name, user in users.items():
        codes[name] = reception.book(db, user, booking_input(db, dt.date(2026, 12, 2)), now=at(10)).code
    report = dispatch.run_once(db, at(10, 1), scan_events=False)
    assert hooks.refused == [] and report.sent == 3, (hooks.refused, report)
    by_path = {path: body for path, body in hooks.received}
    card = by_path["/cgi-bin/message/send"]
    assert card["touser"] == "2023000043" and card["agentid"] == 1000002
    assert card["textcard"]["url"] == f"{BASE}/my_bookings?code={codes['2023000043']}"
    assert codes["2023000044"] in by_path["/cgi-bin/webhook/send"]["text"]["content"]
    assert (
        f"{BASE}/my_bookings?code={codes['2023000044']}"
        in by_path["/cgi-bin/webhook/send"]["text"]["content"]
    )
    assert by_path["/robot/send"]["link"]["messageUrl"] == f"{BASE}/my_bookings?code={codes['2023000045']}"
    assert "预约成功" in by_path["/robot/send"]["link"]["title"]


def test_a_failing_channel_retries_with_backoff_then_dead_letters_an_admin_retries(demo_db, hooks):
    db = demo_db
    user = accounts.find_user(db, "2023000046")
    outbox.save_prefs(
        db,
        user.id,
        outbox.Prefs(
            channel="dingtalk",
            webhook=f"{hooks.base}/robot/send?access_token=dingtoken",
            webhook_secret=DING_SECRET,
        ),
    )
    reception.book(db, user, booking_input(db, dt.date(2026, 12, 2)), now=at(7, 40))
    hooks.failing = True
    moment, waits = at(7, 41), []  # the retries fit in one day's waking hours
    for attempt in range(1, dispatch.max_attempts() + 1):
        report = dispatch.run_once(db, moment, scan_events=False)
        assert report.sent == 0 and report.failed + report.dead == 1, (attempt, report)
        row = outbox.entries(db, user_id=user.id)[0]
        assert row.attempts == attempt and "system busy" in row.last_error
        assert dispatch.run_once(db, moment, scan_events=False).failed == 0, "not before its next attempt"
        nxt = dt.datetime.fromisoformat(row.next_attempt_at)
        waits.append((nxt - moment).total_seconds())
        moment = nxt
    assert waits[:5] == [60, 300, 1800, 7200, 21600]
    assert row.state == "dead"
    admin = accounts.find_user(db, "admin")
    with pytest.raises(Exception, match="管理员"):
        outbox.dead_letters(db, user)
    assert [d.id for d in outbox.dead_letters(db, admin)] == [row.id]
    hooks.failing = False
    assert outbox.retry(db, [row.id], admin, now=at(20).isoformat()) == 1
    assert dispatch.run_once(db, at(20), scan_events=False).sent == 1
    assert outbox.dead_letters(db, admin) == [] and len(hooks.received) == 1
    # sent rows are forgotten after PORTAL_NOTIFY_KEEP_DAYS (90)
    assert dispatch.run_once(db, at(20) + dt.timedelta(days=89), scan_events=False).purged == 0
    assert dispatch.run_once(db, at(20) + dt.timedelta(days=91), scan_events=False).purged == 1


def test_opt_outs_and_addresses(demo_db):
    db = demo_db
    user = accounts.find_user(db, "2023000047")
    outbox.save_prefs(
        db, user.id, outbox.Prefs(channel="email", email="a@example.edu.cn", opt_out=["booking"])
    )
    reception.book(db, user, booking_input(db, dt.date(2026, 12, 2)), now=at(10))
    assert outbox.entries(db, user_id=user.id) == []
    with pytest.raises(ValidationError, match="Webhook"):
        outbox.save_prefs(db, user.id, outbox.Prefs(channel="wecom_robot", webhook="http://10.0.0.5/admin"))
    for bad in (
        "not-an-address",
        "a,b@example.edu.cn",
        "a@example.edu.cn;b@example.com",
        "张三 <a@example.edu.cn>",
    ):
        with pytest.raises(ValidationError, match="电子邮件"):  # never several addresses, nor a display name
            outbox.save_prefs(db, user.id, outbox.Prefs(channel="email", email=bad))
    assert outbox.get_prefs(db, user.id).email == "a@example.edu.cn"  # the refused ones changed nothing
    outbox.save_prefs(
        db, user.id, outbox.Prefs(channel="email", email=" Li.Ming+portal@mail.example.edu.cn ")
    )
    assert outbox.get_prefs(db, user.id).email == "Li.Ming+portal@mail.example.edu.cn"
    with pytest.raises(ValidationError, match="加签"):
        outbox.save_prefs(
            db,
            user.id,
            outbox.Prefs(channel="dingtalk", webhook="https://oapi.dingtalk.com/robot/send?access_token=x"),
        )


def test_my_account_sets_the_channel_and_opt_outs(demo_db):
    at_ = login("2023000048")
    goto(at_, "pages/account.py").run()
    assert not at_.exception, at_.exception
    at_.radio(key="notify_channel").set_value("email").run()
    at_.text_input(key="notify_email").input("me@example.edu.cn")
    at_.checkbox(key="notify_topic_reminder").uncheck()
    at_.button(key="notify_save").click().run()
    assert not at_.exception, at_.exception
    assert "通知设置已保存" in texts(at_)
    prefs = outbox.get_prefs(demo_db, accounts.find_user(demo_db, "2023000048").id)
    assert prefs.channel == "email" and prefs.email == "me@example.edu.cn" and prefs.opt_out == ["reminder"]


def test_the_admin_page_lists_dead_letters_and_retries_them(demo_db):
    user = accounts.find_user(demo_db, "2023000049")
    outbox.save_prefs(demo_db, user.id, outbox.Prefs(channel="email", email="x@example.edu.cn"))
    reception.book(demo_db, user, booking_input(demo_db, dt.date(2026, 12, 2)), now=at(10))
    demo_db.execute("UPDATE notify_outbox SET state = 'dead', attempts = 6, last_error = '连接失败'")
    demo_db.conn.commit()
    page = login("admin")
    goto(page, "pages/admin_notify.py").run()
    assert not page.exception, page.exception
    assert "连接失败" in str(page.dataframe[0].value) or "连接失败" in texts(page)
    page.button(key="notify_retry_all").click().run()
    assert "已重新排队 1 条" in texts(page)
    assert outbox.counts(demo_db)["pending"] == 1


def test_the_command_line_runs_once_and_retries_dead_letters(demo_db, smtp, tmp_path):
    from click.testing import CliRunner

    from portal.cli import cli

    email_for(demo_db, "2023000050")
    user = accounts.find_user(demo_db, "2023000050")
    reception.book(demo_db, user, booking_input(demo_db, dt.date(2026, 12, 2)), now=at(10))
    demo_db.execute("UPDATE notify_outbox SET state = 'dead', attempts = 6, last_error = 'errcode -1'")
    demo_db.conn.commit()
    runner = CliRunner()
    dead = runner.invoke(cli, ["notify", "dead"])
    assert dead.exit_code == 0 and "errcode -1" in dead.output
    assert "已重新排队 1 条" in runner.invoke(cli, ["notify", "retry", "--all"]).output
    result = runner.invoke(cli, ["notify", "run", "--once"], env={"PORTAL_QUIET_HOURS": "off"})
    assert result.exit_code == 0, result.output
    assert "发送 1 条" in result.output and len(mail_to(smtp, "2023000050@example.edu.cn")) == 1


def test_a_substitute_tells_both_leaders_and_every_visitor_of_the_day(demo_db, smtp, monkeypatch):
    monkeypatch.setenv("PORTAL_NOTIFY_DEFAULT_CHANNEL", "email")
    monkeypatch.setenv("PORTAL_NOTIFY_EMAIL_DOMAIN", "example.edu.cn")
    db = demo_db
    day = dt.date(2026, 11, 25)  # tomorrow: urgent, goes out even at night
    before = roster.get_day(db, day)
    other = next(
        x
        for x in roster.school_leaders(db, day)
        if x.person_id != before.leader_id
        and not db.execute(
            "SELECT 1 FROM bookings b JOIN users u ON u.id = b.user_id WHERE b.date = ? AND u.person_id = ? "
            "AND b.status != 'cancelled'",
            [day.isoformat(), x.person_id],
        ).fetchone()
    )
    roster.substitute(db, day, other.person_id, accounts.find_user(db, "dangban"), "出差")
    holders = [
        r[0]
        for r in db.execute(
            "SELECT u.username FROM bookings b JOIN users u ON u.id = b.user_id WHERE b.date = ? AND b.status = 'booked'",
            [day.isoformat()],
        )
    ]
    report = dispatch.run_once(db, at(23, 30), scan_events=False)
    assert report.held == 0 and report.sent == len(holders) + 2
    for name in holders:
        ((subject, body),) = mail_to(smtp, f"{name}@example.edu.cn")
        assert f"由 {other.name} 替 {before.leader_name} 值班" in body and "仍然有效" in body
    for staff_no in (before.leader_staff_no, other.staff_no):
        ((subject, body),) = mail_to(smtp, f"{staff_no}@example.edu.cn")
        assert "值班安排变动" in subject and body.rstrip().splitlines()[-3].startswith("查看详情：")


def test_two_dispatchers_at_once_send_each_message_once(demo_db, smtp, tmp_path):
    from portal.db import open_db

    names = [f"20230000{n}" for n in range(51, 59)]
    email_for(demo_db, *names)
    for name in names:
        reception.book(
            demo_db,
            accounts.find_user(demo_db, name),
            booking_input(demo_db, dt.date(2026, 12, 2)),
            now=at(10),
        )
    queued = outbox.counts(demo_db)["pending"]
    assert queued == len(names)
    reports, start = [], threading.Barrier(3)

    def dispatcher():
        with open_db(tmp_path / "portal.sqlite3") as db:
            start.wait()
            reports.append(dispatch.run_once(db, at(10, 1), scan_events=False))

    threads = [threading.Thread(target=dispatcher) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.sent for r in reports) == queued == len(smtp.messages)
    assert sorted(r[0][0] for r in smtp.messages) == sorted(f"{n}@example.edu.cn" for n in names)


def test_a_case_reopened_by_its_raiser_goes_back_to_the_department(demo_db, smtp):
    db = demo_db
    people = email_for(db, "dangban", "30000003")
    case = case_opening.open_case(
        db,
        source="reception",
        content="食堂排队太久",
        responsible_dept="党办",
        contact_date=TODAY,
        system="接待日",
        raised_by=people["30000003"].id,
        raiser_name="提出人",
    )
    case_actions.answer(db, case.id, "已增加窗口。", people["dangban"])
    ratings.rate(db, case.id, "unsatisfied", people["30000003"], "高峰期仍然排队")
    dispatch.run_once(db, at(9), scan_events=False)
    subjects = [s for s, _ in mail_to(smtp, "dangban@example.edu.cn")]
    assert subjects == [f"【意见建议交办】{case.number}"] * 2
    assert "需重新办理" in mail_to(smtp, "dangban@example.edu.cn")[1][1]
    assert [s for s, _ in mail_to(smtp, "30000003@example.edu.cn")] == [
        f"【意见建议答复】{case.number} 已答复"
    ]


def test_a_message_to_an_account_disabled_after_queueing_is_not_sent(demo_db, smtp):
    db = demo_db
    people = email_for(db, "2023000060", "2023000061")
    for user in people.values():
        reception.book(db, user, booking_input(db, dt.date(2026, 12, 2)), now=at(10))
    assert outbox.counts(db)["pending"] == 2
    admin = accounts.find_user(db, "admin")
    accounts.set_active(db, people["2023000060"].id, False, admin.id)  # left the university meanwhile

    report = dispatch.run_once(db, at(10, 5), scan_events=False)
    assert mail_to(smtp, "2023000060@example.edu.cn") == []
    assert len(mail_to(smtp, "2023000061@example.edu.cn")) == 1
    assert report.sent == 1 and report.skipped == 1 and "已取消 1 条" in report.describe()
    (skipped,) = outbox.entries(db, user_id=people["2023000060"].id)
    assert (skipped.state, skipped.state_label, skipped.last_error) == ("skipped", "已取消", "账号已停用")
    assert outbox.counts(db) == {"pending": 0, "sent": 1, "dead": 0, "skipped": 1}
    # nothing left to try: a later run sends nothing, even once the account is active again
    accounts.set_active(db, people["2023000060"].id, True, admin.id)
    assert dispatch.run_once(db, at(10, 10), scan_events=False).sent == 0
    assert mail_to(smtp, "2023000060@example.edu.cn") == []

    page = login("admin")
    goto(page, "pages/admin_notify.py").run()
    assert not page.exception, page.exception
    assert [(m.label, m.value) for m in page.metric if m.label == "已取消"] == [("已取消", "1")]
    assert "账号已停用" in texts(page) + "".join(str(d.value) for d in page.dataframe)


def test_nothing_is_queued_for_an_account_already_disabled(demo_db, smtp):
    db = demo_db
    people = email_for(db, "2023000062", "2023000063")
    for user in people.values():
        reception.book(db, user, booking_input(db, dt.date(2026, 12, 2)), now=at(10))
    assert dispatch.run_once(db, at(10, 5), scan_events=False).sent == 2  # the confirmations
    admin = accounts.find_user(db, "admin")
    accounts.set_active(db, people["2023000062"].id, False, admin.id)
    roster.cancel_day(db, dt.date(2026, 12, 2), accounts.find_user(db, "dangban"), "学校临时安排")
    told = {e.user_id for e in outbox.entries(db, state="pending")}
    assert people["2023000063"].id in told and people["2023000062"].id not in told


def test_the_skipped_state_migration_keeps_queued_messages_and_may_run_again(tmp_path):
    from portal import db as portal_db
    from portal import migrations as schema

    (migration,) = [f for name, f in vars(schema).items() if name.endswith("_notify_skipped")]
    handle = portal_db.connect(tmp_path / "old.sqlite3")
    with portal_db.write(handle):
        portal_db.migrations.apply(handle, stop_before=migration.__name__)
    handle.execute(
        "INSERT INTO users (id, username, display_name, password_hash, created_at) VALUES (1, 'u', 'U', 'x', 'x')"
    )
    handle.execute(
        "INSERT INTO notify_outbox (event, dedupe_key, user_id, channel, payload, next_attempt_at, created_at) "
        "VALUES ('booking.confirmed', 'k', 1, 'email', '{}', 'x', 'x')"
    )
    handle.conn.commit()
    portal_db.migrate(handle)
    with portal_db.write(handle):
        migration(handle)
    assert handle.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    handle.execute("UPDATE notify_outbox SET state = 'skipped'")
    with pytest.raises(Exception, match="CHECK"):
        handle.execute("UPDATE notify_outbox SET state = 'lost'")
    handle.close()
