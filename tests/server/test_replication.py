"""A dead disk loses at most the last second of work (issue 19 §15): real processes throughout.

Litestream replicates the database to a file replica (the "second disk"); a real ``portal serve``
takes bookings from students over Streamlit's WebSocket, one after another; in the middle of it the
server and Litestream are killed together (SIGKILL: the machine died), the first disk is thrown
away, and ``portal restore --from-replica`` brings the database back on a new one. Measured: which
bookings a student saw confirmed (预约成功) are missing, and how long before the kill the first of
them was confirmed — the window of work lost. Then replication resumes from the restored database
onto the same replica, and what is written next survives a second loss.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from portal import accounts, backups, config, reception, sessions
from portal.db import open_db
from tests import live
from tests.conftest import ROOT
from tests.pages.test_rush import NEXT
from tests.stclient import Tab

STUDENTS = 40
IN_FLIGHT = 3  # submits at a time: a steady stream of bookings
KILL_AFTER_S = 4.0  # of bookings before the disk dies
ENV = {"PORTAL_WAL_AUTOCHECKPOINT": "10000", "PORTAL_TODAY": "2026-11-24T10:00:00"}


def litestream_config(db: Path, replica: Path, path: Path) -> Path:
    path.write_text(
        f"dbs:\n  - path: {db}\n    replica:\n      type: file\n      path: {replica}\n", encoding="utf-8"
    )
    return path


def start_litestream(config_file: Path, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [backups.litestream(), "replicate", "-config", str(config_file)],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def wait_for_replica(replica: Path, proc: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not any(replica.glob("ltx/0/*.ltx")):
        assert proc.poll() is None and time.monotonic() < deadline, log.read_text(errors="replace")
        time.sleep(0.2)


def restore(db: Path, *source: str) -> subprocess.CompletedProcess:
    """``portal restore --from-replica …`` as an administrator runs it, in a process of its own."""
    return subprocess.run(
        [sys.executable, "-m", "portal", "--db", str(db), "restore", *source, "--yes"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **ENV},
        timeout=300,
    )


def students_without_a_booking(db: Path) -> list[int]:
    with open_db(db) as handle:
        return [
            r[0]
            for r in handle.execute(
                "SELECT u.id FROM users u JOIN people p ON p.id = u.person_id WHERE p.kind = '学生' "
                "AND u.id NOT IN (SELECT user_id FROM bookings WHERE date = ?) ORDER BY u.id LIMIT ?",
                [NEXT.isoformat(), STUDENTS],
            )
        ]


@pytest.fixture
def disks(tmp_path, _demo_template):
    """The first disk with the demo university (ten visits a slot), the second disk for the replica,
    a third to restore onto."""
    first, second, third = tmp_path / "disk1", tmp_path / "disk2", tmp_path / "disk3"
    for d in (first, second, third):
        d.mkdir(mode=0o700)
    db = first / "portal.sqlite3"
    shutil.copy(_demo_template, db)
    with open_db(db) as handle:
        tpl = reception.load_template(handle)
        reception.save_template(handle, tpl.model_copy(update={"visits_per_slot": 10}))
    return db, second / "portal", third / "portal.sqlite3"


async def book_until_killed(
    base: str, cookies: list[str], labels: list[str], kill
) -> tuple[dict[int, float], float]:
    """Students book one after another (``IN_FLIGHT`` at a time) until ``kill`` is called,
    ``KILL_AFTER_S`` after the first confirmation. Returns {user index: when 预约成功 arrived} and the
    moment of the kill."""
    tabs = [Tab(base, c, "reception_book") for c in cookies]
    for tab, label in zip(tabs, labels, strict=True):  # each student's form, ready to submit
        await tab.open()
        day = next(
            o
            for o in tab.widgets["接待日"].options
            if o.startswith(f"{NEXT.year}年{NEXT.month}月{NEXT.day}日")
        )
        tab.set("接待日", day)
        await tab.rerun()
        await tab.click(label)  # the slot's button
        tab.set("反映事项类别", "后勤保障")
        tab.set("反映事项（简要）", "宿舍热水")
        tab.set("联系电话（手机号或校内分机）", "13800001111")
    confirmed: dict[int, float] = {}
    killed_at: list[float] = []
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def submit(i: int, tab: Tab) -> None:
        async with gate:
            if killed_at:
                return
            try:
                run = await tab.click("提交预约", timeout=30)
            except Exception:  # the server died under this submit: never confirmed
                return
            if any("预约成功" in s for s in run.successes) and not killed_at:
                confirmed[i] = time.time()

    async def killer() -> None:
        while not confirmed:
            await asyncio.sleep(0.05)
        await asyncio.sleep(KILL_AFTER_S)
        killed_at.append(time.time())
        kill()

    jobs = [asyncio.create_task(submit(i, t)) for i, t in enumerate(tabs)]
    watcher = asyncio.create_task(killer())
    await asyncio.gather(*jobs)
    if not killed_at:  # every student booked before the kill came: too fast a machine
        watcher.cancel()
        killed_at.append(time.time())
        kill()
    return confirmed, killed_at[0]


def test_a_dead_disk_loses_at_most_the_last_second_of_bookings(disks, tmp_path):
    db, replica, new_db = disks
    users = students_without_a_booking(db)
    assert len(users) == STUDENTS
    cookies = []
    with open_db(db) as handle:
        # a seat for each student: the slots' free seats in order
        labels = [s.label for s in reception.slots(handle, NEXT) for _ in range(s.free)][:STUDENTS]
        assert len(labels) == STUDENTS
        for uid in users:
            _, claim = sessions.start(handle, uid)
            cookies.append(f"{config.SESSION_COOKIE}={sessions.claim(handle, claim)}")
    ls_log = tmp_path / "litestream.log"
    replicating = start_litestream(litestream_config(db, replica, tmp_path / "litestream.yml"), ls_log)
    try:
        wait_for_replica(replica, replicating, ls_log)
        with live.server(db, **ENV) as server:

            def kill() -> None:  # the machine dies: the server and Litestream at once
                os.kill(server.pid, signal.SIGKILL)
                os.kill(replicating.pid, signal.SIGKILL)

            confirmed, killed_at = asyncio.run(book_until_killed(server.base, cookies, labels, kill))
    finally:
        if replicating.poll() is None:
            replicating.kill()
        replicating.wait()
    assert len(confirmed) >= 5, f"too few bookings before the kill: {len(confirmed)}"

    shutil.rmtree(db.parent)  # the first disk is gone
    done = restore(new_db, "--from-replica", str(replica))
    assert done.returncode == 0, done.stderr + done.stdout
    assert oct(new_db.stat().st_mode & 0o777) == "0o600"
    assert [p.name for p in new_db.parent.iterdir() if p.name.startswith(".portal-restore")] == []

    conn = sqlite3.connect(new_db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        booked = {
            r[0]
            for r in conn.execute(
                "SELECT user_id FROM bookings WHERE date = ? AND status = 'booked'", [NEXT.isoformat()]
            )
        }
    finally:
        conn.close()
    lost = {i: at for i, at in confirmed.items() if users[i] not in booked}
    window = killed_at - min(lost.values()) if lost else 0.0
    first, last = min(confirmed.values()), max(confirmed.values())
    print(
        f"\n{len(confirmed)} bookings confirmed over {last - first:.1f} s, the last {killed_at - last:.2f} s "
        f"before the kill; {len(lost)} lost, the oldest of them confirmed {window:.2f} s before the kill"
    )
    # the goal is the last second; under a loaded test machine Litestream's one-second sync may
    # run late, so the assertion leaves room: what was confirmed 3 s before the kill is never lost
    assert window <= 3.0, (window, sorted(lost.values()), killed_at)


def test_replication_resumes_after_a_restore(disks, tmp_path):
    """Restored onto a new disk, the database replicates on to the same replica: a booking made
    after the restore survives the next loss too."""
    db, replica, new_db = disks
    log = tmp_path / "litestream.log"
    replicating = start_litestream(litestream_config(db, replica, tmp_path / "one.yml"), log)
    try:
        wait_for_replica(replica, replicating, log)
    finally:
        replicating.send_signal(signal.SIGKILL)
        replicating.wait()
    shutil.rmtree(db.parent)
    # the replica that Litestream's configuration names (for the database of the dead disk)
    done = restore(new_db, "--litestream-config", str(tmp_path / "one.yml"))
    assert done.returncode == 0, done.stderr + done.stdout

    log2 = tmp_path / "litestream2.log"
    replicating = start_litestream(litestream_config(new_db, replica, tmp_path / "two.yml"), log2)
    try:
        time.sleep(2)  # Litestream takes up the restored database
        uid = students_without_a_booking(new_db)[0]
        with open_db(new_db) as handle:
            visitor = accounts.get_user(handle, uid)
            slot = next(s.slot for s in reception.slots(handle, NEXT) if s.free)
            made = reception.book(
                handle,
                visitor,
                reception.BookingInput(
                    date=NEXT, slot=slot, category="教学", subject="恢复之后", phone="13800138000"
                ),
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # synced within a second or two
            time.sleep(1)
            fetched = backups_fetch(replica)
            if made.code in fetched:
                break
        assert made.code in fetched, log2.read_text(errors="replace")[-3000:]
    finally:
        replicating.send_signal(signal.SIGKILL)
        replicating.wait()


def backups_fetch(replica: Path) -> set[str]:
    """The booking codes in the replica's latest state."""
    folder, path = backups.fetch_replica(str(replica))
    try:
        conn = sqlite3.connect(path)
        try:
            return {r[0] for r in conn.execute("SELECT code FROM bookings")}
        finally:
            conn.close()
    finally:
        folder.cleanup()


def test_a_replica_that_is_not_there_changes_nothing(tmp_path, db):
    """A wrong folder or an empty replica: a Chinese message, exit 1, the database as it was."""
    path = Path(config.db_path())
    before = path.read_bytes()
    empty = tmp_path / "empty"
    empty.mkdir()
    for source in (str(tmp_path / "no-such-folder"), str(empty), "ftp://example/x"):
        done = restore(path, "--from-replica", source)
        assert done.returncode == 1, (source, done.stdout, done.stderr)
        assert "副本" in done.stderr, done.stderr
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".portal-restore")] == []
