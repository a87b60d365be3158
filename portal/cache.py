"""Results worth keeping between page runs, shared by every session of the process.

An entry is keyed by (database file, the caller's key, today, the data stamp): every write through
``db.write`` bumps the stamp, so the next run after any write — by any session, any process —
computes afresh, and a new day does too. Entries are shared read-only objects: callers must not
mutate them. Callers check the viewer's rights *before* asking (the key holds no user), so an
entry is only ever handed to someone allowed to see it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

from sqlite_utils import Database

from . import dates
from .db import data_stamp

T = TypeVar("T")
MAX_ENTRIES = 48

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
            return _entries[full]  # type: ignore[return-value]
        guard = _computing.setdefault(full, threading.Lock())
    with guard:
        with _lock:
            if full in _entries:
                return _entries[full]  # type: ignore[return-value]
        value = compute()
        with _lock:
            _entries[full] = value
            # entries of an older stamp or day for the same key are dead: drop them at once
            for old in [k for k in _entries if k[:2] == full[:2] and k != full]:
                del _entries[old]
            while len(_entries) > MAX_ENTRIES:
                _entries.popitem(last=False)
            _computing.pop(full, None)
    return value


def clear() -> None:
    with _lock:
        _entries.clear()
