"""The ways a message leaves the portal: SMTP, 企业微信 and 钉钉. Each ``send`` raises ``ChannelError``
(with the reason, kept on the outbox row) when the message did not go out.

* 电子邮件 — the SMTP server of ``PORTAL_SMTP_*`` (see ``digest``).
* 企业微信 application messages — ``PORTAL_WECOM_CORPID``, ``PORTAL_WECOM_SECRET`` and
  ``PORTAL_WECOM_AGENTID``: an access token from ``/cgi-bin/gettoken`` (kept until it expires),
  then a ``textcard`` to the user's 企业微信 account through ``/cgi-bin/message/send``.
* 企业微信 group robots — a ``text`` message posted to the robot's webhook address.
* 钉钉 group robots — a ``link`` message posted to the robot's webhook, signed as DingTalk asks
  ("加签"): ``timestamp`` in milliseconds and ``sign`` = Base64(HMAC-SHA256(secret,
  "timestamp\\nsecret")), URL-encoded.

Messages are plain text (never markdown): names and places are typed by people.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import smtplib
import threading
import time
import urllib.error
import urllib.request
from urllib.parse import quote_plus, urlencode

from sqlite_utils import Database

from .. import config, qr
from ..db import write
from .digest import config_from_env, new_message
from .digest import send as smtp_send
from .outbox import Message

TIMEOUT = 15
WECOM_API = "https://qyapi.weixin.qq.com"


class ChannelError(Exception):
    """The message did not go out; the text says why (kept as the outbox row's last error)."""


def _post_json(url: str, body: dict) -> dict:
    data = json.dumps(body, ensure_ascii=False).encode()
    request = urllib.request.Request(
        url, data=data, headers={"Content-Type": "application/json; charset=utf-8"}
    )
    return _answer(request)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, never followed: the address was checked against the allowed hosts
    (``outbox.webhook_hosts``), its ``Location`` was not, and the request would carry the message
    (and the answer come back as the last error) to any address inside the network."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: PLR0913 - urllib's signature
        return None


# no redirects; proxies from the environment as urlopen's default opener has them
_opener = urllib.request.build_opener(_NoRedirects)


def _answer(request: urllib.request.Request) -> dict:
    """The JSON answer of 企业微信 or 钉钉. Nothing of a remote body reaches the error but the
    API's own ``errcode``/``errmsg`` (short, plain text): an error page, a redirect's target, a
    non-JSON answer are summed up by their status."""
    try:
        with _opener.open(request, timeout=TIMEOUT) as response:
            raw = response.read(MAX_ANSWER_BYTES + 1)
    except urllib.error.HTTPError as exc:
        exc.close()
        if 300 <= exc.code < 400:
            raise ChannelError(
                f"HTTP {exc.code}：对方要求重定向，已拒绝（不跟随重定向，请核对 Webhook 地址）"
            ) from None
        raise ChannelError(f"HTTP {exc.code}") from None
    except (OSError, ValueError) as exc:
        raise ChannelError(f"连接失败：{_reason(exc)}") from None
    try:
        found = json.loads(raw.decode() or "{}") if len(raw) <= MAX_ANSWER_BYTES else None
    except ValueError:
        found = None
    if not isinstance(found, dict):
        raise ChannelError("对方的答复不是企业微信或钉钉接口的格式（请核对 Webhook 地址）")
    if found.get("errcode", 0) != 0:
        raise ChannelError(
            f"errcode {_plain_text(found.get('errcode'), 20)}: {_plain_text(found.get('errmsg'), 200)}"
        )
    return found


MAX_ANSWER_BYTES = 64 * 1024  # 企业微信 and 钉钉 answer with a few hundred bytes


def _plain_text(value: object, limit: int) -> str:
    """A field of a remote answer as one short line of printable text."""
    return "".join(ch for ch in str(value if value is not None else "") if ch.isprintable())[:limit]


def _reason(exc: Exception) -> str:
    """Why a connection failed, without a remote body (URLError carries a reason, not a page)."""
    reason = getattr(exc, "reason", exc)
    return _plain_text(reason, 200)


def _plain(msg: Message) -> str:
    extra = msg.lines()
    return f"{msg.subject}\n{msg.text}\n" + (f"{extra}\n" if extra else "") + f"查看详情：{msg.url}"


# --- e-mail ----------------------------------------------------------------------------------


def send_email(address: str, msg: Message) -> None:
    cfg = config_from_env()
    if cfg is None:
        raise ChannelError("未配置邮件服务器（PORTAL_SMTP_HOST）")
    mail = new_message(cfg, address, msg.subject)
    extra = msg.lines()
    mail.set_content(
        f"{msg.text}\n\n" + (f"{extra}\n" if extra else "") + f"查看详情：{msg.url}\n\n"
        "——联系师生服务平台（本邮件由系统发送，请勿回复）"
    )
    if msg.qr:  # the check-in link as a QR code: shown at the desk from the phone's mail
        mail.add_attachment(qr.png(msg.qr), maintype="image", subtype="png", filename="签到二维码.png")
    try:
        smtp_send(cfg, [mail])
    except (OSError, smtplib.SMTPException) as exc:
        raise ChannelError(f"邮件发送失败：{exc}") from None


# --- 企业微信 application messages -------------------------------------------------------------

_token_lock = threading.Lock()  # one gettoken at a time in this process


def _wecom_settings() -> tuple[str, str, int, str]:
    found = config.settings()
    corp, secret, agent = found.wecom_corpid, found.wecom_secret.get_secret_value(), found.wecom_agentid
    if not (corp and secret and agent is not None):
        raise ChannelError(
            "未配置企业微信应用（PORTAL_WECOM_CORPID、PORTAL_WECOM_SECRET、PORTAL_WECOM_AGENTID）"
        )
    return corp, secret, agent, found.wecom_api


def _token_key(api: str, corp: str, secret: str, agent: int) -> str:
    # the secret's digest: a new secret gets a new token, and no secret is stored
    return f"{api}|{corp}|{agent}|{hashlib.sha256(secret.encode()).hexdigest()[:16]}"


def _wecom_token(db: Database, api: str, corp: str, secret: str, agent: int) -> str:
    """The application's access token, kept in the database until shortly before it expires, as
    企业微信 asks: ``gettoken`` is rate-limited, and each ``notify run --once`` is a new process."""
    key = _token_key(api, corp, secret, agent)
    with _token_lock:
        row = db.execute("SELECT token, expires_at FROM wecom_tokens WHERE key = ?", [key]).fetchone()
        if row and row[1] > time.time() + 60:
            return row[0]
        query = urlencode({"corpid": corp, "corpsecret": secret})
        found = _answer(urllib.request.Request(f"{api}/cgi-bin/gettoken?{query}"))
        token = str(found.get("access_token", ""))
        if not token:
            raise ChannelError("企业微信未返回 access_token")
        expires = time.time() + int(found.get("expires_in", 7200))
        with write(db, housekeeping=True):
            db.execute(
                "INSERT INTO wecom_tokens (key, token, expires_at) VALUES (?, ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET token = excluded.token, expires_at = excluded.expires_at",
                [key, token, expires],
            )
        return token


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _card_text(msg: Message, limit: int = 500) -> str:
    """The card's description: the text cut to fit 企业微信's 512 bytes with the one-tap links whole."""
    extra = "\n".join(f"{label}：{url}" for label, url in msg.actions)
    room = limit - len(extra.encode()) - (1 if extra else 0)
    body = msg.text[:160]
    while len(body.encode()) > room and body:
        body = body[:-1]
    return f"{body}\n{extra}" if extra else body


def send_wecom(db: Database, userid: str, msg: Message) -> None:
    corp, secret, agent, api = _wecom_settings()
    token = _wecom_token(db, api, corp, secret, agent)
    body = {
        "touser": userid,
        "msgtype": "textcard",
        "agentid": agent,
        "textcard": {
            # 企业微信 limits: title 128 bytes, description 512 bytes
            "title": msg.subject[:40],
            "description": _escape(_card_text(msg)),
            "url": msg.url,
            "btntxt": "详情",
        },
    }
    try:
        _post_json(f"{api}/cgi-bin/message/send?access_token={quote_plus(token)}", body)
    except ChannelError as exc:
        if str(exc).startswith(("errcode 40014", "errcode 42001")):  # token invalid or expired
            with write(db, housekeeping=True):
                db.execute("DELETE FROM wecom_tokens WHERE key = ?", [_token_key(api, corp, secret, agent)])
        raise


# --- group robots ----------------------------------------------------------------------------


def send_wecom_robot(webhook: str, msg: Message) -> None:
    _post_json(webhook, {"msgtype": "text", "text": {"content": _plain(msg)}})


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's 加签: Base64(HMAC-SHA256(key=secret, "timestamp\\nsecret")), URL-encoded."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest))


def send_dingtalk(webhook: str, secret: str, msg: Message) -> None:
    stamp = int(time.time() * 1000)
    url = f"{webhook}{'&' if '?' in webhook else '?'}timestamp={stamp}&sign={dingtalk_sign(secret, stamp)}"
    body = {
        "msgtype": "link",
        "link": {
            "title": msg.subject,
            "text": "\n".join(x for x in (msg.text, msg.lines()) if x),
            "messageUrl": msg.url,
            "picUrl": "",
        },
    }
    _post_json(url, body)
