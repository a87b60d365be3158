"""Faults: writers killed with SIGKILL in the middle of a storm of bookings lose nothing they confirmed."""

from __future__ import annotations

import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time

from portal.reception import roster
from tests.conftest import ROOT

WORKERS = 4


def test_sigkill_during_a_booking_storm(demo_db, tmp_path):
    start, end = dt.date(2026, 12, 1), dt.date(2027, 1, 10)
    roster.plan(demo_db, start, end, actor=None)
    days = [
        r[0]
        for r in demo_db.execute(
            "SELECT date FROM duty_days WHERE date BETWEEN ? AND ? AND status = 'scheduled' ORDER BY date",
            [start.isoformat(), end.isoformat()],
        )
    ]
    assert len(days) >= 3
    path = demo_db.execute("PRAGMA database_list").fetchone()[2]
    before = demo_db.execute("SELECT count(*) FROM bookings").fetchone()[0]

    confirmed: list[str] = []
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "tests" / "server" / "storm_worker.py"),
                path,
                str(i),
                str(WORKERS),
                ",".join(days),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        for i in range(WORKERS)
    ]

    def collect(proc):
        for line in proc.stdout:
            if line.startswith(b"OK "):
                confirmed.append(line.split()[1].decode())

    readers = [threading.Thread(target=collect, args=(p,)) for p in procs]
    for r in readers:
        r.start()
    deadline = time.time() + 60
    while len(confirmed) < 15 and time.time() < deadline and any(p.poll() is None for p in procs):
        time.sleep(0.01)
    for p in procs:  # mid-storm: no warning, no cleanup, possibly inside a transaction
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
    for p in procs:
        p.wait()
    for r in readers:
        r.join()
    assert any(p.returncode == -signal.SIGKILL for p in procs), "the storm ended before the kill"
    assert len(confirmed) >= 15

    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        codes = {r[0] for r in conn.execute("SELECT code FROM bookings WHERE status = 'booked'")}
        assert set(confirmed) <= codes, "a confirmed booking was lost"
        assert conn.execute("SELECT count(*) FROM bookings").fetchone()[0] >= before + len(confirmed)
        doubles = conn.execute(
            "SELECT date, slot, seat, count(*) FROM bookings WHERE status != 'cancelled' "
            "GROUP BY date, slot, seat HAVING count(*) > 1"
        ).fetchall()
        assert doubles == []
        per_day = conn.execute(
            "SELECT user_id, date, count(*) FROM bookings WHERE status != 'cancelled' "
            "GROUP BY user_id, date HAVING count(*) > 1"
        ).fetchall()
        assert per_day == []
    finally:
        conn.close()
