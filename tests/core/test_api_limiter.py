"""The API's wrong-token limiter forgets (issue 19 §12): a table of bounded size, whatever the number
of addresses that call, and IPv6 callers limited per /64 network (one host holds a whole /64)."""

from __future__ import annotations

import ipaddress
import tracemalloc

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.testclient import TestClient

from portal import accounts, api, api_tokens, server
from portal.request_log import RequestLog


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_hundred_thousand_addresses_leave_a_bounded_table():
    limiter = api.WrongTokenLimiter(limit=10, window=60, capacity=5_000, clock=Clock())
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for i in range(100_000):
        address = str(ipaddress.IPv4Address(0x0A000000 + i))
        limiter.blocked(address)  # every request asks; a right token never fails
        if i % 2:
            limiter.failed(address)
    grown = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert len(limiter) <= 5_000, len(limiter)
    assert grown < 8 * 1024 * 1024, f"{grown / 1024 / 1024:.1f} MB"


def test_asking_is_not_remembered_and_old_failures_are_forgotten():
    clock = Clock()
    limiter = api.WrongTokenLimiter(limit=3, window=60, clock=clock)
    for i in range(1000):
        assert not limiter.blocked(f"192.0.2.{i % 250}")
    assert len(limiter) == 0, "a request with a right token leaves nothing behind"
    for _ in range(3):
        limiter.failed("198.51.100.7")
    assert limiter.blocked("198.51.100.7") and len(limiter) == 1
    clock.now += 61
    assert not limiter.blocked("198.51.100.7")
    limiter.failed("198.51.100.8")  # any later failure sweeps what has expired
    assert len(limiter) == 1


def test_a_blocked_address_stays_blocked_while_others_come_and_go():
    clock = Clock()
    limiter = api.WrongTokenLimiter(limit=3, window=60, capacity=100, clock=clock)
    for _ in range(3):
        limiter.failed("203.0.113.9")
    for i in range(50):  # fewer newcomers than the table holds
        limiter.failed(f"10.1.0.{i}")
    assert limiter.blocked("203.0.113.9")


@pytest.mark.parametrize(
    ("first", "same_network", "other_network"),
    [
        ("2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:fffe", "2001:db8:1:3::1"),
        ("2001:db8::a", "2001:db8::b%eth0", "2001:db8:0:1::a"),
    ],
)
def test_ipv6_callers_are_limited_per_64(first, same_network, other_network):
    limiter = api.WrongTokenLimiter(limit=3, window=60, clock=Clock())
    net = ipaddress.ip_network(first + "/64", strict=False)
    for i in range(3):  # three addresses of one /64: one host rotating its addresses
        limiter.failed(str(net[1000 + i]))
    assert limiter.blocked(same_network)
    assert not limiter.blocked(other_network)


def test_ipv4_mapped_addresses_count_as_their_ipv4_address():
    limiter = api.WrongTokenLimiter(limit=2, window=60, clock=Clock())
    limiter.failed("::ffff:198.51.100.20")
    limiter.failed("198.51.100.20")
    assert limiter.blocked("198.51.100.20") and limiter.blocked("::ffff:198.51.100.20")
    assert not limiter.blocked("198.51.100.21")


def test_through_the_api_an_ipv6_host_rotating_addresses_is_refused(demo_db, monkeypatch):
    """Behind nginx: wrong tokens from ten addresses of one /64, then the right token from an
    eleventh is refused (429); a neighbour /64 still gets its answer."""
    monkeypatch.setattr(api, "limiter", api.WrongTokenLimiter(limit=10, window=60))
    app = Starlette(routes=server.routes(), middleware=[Middleware(RequestLog)])
    client = TestClient(app, client=("127.0.0.1", 50000))  # nginx on this host, a trusted proxy
    admin = accounts.find_user(demo_db, "admin")
    good = api_tokens.issue(demo_db, "接待前台", ["roster"], 30, admin.id)[1]
    for i in range(10):
        r = client.get(
            "/api/v1/roster",
            headers={"Authorization": f"Bearer cpt_guess{i}", "X-Forwarded-For": f"2001:db8:7:7::{i + 1:x}"},
        )
        assert r.status_code == 401
    refused = client.get(
        "/api/v1/roster", headers={"Authorization": f"Bearer {good}", "X-Forwarded-For": "2001:db8:7:7::99"}
    )
    assert refused.status_code == 429
    neighbour = client.get(
        "/api/v1/roster", headers={"Authorization": f"Bearer {good}", "X-Forwarded-For": "2001:db8:7:8::1"}
    )
    assert neighbour.status_code == 200
