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
