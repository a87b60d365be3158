"""Nothing a hostile request sends makes the server fail (issue 19 §10): a fuzz test against a real
`portal serve`.

Every route of the running app (ours: login, CAS, API, feeds; Streamlit's: health, metrics, media,
uploads, components, st.login, the agent API) gets hostile values (``tests/hostile.py``) in each of
its path parameters and query parameters, with hostile headers, as a logged-out visitor and as a
logged-in administrator with an API token of every scope. Every page's query parameters (found in
the pages' source: ``st.query_params`` and ``common.linked``) get the same values over Streamlit's
WebSocket, logged out and as users who may open the page. The proof: no response is a 500, no page
run shows the "unexpected error" message, and the server's log holds no traceback.

The table of routes below must name every route the app has: a new route fails this test until it
says which parameters it reads.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest

from portal import accounts, api_tokens, config, feeds, navigation, sessions
from portal.db import open_db
from tests import live
from tests.hostile import BAD_CODES, BAD_DATES, RAW_URL_VALUES, URL_VALUES
from tests.stclient import Tab

ROOT = Path(__file__).resolve().parents[2]
VALUES = [quote(v.encode("utf-8", "surrogatepass"), safe="") for v in dict.fromkeys(URL_VALUES)]
VALUES += RAW_URL_VALUES
# the fewer values sent to every parameter of every route, in every combination of who asks
SOME = [quote(v.encode("utf-8", "surrogatepass"), safe="") for v in [*BAD_DATES[:6], *BAD_CODES[:10]]]

# path → the query parameters it reads (besides the path's own {parameters}); every route the app
# has must be here
API_QUERY = ["from", "to", "date", "period", "on", "department"]
ROUTES: dict[str, list[str]] = {
    "/auth/claim": ["t"],
    "/auth/end": [],
    "/auth/cas/login": ["next"],
    "/auth/cas/callback": ["ticket", "next"],
    "/auth/cas/logout": [],
    "/auth/oidc/landed": [],
    "/api/v1/roster": API_QUERY,
    "/api/v1/bookings": API_QUERY,
    "/api/v1/quota/cadres/{staff_no}": API_QUERY,
    "/api/v1/quota/units/{unit}": API_QUERY,
    "/api/v1/cases": API_QUERY,
    "/api/v1/kpis": ["by", "period", "from", "to", "department"],
    "/api/v1/openapi.json": [],
    "/api/{rest:path}": [],
    "/feeds/{token}/{name}.ics": [],
    "/feeds/{rest:path}": [],
    "/health": [],
    "/_stcore/health": [],
    "/_stcore/metrics": [],
    "/_stcore/host-config": [],
    "/media/{file_id:path}": [],
    "/_stcore/upload_file/{session_id}/{file_id}": [],
    "/component/{path:path}": [],
    "/_stcore/bidi-components/{path:path}": [],
    "/_stcore/stream": [],
    "/auth/login": ["provider"],
    "/auth/logout": [],
    "/oauth2callback": ["code", "state", "error"],
    "/_stcore/agent/interact": [],
    "/_stcore/agent/openapi.json": [],
    "/_stcore/agent/mcp": [],
    "": [],  # Streamlit's static files and the app's pages
}
_PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")


def app_routes() -> list[tuple[str, list[str]]]:
    """(path, methods) of every route of the app ``portal serve`` runs, built in a process of its
    own (building the app creates Streamlit's runtime, one per process)."""
    code = (
        "import json; from portal import server; s = server.build_app()._build_starlette_app(); "
        "print(json.dumps([(r.path, sorted(getattr(r, 'methods', None) or ['GET'])) for r in s.routes]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    return [(path, methods) for path, methods in json.loads(out.stdout.strip().splitlines()[-1])]


def request(base: str, method: str, target: str, headers: dict[str, str] | None = None, body=b"") -> int:
    """One request as raw bytes (the path exactly as given, headers unchecked, as an attacker's
    script sends them); the status, or 0 when the server closed the connection without one."""
    host, port = base.removeprefix("http://").split(":")
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}:{port}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogateescape") + body
    with socket.create_connection((host, int(port)), timeout=60) as s:
        # the server may answer (400, 414 …) and close before reading it all: its answer counts
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            s.sendall(raw)
        answer = b""
        with contextlib.suppress(ConnectionResetError):
            while b"\r\n" not in answer:
                chunk = s.recv(65536)
                if not chunk:
                    break
                answer += chunk
    match = re.match(rb"HTTP/1\.[01] (\d{3})", answer)
    return int(match.group(1)) if match else 0


def fill(path: str, values: dict[str, str]) -> str:
    return _PARAM.sub(lambda m: values.get(m.group(1), "x"), path)


def cookie(db_path: Path, username: str) -> str:
    """A fresh session of ``username``'s (the route fuzz ends sessions: /auth/end is a route too)."""
    with open_db(db_path) as db:
        _, claim = sessions.start(db, accounts.find_user(db, username).id)
        return f"{config.SESSION_COOKIE}={sessions.claim(db, claim)}"


@pytest.fixture(scope="module")
def world(tmp_path_factory, _demo_template):
    """A real server over the demo university, CAS configured (its server does not answer, so the
    callback meets an unreachable CAS), an API token of every scope and a valid feed token."""
    folder = tmp_path_factory.mktemp("fuzz")
    db_path = folder / "portal.sqlite3"
    shutil.copy(_demo_template, db_path)
    with open_db(db_path) as db:
        admin = accounts.find_user(db, "admin")
        token = api_tokens.issue(db, "fuzz", list(api_tokens.SCOPES), 30, admin.id)[1]
        feed = feeds.token_for(db, admin.id)
    closed = live.free_port()  # nothing listens there
    with live.server(
        db_path,
        PORTAL_TODAY="2026-11-24T10:00:00",
        PORTAL_CAS_SERVER_URL=f"http://127.0.0.1:{closed}/cas",
        PORTAL_PUBLIC_URL="http://portal.example.edu.cn",
        PORTAL_CAS_TIMEOUT="2",
    ) as running:
        yield {"server": running, "db": db_path, "token": token, "feed": feed}


def tracebacks(log: Path, since: int = 0) -> list[str]:
    """The tracebacks and unexpected errors the server logged (after byte ``since``)."""
    text = log.read_bytes()[since:].decode(errors="replace")
    return [
        block[:2000]
        for block in re.split(r"\n(?=\S)", text)
        if "Traceback" in block or "unexpected error" in block or "Exception in ASGI" in block
    ]


def test_the_table_names_every_route_of_the_app():
    paths = {path for path, _ in app_routes()}
    assert paths == set(ROUTES), (sorted(paths - set(ROUTES)), sorted(set(ROUTES) - paths))


def _who(world) -> list[tuple[dict[str, str], list[str]]]:
    """(headers, values sent): logged out, with hostile credentials, and logged in with every
    right — the last two each from an address of its own (X-Forwarded-For: the test speaks as the
    reverse proxy), since wrong tokens get their address refused (429) for a minute."""
    return [
        ({}, VALUES),
        (
            {
                "Cookie": f"{config.SESSION_COOKIE}=x.y.z; streamlit_xsrf=1; portal_oidc_next=%ff.x",
                "Referer": "http://127.0.0.1/%ff%00?next=//evil.example",
                "Authorization": "Bearer cpt_\x00",
                "X-Forwarded-For": "1' OR '1'='1, ::ffff:999.1.1.1, 2001:db8::1%eth0",
                "X-Forwarded-Host": "evil.example",
                "Origin": "null",
            },
            SOME,
        ),
        (
            {
                "Cookie": cookie(world["db"], "admin"),
                "Authorization": f"Bearer {world['token']}",
                "X-Forwarded-For": ADMIN_ADDRESS,
            },
            VALUES,
        ),
    ]


ADMIN_ADDRESS = "10.20.30.40"


def test_no_route_answers_500_to_hostile_values(world):
    base, log = world["server"].base, world["server"].log
    start = log.stat().st_size
    sends: list[tuple[str, str, dict[str, str], bytes]] = []
    normal = {"token": world["feed"], "name": "roster", "staff_no": "10000001"}
    for path, methods in app_routes():
        if path in ("/_stcore/stream", ""):
            continue  # the WebSocket and the pages: test_no_page_fails_on_hostile_query_values
        names = _PARAM.findall(path)
        for method in [m for m in methods if m != "HEAD"]:
            body = b"logoutRequest=%3Csamlp%3ALogoutRequest%3E%3C%21DOCTYPE" if method == "POST" else b""
            for who, values in _who(world):
                if path in ("/auth/end", "/auth/cas/logout") and who.get("X-Forwarded-For") == ADMIN_ADDRESS:
                    who = {**who, "Cookie": cookie(world["db"], "admin")}  # a session of its own to end
                for name in names:  # each path parameter in turn, the others as a real request has them
                    sends += [(method, fill(path, {**normal, name: v}), who, body) for v in values]
                for name in ROUTES[path] or ["x"]:  # each query parameter in turn
                    sends += [(method, f"{fill(path, normal)}?{name}={v}", who, body) for v in values]
    for value in VALUES:  # the pages' addresses and the static files, with hostile paths
        sends += [("GET", f"/{value}", {}, b""), ("GET", f"/static/{value}", {}, b"")]

    def send(one: tuple[str, str, dict[str, str], bytes]) -> tuple[int, tuple]:
        return request(base, *one), one

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(send, sends))
    failures = [
        f"{status} {method} {target[:200]} {sorted(who)}"
        for status, (method, target, who, _) in answers
        if status in (0, 500) or (status > 500 and not target.startswith("/auth/cas/callback"))
    ]
    assert not failures, (len(failures), "\n".join(failures[:60]))
    assert not tracebacks(log, start), tracebacks(log, start)[:5]
    assert len(answers) > 5000, len(answers)
    reached = {
        target.split("?")[0]
        for status, (_, target, who, _) in answers
        if status == 200 and who.get("X-Forwarded-For") == ADMIN_ADDRESS
    }
    for path in ("/api/v1/roster", "/api/v1/bookings", "/api/v1/cases", "/api/v1/quota/cadres/10000001"):
        assert path in reached, path  # the fuzz reached the handlers, past the token check


