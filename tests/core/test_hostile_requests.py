"""Requests a hostile visitor sends, answered with a 4xx or a Chinese message, never a 500: each case
the fuzz test (tests/server/test_fuzz.py) found, on its own and in-process (issue 19 §10)."""

from __future__ import annotations

import pytest

from portal import accounts, api_tokens


@pytest.fixture
def client(demo_db):
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from portal import server

    return TestClient(Starlette(routes=server.routes()), raise_server_exceptions=True)


@pytest.mark.parametrize("head", ["%C2%B2", "1" * 30, "9" * 19, "0", "%D9%A1", "%EF%BC%91"])
def test_a_feed_address_whose_id_is_no_row_id_is_not_found(client, head):
    assert client.get(f"/feeds/{head}-x/roster.ics").status_code == 404


def test_the_api_refuses_a_date_at_the_calendar_s_end(client, demo_db):
    admin = accounts.find_user(demo_db, "admin")
    token = api_tokens.issue(demo_db, "t", ["roster", "bookings", "quota"], 30, admin.id)[1]
    auth = {"Authorization": f"Bearer {token}"}
    for path in ("/api/v1/roster?from=9999-12-31", "/api/v1/bookings?date=0001-01-01"):
        r = client.get(path, headers=auth)
        assert r.status_code == 400 and "超出范围" in r.json()["error"], (path, r.text)
    assert client.get("/api/v1/roster?from=2999-12-31", headers=auth).status_code == 200


@pytest.mark.parametrize("term", ["食堂\x00", "\x00", "a\x1bb"])
def test_a_search_term_with_a_control_character_is_refused_in_chinese(demo_db, term):
    from portal import search
    from portal.errors import ValidationError

    with pytest.raises(ValidationError, match="控制字符"):
        search.search(demo_db, accounts.find_user(demo_db, "admin"), term)
