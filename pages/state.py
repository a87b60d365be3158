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

    def get(self) -> T | None:
        return st.session_state.get(self.name)

    def set(self, value: T) -> None:
        st.session_state[self.name] = value

    def pop(self) -> T | None:
        """The value, removed (what is said once)."""
        return st.session_state.pop(self.name, None)

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


# --- 预约接待 (pages/reception_book.py) -------------------------------------------------------------
BOOK_NOTICE: Key[Notice] = Key("book_notice")  # above the slots ("grid") or below the form ("form")
