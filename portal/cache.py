"""Results worth keeping between page runs, shared by every session of the process.

An entry is keyed by (database file, the caller's key, today, the data stamp): every write through
``db.write`` bumps the stamp, so the next run after any write — by any session, any process —
computes afresh, and a new day does too. Entries are shared read-only objects: callers must not
mutate them. Callers check the viewer's rights *before* asking, or put the viewer in the key
(a supervision list is the viewer's own rows), so an entry is only ever handed to someone allowed
to see it.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

from sqlite_utils import Database

from . import dates
from .db import data_stamp

T = TypeVar("T")
MAX_ENTRIES = 48
# Entries per kind (the key's first item): a whole university's ledger is ≈ 100 MB in memory,
# so only a few of those; one cadre's dashboard is small.
KIND_LIMITS: dict[Hashable, int] = {"ledger": 4, "ledger-tables": 4, "assessment": 3, "cases": 16}

_entries: OrderedDict[tuple, object] = OrderedDict()
_lock = threading.Lock()
_computing: dict[tuple, threading.Lock] = {}


def _file(db: Database) -> str:
    return db.conn.execute("PRAGMA database_list").fetchone()[2]


def memo(db: Database, key: tuple[Hashable, ...], compute: Callable[[], T]) -> T:
    """``compute()``'s result for ``key`` as of the current data; computed once however many
    sessions ask at the same moment (the others wait for it)."""
    full = (_file(db), key, dates.today(), data_stamp(db))
    with _lock:
        if full in _entries:
            _entries.move_to_end(full)
            return _entries[full]  # type: ignore[return-value]  # what compute() made for this key
        guard = _computing.setdefault(full, threading.Lock())
    with guard:
        with _lock:
            if full in _entries:
                return _entries[full]  # type: ignore[return-value]  # what compute() made for this key
        value = compute()
        with _lock:
            _entries[full] = value
            # entries of an older stamp or day for the same key are dead: drop them at once
            for old in [k for k in _entries if k[:2] == full[:2] and k != full]:
                del _entries[old]
            kind = key[0] if key else None
            same = [k for k in _entries if k[1][:1] == (kind,)]  # oldest first
            for old in same[: max(0, len(same) - KIND_LIMITS.get(kind, MAX_ENTRIES))]:
                del _entries[old]  # the least recently used of this kind
            while len(_entries) > MAX_ENTRIES:
                _entries.popitem(last=False)
            _computing.pop(full, None)
    return value


def clear() -> None:
    with _lock:
        _entries.clear()
        _recent.clear()


_recent: dict[tuple, tuple[float, object]] = {}


def recent(db: Database, key: tuple[Hashable, ...], compute: Callable[[], T], seconds: float = 5.0) -> T:
    """``compute()``'s result at most ``seconds`` old, whatever was written meanwhile: for what a
    page shows that changes seldom but would otherwise be recomputed after every write — the
    reception days and their template between two bookers. The service checks again when it
    writes (a booking on a day cancelled a second ago is refused by ``book``)."""
    full = (_file(db), key, dates.today())
    now = time.monotonic()
    with _lock:
        hit = _recent.get(full)
        if hit is not None and now - hit[0] < seconds:
            return hit[1]  # type: ignore[return-value]  # what compute() made for this key
    value = compute()
    with _lock:
        _recent[full] = (now, value)
        if len(_recent) > MAX_ENTRIES:
            oldest = min(_recent, key=lambda k: _recent[k][0])
            del _recent[oldest]
    return value
