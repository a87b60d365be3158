"""E-mail digests of overdue and at-risk cases (督办提醒, ``portal cases --remind``), and the SMTP settings.

Off unless ``PORTAL_SMTP_HOST`` is set. Configuration (environment variables):

=========================== =====================================================================
PORTAL_SMTP_HOST            the mail server; unset: no mail is sent
PORTAL_SMTP_PORT            default 25; 465 means SMTP over TLS
PORTAL_SMTP_STARTTLS        1 to upgrade the connection with STARTTLS (default 0)
PORTAL_SMTP_USER / _PASSWORD  login, when the server wants one
PORTAL_SMTP_FROM            the sender (default ``portal@localhost``)
PORTAL_NOTIFY_TO            addresses that get every department's digest, comma-separated
PORTAL_NOTIFY_DEPARTMENTS   each department's own addresses: ``党办=a@x.edu.cn,b@x.edu.cn;校办=c@x.edu.cn``
=========================== =====================================================================

One message per department with open cases overdue or due within the at-risk window; it
lists numbers, deadlines and the handling unit, never the opinion text (mail leaves the portal).
"""

from __future__ import annotations

import datetime as dt
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from typing import Protocol

from .. import config, dates


class Transport(Protocol):
    def send_message(self, msg: EmailMessage) -> object: ...


@dataclass
class SmtpConfig:
    host: str
    port: int = 25
    starttls: bool = False
    user: str = ""
    password: str = ""
    sender: str = "portal@localhost"
    sender_name: str = "联系师生服务平台"
    everyone: list[str] = field(default_factory=list)
    departments: dict[str, list[str]] = field(default_factory=dict)

    def recipients(self, department: str) -> list[str]:
        return list(dict.fromkeys([*self.departments.get(department, []), *self.everyone]))


def config_from_env(env: Mapping[str, str] | None = None) -> SmtpConfig | None:
    """The SMTP configuration (of the settings in force, or of ``env``'s variables), or None when
    mail is off (no ``PORTAL_SMTP_HOST``)."""
    found = config.settings() if env is None else config.read(dict(env), {})
    if not found.smtp_host.strip():
        return None
    return SmtpConfig(
        host=found.smtp_host.strip(),
        port=found.smtp_port,
        starttls=found.smtp_starttls,
        user=found.smtp_user,
        password=found.smtp_password.get_secret_value(),
        sender=found.smtp_from,
        sender_name=found.smtp_from_name.strip(),
        everyone=list(found.notify_to),
        departments={k: list(v) for k, v in found.notify_departments.items()},
    )


def new_message(cfg: SmtpConfig, to: str, subject: str) -> EmailMessage:
    """A message with the headers mail servers and clients expect: the sender's display name
    (``PORTAL_SMTP_FROM_NAME``), ``Date`` and a unique ``Message-ID`` (spam filters mark mail
    without them, and replies and threads need them)."""
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = formataddr((cfg.sender_name, cfg.sender)) if cfg.sender_name else cfg.sender
    msg["To"] = to
    msg["Date"] = format_datetime(dt.datetime.now(dates.TZ))  # the real time of sending, +0800
    msg["Message-ID"] = make_msgid(domain=cfg.sender.rpartition("@")[2] or "localhost")
    return msg


def send(cfg: SmtpConfig, messages: list[EmailMessage], transport: Transport | None = None) -> int:
    """Send the messages (through ``transport`` when given, e.g. in tests); returns how many."""
    if not messages:
        return 0
    if transport is not None:
        for msg in messages:
            transport.send_message(msg)
        return len(messages)
    if cfg.port == 465:
        server: smtplib.SMTP = smtplib.SMTP_SSL(
            cfg.host, cfg.port, timeout=30, context=ssl.create_default_context()
        )
    else:
        server = smtplib.SMTP(cfg.host, cfg.port, timeout=30)
    with server:
        if cfg.starttls:
            server.starttls(context=ssl.create_default_context())
        if cfg.user:
            server.login(cfg.user, cfg.password)
        for msg in messages:
            server.send_message(msg)
    return len(messages)
