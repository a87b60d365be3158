"""Files that take a while to build, built in the background: the whole university's 工作台账
(11–18 s), a zip of record forms (≈ 20 ms a form). A page starts the build with 生成, shows its
progress and an estimate of the time left while it runs, and offers the file once it is ready.

A build runs on a thread of its own, not in the page's script: a rerun of the page (any click)
would stop a build run by the script, and a download button's data function cannot draw a
progress bar. One build per key (who asked, and for what) runs at a time: a second 生成 while
it runs (a double tap, a second tab) gets the running build, not a second one. At most
``CONCURRENT`` builds work at once on the server (they take a core each); others wait their turn.

The work is a function ``work(progress) -> bytes | Path`` that opens its own database connection
(a connection belongs to the thread that made it) and calls ``progress(done, total)`` now and
then. A finished build is kept ``KEEP_SECONDS`` for its download, then forgotten (a file it
wrote is removed).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path

from .errors import PortalError

log = logging.getLogger("portal.builds")

CONCURRENT = 2
KEEP_SECONDS = 3600
FAILED = "生成失败，原因已记录在服务器日志中。请稍后重试；如仍失败，请联系管理员。"

Progress = Callable[[int, int], None]
Work = Callable[[Progress], "bytes | Path"]


@dataclass
class Build:
    key: Hashable
    owner: int  # the user who asked: only his or her page shows it
    started: float = field(default_factory=time.monotonic)
    working_since: float | None = None  # None while it waits for a free slot
    done: int = 0
    total: int = 0
    finished: float | None = None
    result: bytes | Path | None = None
    error: str | None = None

    @property
    def running(self) -> bool:
        return self.finished is None

    @property
    def fraction(self) -> float:
        if not self.running:
            return 1.0
        return min(1.0, self.done / self.total) if self.total else 0.0

    def remaining(self, now: float | None = None) -> float | None:
        """Seconds left at the pace so far (None until there is a pace to go by)."""
        if self.working_since is None or not self.done or not self.total:
            return None
        elapsed = (now or time.monotonic()) - self.working_since
        return elapsed / self.done * max(0, self.total - self.done)

    def describe(self, now: float | None = None) -> str:
        """What a page says while it runs: 已完成 45%（1,234 / 2,740），约还需 8 秒."""
        if self.working_since is None:
            return "排队中：服务器正在生成其他文件，稍候自动开始……"
        if not self.total:
            return "正在准备……"
        text = f"已完成 {self.fraction:.0%}（{self.done:,} / {self.total:,}）"
        left = self.remaining(now)
        if left is not None:
            text += f"，约还需 {_duration(left)}"
        return text

    def size(self) -> int:
        if isinstance(self.result, Path):
            return self.result.stat().st_size if self.result.exists() else 0
        return len(self.result or b"")

    def read(self) -> bytes:
        if isinstance(self.result, Path):
            return self.result.read_bytes()
        return self.result or b""

    def discard(self) -> None:
        if isinstance(self.result, Path):
            self.result.unlink(missing_ok=True)
        self.result = None


def _duration(seconds: float) -> str:
    if seconds < 1.5:
        return "1 秒"
    if seconds < 60:
        return f"{round(seconds)} 秒"
    return f"{seconds // 60:.0f} 分 {seconds % 60:.0f} 秒"


_lock = threading.Lock()
_builds: dict[Hashable, Build] = {}
_slots = threading.BoundedSemaphore(CONCURRENT)


def find(key: Hashable) -> Build | None:
    with _lock:
        _expire()
        return _builds.get(key)


def of(owner: int) -> list[Build]:
    """The builds of one user (running or kept for download), oldest first."""
    with _lock:
        _expire()
        return sorted((b for b in _builds.values() if b.owner == owner), key=lambda b: b.started)


def start(key: Hashable, owner: int, work: Work) -> Build:
    """Start building ``key`` for ``owner``, unless a build of it is running: then that one."""
    with _lock:
        _expire()
        running = _builds.get(key)
        if running is not None and running.running:
            return running
        if running is not None:
            running.discard()
        build = _builds[key] = Build(key=key, owner=owner)
    threading.Thread(target=_run, args=(build, work), name="portal-build", daemon=True).start()
    return build


def forget(key: Hashable) -> None:
    with _lock:
        build = _builds.pop(key, None)
    if build is not None and not build.running:
        build.discard()


def _run(build: Build, work: Work) -> None:
    def progress(done: int, total: int) -> None:
        build.done, build.total = done, total

    with _slots:
        build.working_since = time.monotonic()
        try:
            build.result = work(progress)
        except PortalError as exc:
            build.error = exc.message
        except Exception:
            log.exception("building %s failed", build.key)
            build.error = FAILED
        finally:
            build.finished = time.monotonic()


def _expire(now: float | None = None) -> None:
    """Forget finished builds older than KEEP_SECONDS (called holding the lock)."""
    now = now or time.monotonic()
    for key, build in list(_builds.items()):
        if build.finished is not None and now - build.finished > KEEP_SECONDS:
            build.discard()
            del _builds[key]
