"""Where a request comes from: the one rule that decides a client's address.

Behind a reverse proxy every request's TCP peer is the proxy, and the client's address is in
``X-Forwarded-For``, to which each proxy appends the address it saw. But anyone can send that
header: it is believed only when the peer is a configured trusted proxy
(``PORTAL_TRUSTED_PROXIES``, default the loopback addresses, where nginx runs), and then only as
far as it was written by trusted proxies — read from the right, the first address that is not a
trusted proxy is the client; whatever stands left of it was sent by the client and is ignored.

``portal serve`` decides once per connection (``portal.server.RequestLog``, for HTTP requests and
Streamlit's WebSocket alike) and hands the decision on as the connection's client address, which
routes read from the request and pages from ``st.context.ip_address``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache

from . import config
from .settings import Network

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@lru_cache(maxsize=4096)
def parse(text: str) -> Address | None:
    """An address as proxies write it (``1.2.3.4``, ``1.2.3.4:5678``, ``[::1]:80``, ``::1``), or None."""
    text = text.strip().strip('"')
    if text.startswith("["):
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        found = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(found, ipaddress.IPv6Address) and found.ipv4_mapped:
        return found.ipv4_mapped  # ::ffff:10.1.2.3 is 10.1.2.3
    return found


def is_trusted(address: Address | None, networks: Iterable[Network] | None = None) -> bool:
    if address is None:
        return False
    chosen = config.settings().trusted_proxies if networks is None else networks
    return any(address in network for network in chosen)


def client_address(peer: str | None, forwarded_for: Iterable[str] = ()) -> str:
    """The client's address: the TCP ``peer``, unless it is a trusted proxy; then the rightmost
    address of the ``X-Forwarded-For`` values (in the order received) that is not a trusted proxy.

    An entry that is no address ends the walk at the last trusted hop (what we know for sure);
    when every hop is trusted, the client is the leftmost (a proxy's own host calling)."""
    if peer is None:
        return ""
    own = parse(peer)
    if own is None:
        return peer  # not an IP address (a Unix socket): nothing to decide
    networks = config.settings().trusted_proxies
    if not is_trusted(own, networks):
        return str(own)
    hops = [part for value in forwarded_for for part in value.split(",") if part.strip()]
    last = own
    for text in reversed(hops):
        hop = parse(text)
        if hop is None:
            return str(last)
        if not is_trusted(hop, networks):
            return str(hop)
        last = hop
    return str(last)


def is_monitor(address: str) -> bool:
    """Whether ``address`` may read the monitoring details (``PORTAL_MONITOR_ADDRESSES``)."""
    found = parse(address) if address else None
    return found is not None and any(found in n for n in config.settings().monitor_addresses)
