"""iCalendar files (RFC 5545) for duty days and bookings, written by hand: a handful of fields.

Times are written in UTC (``...Z``) so no VTIMEZONE block is needed and every calendar
program shows them in its own zone. Text is escaped (``\\ ; , newline``) and lines are
folded at 75 octets without splitting a UTF-8 character.

Every event's UID names this installation (``uid``: a random id made once and kept in the
database, so a restored backup keeps its UIDs): two installations — two universities, or a test
copy beside production — never give two events the same UID, which a calendar app subscribed to
both would merge.
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from dataclasses import dataclass

from sqlite_utils import Database

from ..db import kept_setting

PRODID = "-//Contact Portal//联系师生服务平台//ZH"
INSTALLATION_KEY = "installation.id"


def installation_id(db: Database) -> str:
    """This installation's random id (16 hex digits), made the first time it is asked for."""
    return kept_setting(db, INSTALLATION_KEY, lambda: secrets.token_hex(8))


def uid(db: Database, kind: str, key: str) -> str:
    """An event's UID: ``<kind>-<key>@<installation id>.contact-portal`` (RFC 5545: globally unique)."""
    return f"{kind}-{key}@{installation_id(db)}.contact-portal"


@dataclass(frozen=True)
class Event:
    uid: str
    start: dt.datetime  # timezone-aware
    end: dt.datetime
    summary: str
    location: str = ""
    description: str = ""
    cancelled: bool = False
    sequence: int = 0  # revision: calendar apps take a higher SEQUENCE as a change of the same UID
    url: str = ""  # the event's link (URL property): a booking's check-in
    image: bytes = b""  # a PNG attached inline (ATTACH, base64): the check-in QR code


def escape(text: str) -> str:
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\n")
        .replace("\r", "\n")
        .replace("\n", "\\n")
    )


def fold(line: str) -> list[str]:
    """Split a content line into pieces of at most 75 octets (continuations start with a space)."""
    pieces, current, size, limit = [], "", 0, 75
    for ch in line:
        width = len(ch.encode("utf-8"))
        if size + width > limit:
            pieces.append(current)
            current, size, limit = " ", 1, 75
        current += ch
        size += width
    pieces.append(current)
    return pieces


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def calendar(events: list[Event], name: str, stamp: dt.datetime) -> bytes:
    """A VCALENDAR with the events, as bytes ready for a download (text/calendar, UTF-8)."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape(name)}",
    ]
    for e in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{e.uid}",
            f"DTSTAMP:{_utc(stamp)}",
            f"DTSTART:{_utc(e.start)}",
            f"DTEND:{_utc(e.end)}",
            f"SEQUENCE:{e.sequence}",
            f"SUMMARY:{escape(e.summary)}",
        ]
        if e.location:
            lines.append(f"LOCATION:{escape(e.location)}")
        if e.description:
            lines.append(f"DESCRIPTION:{escape(e.description)}")
        if e.url:
            lines.append(f"URL:{e.url}")
        if e.image:
            data = base64.b64encode(e.image).decode("ascii")
            lines.append(
                f"ATTACH;FMTTYPE=image/png;ENCODING=BASE64;VALUE=BINARY;X-FILENAME=checkin.png:{data}"
            )
        lines.append("STATUS:CANCELLED" if e.cancelled else "STATUS:CONFIRMED")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    folded = [piece for line in lines for piece in fold(line)]
    return ("\r\n".join(folded) + "\r\n").encode("utf-8")
