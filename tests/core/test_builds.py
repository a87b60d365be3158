"""Long builds in the background (portal/builds.py): one build per key however often it is asked
for, its progress and the time left, its error in Chinese, its file forgotten after an hour."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from portal import builds
from portal.errors import ValidationError


def wait(build: builds.Build, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while build.running and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not build.running


def held(calls: list, gate: threading.Event, result: bytes = b"PK"):
    def work(progress):
        calls.append(1)
        progress(1, 4)
        gate.wait(10)
        progress(4, 4)
        return result

    return work


def test_a_second_start_while_it_runs_gets_the_running_build(tmp_path):
    calls: list = []
    gate = threading.Event()
    key = ("test", tmp_path.name, "twice")
    first = builds.start(key, 1, held(calls, gate))
    # a double tap, a second tab, ten threads at once: the same build, the work done once
    others: list = []
    racers = [
        threading.Thread(target=lambda: others.append(builds.start(key, 1, held(calls, gate))))
        for _ in range(10)
    ]
    for t in racers:
        t.start()
    for t in racers:
        t.join()
    assert all(o is first for o in others)
    gate.set()
    wait(first)
    assert calls == [1] and first.read() == b"PK" and first.error is None
    again = builds.start(key, 1, held(calls, gate))  # asked again once done: built afresh
    assert again is not first
    wait(again)
    assert calls == [1, 1]
    builds.forget(key)


def test_progress_and_the_time_left():
    build = builds.Build(key="k", owner=1)
    assert build.describe().startswith("排队中")
    build.working_since = 100.0
    assert build.describe(now=100.5) == "正在准备……"
    build.done, build.total = 250, 1000
    assert build.fraction == 0.25
    assert build.remaining(now=110.0) == pytest.approx(30.0)  # 10 s for a quarter: 30 s to go
    assert build.describe(now=110.0) == "已完成 25%（250 / 1,000），约还需 30 秒"
    build.done = 100
    assert "约还需 1 分 30 秒" in build.describe(now=110.0)
    build.finished = 111.0
    assert build.fraction == 1.0 and not build.running


def test_a_refused_build_says_why_in_chinese_and_a_crash_says_little(tmp_path):
    def refused(progress):
        raise ValidationError("符合条件的记录有 3,000 条，超过一次导出的上限 2,000 条。")

    def crashed(progress):
        raise RuntimeError("disk full at /var/secret/path")

    one = builds.start(("test", tmp_path.name, "refused"), 1, refused)
    two = builds.start(("test", tmp_path.name, "crashed"), 1, crashed)
    wait(one)
    wait(two)
    assert one.error and "超过一次导出的上限" in one.error
    assert two.error == builds.FAILED and "/var/secret" not in two.error  # the details go to the log


def test_a_file_built_is_removed_when_the_build_is_forgotten(tmp_path, monkeypatch):
    target = tmp_path / "forms.zip"

    def work(progress):
        target.write_bytes(b"PK\x03\x04")
        return target

    key = ("test", tmp_path.name, "file")
    build = builds.start(key, 1, work)
    wait(build)
    assert build.result == target and build.read() == b"PK\x03\x04" and build.size() == 4
    monkeypatch.setattr(builds, "KEEP_SECONDS", 0)
    time.sleep(0.01)
    assert builds.find(key) is None  # kept an hour (here: no time at all), then gone with its file
    assert not Path(target).exists()


def test_no_more_than_two_builds_work_at_once(tmp_path):
    gate = threading.Event()
    working = []

    def work(progress):
        working.append(1)
        gate.wait(10)
        return b""

    started = [builds.start(("test", tmp_path.name, i), 1, work) for i in range(3)]
    deadline = time.monotonic() + 5
    while len(working) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)
    assert len(working) == builds.CONCURRENT == 2
    assert sum(b.working_since is None for b in started) == 1  # the third waits its turn
    assert any(b.describe().startswith("排队中") for b in started)
    gate.set()
    for b in started:
        wait(b)
    assert len(working) == 3
