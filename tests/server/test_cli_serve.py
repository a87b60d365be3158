"""`portal serve` as the command line starts it: a real process on a free port."""

import os
import subprocess
import sys
import time
import urllib.request

from tests.live import free_port


def test_serve_answers_health_and_sets_no_cookie_without_a_claim(tmp_path):
    port = free_port()
    env = {**os.environ, "PORTAL_DB": str(tmp_path / "serve.sqlite3")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "portal", "serve", "--port", str(port), "--address", "127.0.0.1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.time() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                    assert r.status == 200 and r.read() == b"ok"
                    break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    raise AssertionError(
                        proc.stdout.read1().decode() if proc.poll() is not None else "timeout"
                    ) from None
                time.sleep(0.3)
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/auth/claim", method="POST", headers={"X-Portal-Claim": "forged"}
        )
        try:
            urllib.request.urlopen(req, timeout=5)
            raise AssertionError("a forged claim was accepted")
        except urllib.error.HTTPError as err:
            assert err.code == 400 and "set-cookie" not in {k.lower() for k in err.headers}
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
            assert r.headers["X-Content-Type-Options"] == "nosniff"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _listening(port: int) -> list[str]:
    """The local addresses a socket listens on for ``port`` (from /proc/net/tcp and tcp6)."""
    found = []
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(name) as table:
            for line in list(table)[1:]:
                local, state = line.split()[1], line.split()[3]
                address, _, hex_port = local.partition(":")
                if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                    found.append(address)
    return found


def test_serve_listens_on_loopback_by_default_and_warns_about_the_demo_password(demo_db, tmp_path):
    """Issue 19 §5.21: the quickstart's `portal serve` listened on 0.0.0.0 with every demo account's
    password published. Now it answers this machine only unless --address opens it, and says on the
    console (Chinese and English) that demo accounts keep the demo password."""
    port = free_port()
    env = {**os.environ, "PORTAL_DB": str(tmp_path / "portal.sqlite3")}
    env.pop("PORTAL_CAS_SERVER_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "portal", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.time() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                    break
            except OSError:
                assert time.time() < deadline and proc.poll() is None, "serve did not start"
                time.sleep(0.3)
        listening = _listening(port)
        assert listening and all(a in ("0100007F", "00000000000000000000000001000000") for a in listening), (
            listening
        )
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=20)
    text = out.decode()
    assert "演示密码" in text and "demo1234" in text and "demo password" in text
