"""Only a logged-in user who may open a page with an uploader may upload (issue 19 §8), against a
real `portal serve` over Streamlit's own protocols.

Streamlit keeps an uploaded file in the server's memory, in the session it was sent to, at
``PUT /_stcore/upload_file/{session id}/{file id}``; it asks only that the session is live and the
XSRF cookie matches its header — both of which the login page gives anyone. Before, 40 PUTs of
5 MB from a logged-out session grew the server by 180 MB that it never released."""

from __future__ import annotations

import asyncio
import http.client
import re
import shutil
import uuid

import pytest

from portal import accounts, config, sessions
from portal.db import open_db
from tests import live
from tests.stclient import Tab

MB = 1024 * 1024


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def xsrf_cookie(base: str) -> str:
    """The XSRF cookie Streamlit hands any visitor (the login page's first request)."""
    _, headers, _ = live.http("GET", base + "/_stcore/health")
    found = re.search(r"_streamlit_xsrf=([^;]+)", headers.get("set-cookie", ""))
    assert found, headers
    return found.group(1)


def put_file(base: str, session_id: str, xsrf: str, size: int, cookie: str = "") -> int:
    """What the browser's uploader sends: a multipart PUT with the XSRF cookie and header."""
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="units.csv"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        + b"x" * size
        + f"\r\n--{boundary}--\r\n".encode()
    )
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    cookies = "; ".join(c for c in (f"_streamlit_xsrf={xsrf}", cookie) if c)
    conn.request(
        "PUT",
        f"/_stcore/upload_file/{session_id}/{uuid.uuid4()}",
        body=body,
        headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Cookie": cookies,
            "X-Xsrftoken": xsrf,
        },
    )
    status = conn.getresponse().status
    conn.close()
    return status


def session_cookie(db_path, username: str) -> str:
    with open_db(db_path) as db:
        _, claim = sessions.start(db, accounts.find_user(db, username).id)
        return f"{config.SESSION_COOKIE}={sessions.claim(db, claim)}"


@pytest.fixture(scope="module")
def running(tmp_path_factory, _demo_template):
    folder = tmp_path_factory.mktemp("uploads")
    shutil.copy(_demo_template, folder / "portal.sqlite3")
    with live.server(folder / "portal.sqlite3", PORTAL_TODAY="2026-11-24T10:00:00") as server:
        yield server, folder / "portal.sqlite3"


async def _tab(base: str, cookie: str | None, page: str = "") -> Tab:
    tab = Tab(base, cookie, page)
    await tab.open()
    assert tab.session_id
    return tab


def test_a_logged_out_session_cannot_upload_and_the_server_does_not_grow(running):
    server, _ = running
    xsrf = xsrf_cookie(server.base)

    async def flood() -> tuple[list[int], float, float]:
        tab = await _tab(server.base, None)  # the login page
        before = rss_mb(server.pid)
        statuses = [put_file(server.base, tab.session_id, xsrf, 4 * MB) for _ in range(30)]
        await asyncio.sleep(1)
        after = rss_mb(server.pid)
        await tab.close()
        return statuses, before, after

    statuses, before, after = asyncio.run(flood())
    print(f"30 PUTs of 4 MB from the login page: RSS {before:.0f} → {after:.0f} MB")
    assert set(statuses) == {403}, statuses
    assert after - before < 30, f"the server grew {after - before:.0f} MB"  # ≥ 120 MB before


def test_an_administrator_on_the_import_page_uploads(running):
    server, db_path = running
    xsrf = xsrf_cookie(server.base)
    admin = session_cookie(db_path, "admin")

    async def upload() -> list[int]:
        tab = await _tab(server.base, admin, "admin_import")
        assert "选择文件" in " ".join(tab.widgets) or tab.widgets is not None
        return [put_file(server.base, tab.session_id, xsrf, 1000, admin)]

    assert asyncio.run(upload()) in ([200], [204])


def test_no_one_else_uploads(running):
    server, db_path = running
    xsrf = xsrf_cookie(server.base)
    admin = session_cookie(db_path, "admin")
    student = session_cookie(db_path, "2023000001")
    department = session_cookie(db_path, "jiaowu")

    async def attempts() -> dict[str, int]:
        importing = await _tab(server.base, admin, "admin_import")  # an uploader is on screen
        mine = await _tab(server.base, student, "")
        theirs = await _tab(server.base, department, "")
        found = {
            # logged in, with live sessions of their own, but no page of theirs has an uploader
            "student": put_file(server.base, mine.session_id, xsrf, 1000, student),
            "department": put_file(server.base, theirs.session_id, xsrf, 1000, department),
            # the administrator's session id, sent by someone without the administrator's cookie
            "no cookie": put_file(server.base, importing.session_id, xsrf, 1000),
            "student's cookie": put_file(server.base, importing.session_id, xsrf, 1000, student),
            "forged": put_file(
                server.base, importing.session_id, xsrf, 1000, f"{config.SESSION_COOKIE}=1.2.3"
            ),
        }
        for tab in (importing, mine, theirs):
            await tab.close()
        return found

    assert set(asyncio.run(attempts()).values()) == {403}


def test_after_logging_out_the_session_uploads_no_more(running):
    server, db_path = running
    xsrf = xsrf_cookie(server.base)
    admin = session_cookie(db_path, "admin")

    async def attempt() -> tuple[int, int]:
        tab = await _tab(server.base, admin, "admin_import")
        first = put_file(server.base, tab.session_id, xsrf, 1000, admin)
        live.http("POST", server.base + config.LOGOUT_PATH, {"Cookie": admin})
        second = put_file(server.base, tab.session_id, xsrf, 1000, admin)
        await tab.close()
        return first, second

    first, second = asyncio.run(attempt())
    assert first in (200, 204) and second == 403