def page_params() -> dict[str, set[str]]:
    """Every page's query parameters, read from the pages' source."""
    found: dict[str, set[str]] = {}
    for spec in navigation.PAGES:
        source = (ROOT / spec.path).read_text(encoding="utf-8")
        names = set(re.findall(r"st\.query_params\.get\(\s*[\"'](\w+)", source))
        names |= set(re.findall(r"st\.query_params\[\s*[\"'](\w+)", source))
        names |= set(re.findall(r"common\.linked\(\s*[\"'](\w+)", source))
        if names:
            found[spec.url_path] = names
    return found


def test_the_pages_query_parameters_are_found():
    """The search above finds the links the portal makes (portal.links) on their pages."""
    params = page_params()
    for page, name in [
        ("activities", "id"),
        ("cases", "no"),
        ("my_cases", "no"),
        ("my_bookings", "code"),
        ("reception_roster", "date"),
        ("reception_day", "date"),
        ("dashboard", "cadre"),
    ]:
        assert name in params.get(page, set()), (page, params)


# typed into a page's fields (search terms and filters act as typed, without a button)
TYPED_TEXT = ["食堂\x00", "\x1b[2J", "测" * 3000, 'NEAR(a "b', "食堂 OR 1=1 --", "\u202e1"]
TYPED_NUMBERS = [1e18, -1e18, 1e308, 0, 2**63, -1]

