"""What the pages keep in ``st.session_state`` between reruns and between pages: each key named once,
with the type of what it holds.

Streamlit's session state maps strings to anything: a key misspelt on one page, or read as a tuple on
one page after another wrote a string, fails without a word. The keys that more than one page reads or
writes (``pages/common.py`` counts as every page), and what a page keeps for its own next run, are
declared here; the key of a widget that only its own page reads stays on that page.
(tests/core/test_house.py: a key read on one page and written on another goes through here.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

import streamlit as st

T = TypeVar("T")


class Key(Generic[T]):
    """One key of the session state and the type of its value."""

    def __init__(self, name: str) -> None:
        self.name = name

    def get(self, default: T | None = None) -> T | None:
        return st.session_state.get(self.name, default)

    def set(self, value: T) -> None:
        st.session_state[self.name] = value

    def pop(self) -> T | None:
        """The value, removed (what is said once)."""
        return st.session_state.pop(self.name, None)

    def setdefault(self, value: T) -> T:
        return st.session_state.setdefault(self.name, value)

    def held(self) -> bool:
        return self.name in st.session_state


class Keys(Generic[T]):
    """A family of keys, one per thing (a form, a case): ``FORM_TOKENS.of("booking")``."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def of(self, part: object) -> Key[T]:
        return Key(f"{self.prefix}{part}")


Kind = Literal["success", "info", "warning", "error"]


@dataclass(frozen=True)
class Notice:
    """What the previous run did, said once on the next: its text, how it is said, and (on a page
    with more than one place to say it) where."""

    text: str
    kind: Kind = "success"
    where: str = ""
    icon: str | None = None

    def show(self) -> None:
        say: dict[str, Any] = {
            "success": st.success,
            "info": st.info,
            "warning": st.warning,
            "error": st.error,
        }
        say[self.kind](self.text, icon=self.icon)  # a fixed table: a value kept in state calls nothing else


# --- the session: pages/common.py, for every page ----------------------------------------------------
SESSION_ID: Key[str] = Key("session_id")  # the signed-in session (portal.sessions), checked on every run
NOTICE: Key[str] = Key("notice")  # said once by the next page shown: the login page, 我的预约
OIDC_REFUSED: Key[str] = Key("oidc_refused")  # the campus identity whose refusal was logged (once)
# what the next run does in the browser (pages/common.after_login): set by a login, a logout, a link
PENDING_CLAIM: Key[str] = Key("pending_claim")  # the claim a hidden frame trades for the session cookie
PENDING_DEEP_LINK: Key[str] = Key("pending_deep_link")  # the page a link asked for before the login
PENDING_OIDC_LANDED: Key[bool] = Key("pending_oidc_landed")
PENDING_NAVIGATION: Key[str] = Key("pending_navigation")  # a server route the browser goes to (a logout)
PENDING_LOGOUT: Key[bool] = Key("pending_logout")

# --- where the user is and what he is doing: pages/common.py ----------------------------------------
PAGE: Key[str] = Key("_page")  # the page this run shows (its address)
ARRIVED: Key[bool] = Key("_arrived")  # this run is the first of a visit to the page
LINKS_OPENED: Key[dict[str, str]] = Key("_links_opened")  # per choice a link set, the value it set
FORM_TOKENS: Keys[str] = Keys("_form_token_")  # per form, this rendering's exactly-once token
CONFIRMS: Keys[dict[str, Any]] = Keys("_confirm_")  # per destructive action asked for, its details
CONFIRMED: Keys[bool] = Keys("_confirmed_")  # per action, its dialog's 确认 (tests answer through it)

# --- 预约接待, 我的预约 (pages/reception_book.py, my_bookings.py, reception_widgets.py) ----------------
BOOK_NOTICE: Key[Notice] = Key("book_notice")  # above the slots ("grid") or below the form ("form")
OFFER_NOTICE: Key[str] = Key("offer_notice")  # a place offered from the waiting list, confirmed
CONSENT_NOTICE: Key[str] = Key("consent_notice")  # consent to publish the answer, given or withdrawn

# --- 意见建议办理, 我的诉求 (pages/cases.py, case_desk.py, case_widgets.py, my_cases.py) ---------------
CASE: Key[int] = Key("c_case")  # the case on screen (the 查看和办理 choice)
NEXT_CASE: Key[int | None] = Key(
    "c_case_next"
)  # the case to put on screen next run (after the choice is drawn)
CASE_NOTICE: Key[str] = Key("case_notice")  # what the last action on 意见建议办理 did
MY_CASE_NOTICE: Key[str] = Key("my_case_notice")  # what the last rating on 我的诉求 did
MERGED_NOTICE: Key[str] = Key("c_merged_notice")  # a link to a merged duplicate opened the case it went into
MERGED_TOLD: Key[str] = Key("_merged_told")  # the duplicate that was said (once per link)

# --- 联系活动记录 (pages/activities.py; a link sets it through pages/common.linked) --------------------
ACTIVITY: Key[int] = Key("chosen")  # the activity on screen
