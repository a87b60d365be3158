"""The read-only JSON API (``/api/v1/…``) and the calendar feeds (``/feeds/…``), as routes of
the portal's own server. docs/api.md describes them; ``/api/v1/openapi.json`` too.

A request carries ``Authorization: Bearer <token>``; the token's scope decides what it reads
(``portal.api_tokens``). Wrong tokens are rate-limited per client address: after
``WRONG_TOKEN_LIMIT`` refusals within ``WRONG_TOKEN_WINDOW`` seconds that address (an IPv6 caller:
its /64 network) gets 429 until the window has passed; the limiter's memory is bounded. Any other path under ``/api/`` is a real 404, never the app shell.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import api_tokens, case_export, cases, dates, feeds, kpis, org, quota
from .accounts import Role, User
from .api_spec import SPEC
from .db import open_db
from .errors import NotFound, PortalError, ValidationError
from .policy import policy
from .reception import bookings, roster

WRONG_TOKEN_LIMIT = 10
WRONG_TOKEN_WINDOW = 60.0
# Callers remembered at most (≈ 1 KB each: 10 MB when full): a flood of new addresses pushes out the callers whose
# last wrong token is oldest, never more memory.
WRONG_TOKEN_CALLERS = 10_000


def caller_key(address: str) -> str:
    """Who is counted: an IPv4 address (an IPv4-mapped IPv6 address is its IPv4 address), or an
    IPv6 caller's /64 network — one host holds a whole /64 and may speak from any address of it."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return address[:100]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((int(ip) >> 64 << 64, 64)))
    return str(ip)


class WrongTokenLimiter:
    """Refusals per caller (``caller_key``) in a sliding window (one server process: memory is enough).

    Only failures are remembered, at most ``limit`` moments per caller, and in the order of their
    latest failure: a caller whose failures have all left the window is swept from the front, and
    past ``capacity`` callers the least recent one goes (what a flood of addresses can push out is a
    caller with older failures, never the memory bound)."""

    def __init__(
        self,
        limit: int = WRONG_TOKEN_LIMIT,
        window: float = WRONG_TOKEN_WINDOW,
        capacity: int = WRONG_TOKEN_CALLERS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit, self.window, self.capacity, self._clock = limit, window, capacity, clock
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._seen)

    def _trim(self, q: deque[float], now: float) -> deque[float]:
        while q and now - q[0] > self.window:
            q.popleft()
        return q

    def blocked(self, address: str) -> bool:
        key = caller_key(address)
        with self._lock:
            q = self._seen.get(key)
            if q is None:
                return False
            if not self._trim(q, self._clock()):
                del self._seen[key]
                return False
            return len(q) >= self.limit

    def failed(self, address: str) -> None:
        key = caller_key(address)
        with self._lock:
            now = self._clock()
            q = self._seen.pop(key, None) or deque(maxlen=self.limit)
            self._trim(q, now).append(now)
            self._seen[key] = q  # the most recent failure last
            while self._seen:  # sweep the front: callers whose latest failure has left the window
                first = next(iter(self._seen.values()))
                if now - first[-1] <= self.window:
                    break
                self._seen.popitem(last=False)
            while len(self._seen) > self.capacity:
                self._seen.popitem(last=False)


limiter = WrongTokenLimiter()
_SYSTEM = User(id=0, username="api", display_name="API", roles=[Role(role="admin")])


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _client(request: Request) -> str:
    """The caller's address, as ``portal serve`` decided it for this request
    (``portal.request_log``: ``X-Forwarded-For`` only from a trusted proxy)."""
    return request.client.host if request.client else "?"


# Dates the API answers for: a date near the calendar's end (9999-12-31) would overflow the
# default window ("eight weeks later"), and no roster, booking or quota lies outside these.
EARLIEST, LATEST = dt.date(1900, 1, 1), dt.date(2999, 12, 31)


def _date(value: str | None, what: str) -> dt.date | None:
    if not value:
        return None
    day = dates.parse_date(value, what)
    if not EARLIEST <= day <= LATEST:
        raise ValidationError(f"{what} 超出范围（{EARLIEST.year}–{LATEST.year} 年）")
    return day


def endpoint(scope: str):
    """Wrap a handler ``(db, request) -> data`` with the token check, the audit and errors."""

    def wrap(handler):
        def route(request: Request) -> Response:
            client = _client(request)
            if limiter.blocked(client):
                return _error(429, "错误令牌过多，请稍后再试")
            header = request.headers.get("authorization", "")
            token = header[7:].strip() if header.lower().startswith("bearer ") else ""
            with open_db() as db:
                try:
                    api_tokens.check(
                        db, token, scope, f"{request.method} {request.url.path}?{request.url.query}"
                    )
                except api_tokens.Refused as exc:
                    if exc.status == 401:
                        limiter.failed(client)
                    return _error(exc.status, exc.message)
                try:
                    data = handler(db, request)
                except NotFound as exc:
                    return _error(404, exc.message)
                except PortalError as exc:
                    return _error(400, exc.message)
            return JSONResponse(data, headers={"cache-control": "no-store"})

        return route

    return wrap


@endpoint("roster")
def get_roster(db, request: Request):
    first = _date(request.query_params.get("from"), "from") or dates.today()
    last = _date(request.query_params.get("to"), "to") or first + dt.timedelta(weeks=8)
    return [d.published() for d in roster.list_roster(db, first, last)]


