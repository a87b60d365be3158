"""What the pages keep in ``st.session_state`` between reruns and between pages: each key named once,
with the type of what it holds.

Streamlit's session state maps strings to anything: a key misspelt on one page, or read as a tuple on
one page after another wrote a string, fails without a word. The keys that more than one page reads or
writes (``pages/common.py`` counts as every page), and what a page keeps for its own next run, are
declared here; the key of a widget that only its own page reads stays on that page.
(tests/core/test_house.py: a key read on one page and written on another goes through here, and a page
writes by name only its own widgets' keys.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, overload

import streamlit as st

if TYPE_CHECKING:  # the types of what is kept; the values come from the pages
    from portal.account_notices import NewAccount
    from portal.errors import ImportRejected, Problem
    from portal.imports import ImportReport, Prepared

T = TypeVar("T")


class Key(Generic[T]):
    """One key of the session state and the type of its value."""

    def __init__(self, name: str) -> None:
        self.name = name

    @overload
    def get(self) -> T | None: ...

    @overload
    def get(self, default: T) -> T: ...

    def get(self, default: T | None = None) -> T | None:
        return st.session_state.get(self.name, default)

    def set(self, value: T) -> None:
        st.session_state[self.name] = value

    def pop(self) -> T | None:
        """The value, removed (what is said once)."""
        return st.session_state.pop(self.name, None)

    def drop(self) -> None:
        """Forget the value (a callback that must return nothing)."""
        st.session_state.pop(self.name, None)

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
OWNER: Key[int] = Key("_owner")  # the user whose session state this is: another signing in clears it
NOTICE: Key[str] = Key("notice")  # said once by the next page shown: the login page, 我的预约
OIDC_REFUSED: Key[str] = Key("oidc_refused")  # the campus identity whose refusal was logged (once)
# what the next run does in the browser (pages/common.send_pending_browser_actions): set by a login, a logout, a link
PENDING_CLAIM: Key[str] = Key("pending_claim")  # the claim a hidden frame trades for the session cookie
PENDING_DEEP_LINK: Key[str] = Key("pending_deep_link")  # the page a link asked for before the login
PENDING_OIDC_LANDED: Key[bool] = Key("pending_oidc_landed")
PENDING_NAVIGATION: Key[str] = Key("pending_navigation")  # a server route the browser goes to (a logout)
PENDING_LOGOUT: Key[bool] = Key("pending_logout")

# --- where the user is and what he is doing: pages/common.py ----------------------------------------
# the menu's pages, built once per session and user (see pages/main.py): (who and what, pages by section)
MENU: Key[tuple[tuple[object, ...], dict[str, list[Any]]]] = Key("_menu")  # st.Page objects
PAGE: Key[str] = Key("_page")  # the page this run shows (its address)
ARRIVED: Key[bool] = Key("_arrived")  # this run is the first of a visit to the page
LINKS_OPENED: Key[dict[str, str]] = Key("_links_opened")  # per choice a link set, the value it set
FORM_TOKENS: Keys[str] = Keys("_form_token_")  # per form, this rendering's exactly-once token
CONFIRMS: Keys[dict[str, Any]] = Keys("_confirm_")  # per destructive action asked for, its details
CONFIRMED: Keys[bool] = Keys("_confirmed_")  # per action, its dialog's 确认 (tests answer through it)

# --- 预约接待, 我的预约 (pages/reception_book.py, my_bookings.py, reception_widgets.py) ----------------
BOOK_NOTICE: Key[Notice] = Key("book_notice")  # above the slots ("grid") or below the form ("form")
BOOK_PROBLEMS: Key[list[Problem]] = Key("book_problems")  # the form's refusal, each beside its field
BOOK_SUBMITTED: Key[tuple[str, str | None, bool, str]] = Key("book_submitted")  # (day, slot, lost, token)
JUST_BOOKED: Key[str] = Key("just_booked")  # the booking code just made (its card says 预约成功)
SLOT_CHOICE: Key[tuple[str, str]] = Key("slot_choice")  # (day, slot) tapped in the grid
WAIT_OPEN: Key[str] = Key("wait_open")  # the day whose waiting-list form is open
CANCELLING: Key[int] = Key("cancelling_booking")  # the booking whose cancel dialog is open
OFFER_NOTICE: Key[str] = Key("offer_notice")  # a place offered from the waiting list, confirmed
CONSENT_NOTICE: Key[str] = Key("consent_notice")  # consent to publish the answer, given or withdrawn

# --- 意见建议办理, 我的诉求 (pages/cases.py, case_desk.py, case_widgets.py, my_cases.py) ---------------
CASE: Key[int] = Key("c_case")  # the case on screen (the 查看和办理 choice)
# the case to put on screen on the next run (set after the choice is drawn: a merge's lead)
NEXT_CASE: Key[int | None] = Key("c_case_next")
CASE_NOTICE: Key[str] = Key("case_notice")  # what the last action on 意见建议办理 did
MY_CASE_NOTICE: Key[str] = Key("my_case_notice")  # what the last rating on 我的诉求 did
MERGED_NOTICE: Key[str] = Key("c_merged_notice")  # a link to a merged duplicate opened the case it went into
MERGED_TOLD: Key[str] = Key("_merged_told")  # the duplicate that was said (once per link)
CASE_FILTERS: Key[tuple[Any, ...]] = Key("c_filters")  # the filters of the last run (a new one: a new list)
CASE_SCOPE_LINK: Key[str] = Key("c_scope_link")  # the case number a link opened the view for (once)
CASE_NOTE_CLEARED: Key[str] = Key("c_clear")  # the key of a note's box to start empty (just recorded)

# --- 联系活动记录 (pages/activities.py; a link sets it through pages/common.linked) --------------------
ACTIVITY: Key[int] = Key("chosen")  # the activity on screen
ACTIVITY_NOTICE: Key[str] = Key("activity_notice")  # an edit saved, an activity voided
ACTIVITY_PDF: Key[tuple[int, bytes]] = Key("pdf")  # (activity, its record form as PDF) once made

# --- 接待当日, 签到, 接待日安排 (pages/reception_day.py, checkin.py, reception_roster.py) -----------------
DAY_NOTICE: Key[str] = Key("day_notice")
DAY_LINK: Key[str] = Key("day_link")  # the day a link opened (once: then the user's choice wins)
FINISHING: Key[str] = Key("finishing")  # the day whose 完成本日接待 dialog is open
CHECKIN_NOTICE: Key[str] = Key("checkin_notice")
ROSTER_NOTICE: Key[str] = Key("roster_notice")

# --- 答复公开, 我的账号 (pages/answers.py, account.py) -----------------------------------------------
ANSWERS_NOTICE: Key[str] = Key("answers_notice")
MY_DATA: Key[bytes] = Key("my_data")  # 我的数据: the copy made, until downloaded or the page is left

# --- 系统管理 (pages/admin_*.py, org_people.py, account_files.py) -----------------------------------
AUDIT_FILTERS: Key[tuple[Any, ...]] = Key("audit_filters")  # a new filter starts at the first page
AUDIT_PAGE: Key[int] = Key("audit_page")
IMPORT_PREPARED: Key[tuple[str, Prepared | None, ImportRejected | None, str | None]] = Key("import_prepared")
IMPORT_DONE: Key[tuple[str, ImportReport]] = Key("import_done")  # (kind, report) of the import just made
IMPORT_ROUND: Key[int] = Key("import_upload_round")  # a new round: an empty uploader
CALENDAR_NOTICE: Key[str] = Key("calendar_notice")
NOTIFY_NOTICE: Key[str] = Key("notify_notice")
ORG_NOTICE: Key[str] = Key("org_notice")
RULES_NOTICE: Key[str] = Key("rules_notice")
NEW_ACCOUNT: Key[NewAccount] = Key("_new_account")  # said once, above the emptied form
OPENED: Key[tuple[NewAccount, str]] = Key("_opened")  # its 账号开通通知, until downloaded or the page is left
PASSWORDS: Keys[str] = Keys("_password_")  # per rendering of the form, the initial password it made
FILES: Keys[dict[str, bytes]] = Keys("_files_")  # per set of notices, the files built (served once)
