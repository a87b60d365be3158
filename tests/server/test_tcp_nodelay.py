"""Each connection ``portal serve`` accepts sends small frames at once (TCP_NODELAY).

Streamlit binds its listening socket as ``socket.socket(family)``: protocol number 0, which every
accepted connection inherits, and asyncio (3.11) sets TCP_NODELAY only on sockets that say 6. Nagle's
algorithm then held a page run's frames until the browser acknowledged the first one, ≈ 40 ms per
click (bench/rush_bench.py prints a rerun's wall time). Real sockets on 127.0.0.1, in a fresh
interpreter: whether the option is set is decided by what the process installed.
"""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import asyncio, socket, sys
from portal import tcp_nodelay

async def accepted_nodelay():
    listener = socket.socket(socket.AF_INET)  # as Streamlit binds it: protocol number 0
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.setblocking(False)
    seen = asyncio.get_running_loop().create_future()

    def on_connect(reader, writer):
        sock = writer.get_extra_info("socket")
        seen.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        writer.close()

    server = await asyncio.start_server(on_connect, sock=listener)
    _, writer = await asyncio.open_connection("127.0.0.1", listener.getsockname()[1])
    value = await asyncio.wait_for(seen, 10)
    writer.close()
    server.close()
    return value

before = asyncio.run(accepted_nodelay())
installed = tcp_nodelay.install()
after = asyncio.run(accepted_nodelay())
print(before, installed, after)
"""


def test_accepted_connections_send_without_waiting_for_an_acknowledgement():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True)
    before, installed, after = out.stdout.split()
    assert before == "0"  # what asyncio left: Nagle on, the defect this module mends
    assert installed == "True"
    assert after != "0"


def test_serve_installs_it_before_the_server_starts():
    """``portal serve`` installs it before Streamlit accepts the first connection (in serve())."""
    import inspect

    from portal import server

    source = inspect.getsource(server.serve)
    assert source.index("tcp_nodelay.install()") < source.index("app.run(")