@endpoint("bookings")
def get_bookings(db, request: Request):
    day = _date(request.query_params.get("date"), "date") or dates.today()
    return [
        {
            "code": b.code,
            "date": b.date.isoformat(),
            "slot": b.slot,
            "seat": b.seat,
            "visitor_name": b.visitor_name,
            "visitor_staff_no": b.visitor_staff_no,
            "visitor_unit": b.visitor_unit,
            "group_size": b.group_size,
            "category": b.category,
            "subject": b.subject,
            "phone": b.phone_masked,
            "status": b.status,
            "checked_in": b.checked_in_at is not None,
            "confirmed": b.confirmed_at is not None,  # 确认前往 (an offered place accepted, or the reminder)
            "awaiting_confirmation": b.awaiting_confirmation,  # offered from the waiting list, held until confirm_by
            "confirm_by": b.confirm_by,
            "leader": b.leader_name,
            "place": b.place,
        }
        for b in bookings.day_bookings(db, day)
    ]


@endpoint("quota")
def get_cadre_quota(db, request: Request):
    staff_no = request.path_params["staff_no"]
    if org.person_by_staff_no(db, staff_no) is None:
        raise NotFound(f"工号 {staff_no} 不存在")
    results = quota.compute(
        db,
        staff_no=staff_no,
        period=request.query_params.get("period") or None,
        on=_date(request.query_params.get("on"), "on"),
    )
    return quota.report_json(results)


@endpoint("quota")
def get_unit_quota(db, request: Request):
    name = request.path_params["unit"]
    unit = org.unit_by_name(db, name)
    if unit is None:
        raise NotFound(f"单位“{name}”不存在")
    period, on = request.query_params.get("period") or None, _date(request.query_params.get("on"), "on")
    # cadre by cadre: the unit's few cadres cost a fraction of the whole university's report
    people = [
        r[0] for r in db.execute("SELECT DISTINCT person_id FROM cadre_posts WHERE unit_id = ?", [unit.id])
    ]
    results = [
        r
        for person in people
        for r in quota.compute(db, person_id=person, period=period, on=on)
        if r.unit == name
    ]
    summary: dict[tuple[str, str], dict] = {}
    for r in results:
        row = summary.setdefault(
            (r.rule, r.period),
            {
                "rule": r.rule,
                "title": r.title,
                "period": r.period,
                "cadres": 0,
                "met": 0,
                "in_progress": 0,
                "missed": 0,
                "not_assessed": 0,
                "behind": 0,
            },
        )
        row["cadres"] += 1
        row[r.status] = row.get(r.status, 0) + 1
        row["behind"] += int(r.behind)
    return {"unit": name, "cadres": len({r.person_id for r in results}), "rules": list(summary.values())}


@endpoint("cases")
def get_open_cases(db, request: Request):
    department = request.query_params.get("department") or None
    found = cases.list_cases(db, _SYSTEM, states=list(cases.OPEN_STATES), department=department)
    return json.loads(case_export.to_json(found))


@endpoint("kpis")
def get_kpis(db, request: Request):
    """三率 and 回访率 (portal/kpis.py) of the cases raised in a period: ``by`` department (default),
    unit, cadre or month; ``period`` (2026, 2026-2027-1, 2026-11 …) or ``from``/``to``; optionally one
    ``department``'s cases."""
    q = request.query_params
    unknown = set(q) - {"by", "period", "from", "to", "department"}
    if unknown:
        raise ValidationError(f"未知的参数：{'、'.join(sorted(unknown))[:60]}")
    department = q.get("department") or None
    if department is not None and department not in policy().departments:
        raise ValidationError(f"责任部门“{department[:20]}”不在部门列表中")
    since, until = kpis.period_range(
        db, q.get("period"), _date(q.get("from"), "from"), _date(q.get("to"), "to")
    )
    report = kpis.compute(db, by=q.get("by") or "department", since=since, until=until, department=department)
    return {
        "by": report.by,
        "from": report.since.isoformat(),
        "to": report.until.isoformat(),
        "as_of": report.on.isoformat(),
        "department": department,
        "definitions": kpis.definitions(),
        "rows": [r.as_dict() for r in report.rows],
        "total": report.total.as_dict(),
    }


def openapi(request: Request) -> Response:
    return JSONResponse(SPEC)


def not_found(request: Request) -> Response:
    return _error(404, "没有这个接口")


def feed(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in feeds.FEEDS:
        return Response(status_code=404)
    with open_db() as db:
        token = request.path_params["token"]
        user = feeds.user_for_token(db, token)
        if user is None:
            if not feeds.is_legacy(db, token):
                return Response(status_code=404)
            body = feeds.resubscribe_notice(db, name)  # an address of the earlier form: say so
        else:
            body = feeds.render(db, user, name)
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"cache-control": "no-store", "content-disposition": f'inline; filename="{name}.ics"'},
    )


def routes() -> list[Route]:
    return [
        Route("/api/v1/roster", get_roster, methods=["GET"]),
        Route("/api/v1/bookings", get_bookings, methods=["GET"]),
        Route("/api/v1/quota/cadres/{staff_no}", get_cadre_quota, methods=["GET"]),
        Route("/api/v1/quota/units/{unit}", get_unit_quota, methods=["GET"]),
        Route("/api/v1/cases", get_open_cases, methods=["GET"]),
        Route("/api/v1/kpis", get_kpis, methods=["GET"]),
        Route("/api/v1/openapi.json", openapi, methods=["GET"]),
        Route("/api/{rest:path}", not_found),
        Route("/feeds/{token}/{name}.ics", feed, methods=["GET"]),
        Route("/feeds/{rest:path}", not_found),
    ]
