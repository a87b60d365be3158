"""A link for everything: the URL that opens a case, a booking, an activity or a duty day directly.

A link is a page of ``portal.navigation`` plus query parameters (``/cases?no=2026-0221``); pages read
them with ``st.query_params`` and open the object for whoever may see it (else they say so). Links in
messages that leave the portal (e-mail, 企业微信, 钉钉) are absolute, made with the portal's one public
address, ``PORTAL_PUBLIC_URL`` (``https://portal.example.edu.cn``; also the CAS service address; default
``http://localhost:8501``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from urllib.parse import urlencode

from . import config, navigation
from .settings import DEFAULT_PUBLIC_URL

DEFAULT_BASE_URL = DEFAULT_PUBLIC_URL


def base_url() -> str:
    """The portal's public address (``PORTAL_PUBLIC_URL`` or ``[cas] public_url``), else the default."""
    return config.settings().base_url


MAX_ID = 2**63 - 1  # SQLite's largest integer: a larger number is no row's id, and SQLite refuses it


def parse_id(value: str) -> int:
    """The row id a link names (``?id=123``): ASCII digits within SQLite's integers, else
    ``ValueError`` — ``str.isdigit`` accepts ² and ١, ``int()`` a number no column can hold."""
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 19 or not 0 < int(text) <= MAX_ID:
        raise ValueError(f"not a row id: {text[:40]!r}")
    return int(text)


@dataclass(frozen=True)
class Link:
    page: str  # a page of portal.navigation, e.g. "pages/cases.py"
    params: dict[str, str] = field(default_factory=dict)

    @property
    def path(self) -> str:
        """``/cases?no=2026-0221`` (the page's address, navigation.PageSpec.url_path)."""
        found = navigation.spec(self.page)
        name = found.url_path if found is not None else self.page.removeprefix("pages/").removesuffix(".py")
        return f"/{name}" + (f"?{urlencode(self.params)}" if self.params else "")

    @property
    def url(self) -> str:
        return base_url() + self.path


def case(number: str, *, raiser: bool = False) -> Link:
    """A case: on 意见建议办理 for departments and cadres, on 我的诉求 for the person who raised it."""
    return Link("pages/my_cases.py" if raiser else "pages/cases.py", {"no": number})


def booking(code: str) -> Link:
    """A booking, for the person who holds it (我的预约)."""
    return Link("pages/my_bookings.py", {"code": code})


def activity(activity_id: int) -> Link:
    return Link("pages/activities.py", {"id": str(activity_id)})


def duty_day(day: dt.date) -> Link:
    """A duty day on the roster (everyone may read it)."""
    return Link("pages/reception_roster.py", {"date": day.isoformat()})


def reception_day(day: dt.date) -> Link:
    """A duty day's list of visitors, for the leader on duty and 党办/校办 (接待当日)."""
    return Link("pages/reception_day.py", {"date": day.isoformat()})


def checkin(code: str) -> Link:
    """A booking's check-in (the QR code on its confirmation): staff check the visitor in with one tap;
    the visitor himself sees his booking; anyone else, nothing."""
    return Link("pages/checkin.py", {"code": code})


def booking_action(token: str) -> Link:
    """A one-tap link of the day-before reminder (确认前往, 取消预约): signed, single-use, its owner's."""
    return Link("pages/my_bookings.py", {"act": token})