# who opens each page in the page fuzz: someone the page is for (a logged-out visitor always too)
PAGE_USERS = {"my_bookings": "2023000001", "my_cases": "2023000001", "reception_day": "10000001"}


def test_no_page_fails_on_hostile_query_values(world):
    base, log = world["server"].base, world["server"].log
    start = log.stat().st_size
    params = page_params()
    all_names = sorted(set().union(*params.values()))
    failures: list[str] = []
    runs = 0

    async def visit(session: str | None, page: str, queries: list[str]) -> None:
        nonlocal runs
        tab = Tab(base, session, page)
        await tab.open()
        for query in queries:
            run = await tab.goto(page, query=query)
            runs += 1
            if session and "密码" in run.widgets:
                failures.append(f"{page}?{query[:100]}: the session was lost (the login form shows)")
            if run.exception or any("意外错误" in e for e in run.errors):
                failures.append(f"{page}?{query[:100]}: {run.exception or run.errors}")
        await tab.close()

    async def fuzz() -> None:
        jobs = []
        for page, names in params.items():
            queries = [f"{name}={value}" for name in sorted(names) for value in VALUES]
            jobs.append(visit(cookie(world["db"], PAGE_USERS.get(page, "admin")), page, queries))
            jobs.append(visit(None, page, queries[:: max(1, len(queries) // 20)]))
        # every page, with every page's parameter names at once, then hostile text typed into
        # every text field (search terms, filters) and hostile numbers into every number field
        for spec in navigation.PAGES:
            queries = ["&".join(f"{n}={v}" for n in all_names) for v in SOME[:2]]
            jobs.append(visit(cookie(world["db"], "admin"), spec.url_path, queries))
            jobs.append(type_into(cookie(world["db"], PAGE_USERS.get(spec.url_path, "admin")), spec.url_path))
        tabs = asyncio.Semaphore(3)  # three tabs at a time: the server's two cores stay busy

        async def one(job) -> None:
            async with tabs:
                await job

        await asyncio.gather(*(one(job) for job in jobs))

    async def type_into(session: str, page: str) -> None:
        nonlocal runs
        tab = Tab(base, session, page)
        if "密码" in (await tab.open()).widgets:
            failures.append(f"{page}: the session was lost (the login form shows)")
        for text, number in zip(TYPED_TEXT, TYPED_NUMBERS, strict=False):
            # the fields on screen now (a value typed before may have changed the page)
            fields = {label: w.kind for label, w in tab.widgets.items() if not w.form_id}
            for label, kind in fields.items():
                if kind in ("text_input", "text_area"):
                    tab.set(label, text)
                elif kind == "number_input":
                    tab.set(label, number)
            run = await tab.rerun()
            runs += 1
            if run.exception or any("意外错误" in e for e in run.errors):
                failures.append(f"{page} typed {text[:20]!r}/{number}: {run.exception or run.errors}")
        await tab.close()

    asyncio.run(fuzz())
    assert not failures, "\n".join([*(f[:200] for f in failures[:40]), *tracebacks(log, start)[:3]])
    assert not tracebacks(log, start), tracebacks(log, start)[:5]
    assert runs > 300, runs
