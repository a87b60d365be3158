"""One date format in the interface: 2026年12月6日（星期日）, or 12月6日 where the year is obvious.

Every page of every kind of user is run (AppTest) and what it shows is read: texts, labels,
options, tables and their columns. No date is written 2026-12-06, 2026/12/6 or 2026.12.6; a table's
date column is a date shown as 2026年12月6日 (it still sorts as a date); a date field takes
Streamlit's default format, which the portal's frontend shows as 2026年12月6日. Exports and the API
keep ISO dates (docs/formats.md, docs/api.md).
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pandas as pd
import pytest
from google.protobuf.message import Message

from pages import common
from portal import accounts, navigation
from tests.conftest import KINDS_OF_USER, goto, login

ODD_DATE = re.compile(r"(?<![\d-])(?:19|20)\d{2}\s?[-/.]\s?\d{1,2}\s?[-/.]\s?\d{1,2}(?!\d)")
# fields no one reads: a date field's value in Streamlit's wire format, ids, a link's address
UNSEEN_FIELDS = {"default", "value", "min", "max", "raw_value", "format", "id", "form_id", "query_string",
                 "page", "page_script_hash", "url", "key"}  # fmt: skip


def _strings(message: Message, path: str = ""):
    for field, value in message.ListFields():
        if field.name in UNSEEN_FIELDS:
            continue
        values = (
            value
            if isinstance(value, (list, tuple))
            or hasattr(value, "__len__")
            and not isinstance(value, (str, bytes, Message))
            else [value]
        )
        for v in values:
            if isinstance(v, Message):
                yield from _strings(v, f"{path}.{field.name}")
            elif isinstance(v, str):
                yield f"{path}.{field.name}", v


def _nodes(block):
    for child in getattr(block, "children", {}).values():
        yield child
        yield from _nodes(child)


def odd_dates(at) -> list[str]:
    """What the page shows with a date in another format, as ``where: text``."""
    found = []
    for node in [*_nodes(at.main), *_nodes(at.sidebar)]:
        kind = getattr(node, "type", "")
        if kind == "date_input":
            if node.proto.format != "YYYY/MM/DD":
                found.append(f"date_input {node.proto.label}: format {node.proto.format}")
            continue
        if kind in ("arrow_data_frame", "dataframe", "table"):
            found += _odd_table(node)
            continue
        proto = getattr(node, "proto", None)
        if isinstance(proto, Message):
            found += [
                f"{kind}{where}: {text[:60]}" for where, text in _strings(proto) if ODD_DATE.search(text)
            ]
    return found


def _odd_table(node) -> list[str]:
    frame = node.value
    if not isinstance(frame, pd.DataFrame):
        return []
    config = json.loads(node.proto.columns) if getattr(node.proto, "columns", "") else {}
    found = []
    for column in frame.columns:
        values = frame[column].dropna()
        if values.empty:
            continue
        if pd.api.types.is_datetime64_any_dtype(values) or isinstance(values.iloc[0], (dt.date, dt.datetime)):
            shown = (config.get(str(column)) or {}).get("type_config", {}).get("format", "")
            if "年" not in shown:
                found.append(f"table column {column}: dates shown as {shown or 'ISO'}")
            continue
        for text in values.astype(str):
            if ODD_DATE.search(text):
                found.append(f"table column {column}: {text[:40]}")
                break
    return found


def pages_of(demo_db, username: str) -> list[str]:
    user = accounts.find_user(demo_db, username)
    return [p.path for specs in navigation.pages_for(user).values() for p in specs]


@pytest.mark.parametrize("role", list(KINDS_OF_USER))
def test_no_page_shows_a_date_but_as_2026年12月6日(demo_db, role):
    username = KINDS_OF_USER[role]
    found = {}
    at = login(username)
    for page in pages_of(demo_db, username):
        goto(at, page).run()
        assert not at.exception, (page, at.exception)
        if odd := odd_dates(at):
            found[page] = odd
    assert not found, found


def test_the_check_sees_an_iso_date_a_date_field_and_a_date_column():
    from streamlit.testing.v1 import AppTest

    def page():
        import datetime as dt

        import pandas as pd
        import streamlit as st

        st.caption("截止 2026-12-06")
        st.date_input("日期", value=dt.date(2026, 12, 6), format="YYYY-MM-DD")
        st.dataframe(pd.DataFrame({"日期": [dt.date(2026, 12, 6)], "备注": ["2026/12/6 已办"]}))

    at = AppTest.from_function(page).run()
    found = odd_dates(at)
    assert any("截止 2026-12-06" in f for f in found), found
    assert any("format YYYY-MM-DD" in f for f in found), found
    assert any("column 日期" in f for f in found) and any("column 备注" in f for f in found), found


def test_a_date_column_shows_chinese_dates():
    config = common.date_column("日期")
    assert config["type_config"]["format"] == "YYYY年M月D日"
