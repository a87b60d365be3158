"""The hash chain that makes the audit log tamper-evident: each entry's hash covers its own
content and the previous entry's hash, so changing, removing or inserting an entry breaks every
link after it (``portal audit verify`` finds the first broken one).

Here alone, because the migration that chains the existing rows (``portal.db``) and the audit
log that writes and verifies new ones (``portal.audit``) must hash exactly alike.
"""

from __future__ import annotations

import hashlib
import json

GENESIS = "0" * 64  # the "previous hash" of the very first entry

# The columns an entry's hash covers, in this order (the id is not: the order of the chain is).
COLUMNS = ("at", "user_id", "actor", "action", "detail", "address", "outcome")


def entry_hash(previous: str, values: tuple | list) -> str:
    """SHA-256 over the previous hash and the entry's ``COLUMNS`` as canonical JSON."""
    body = json.dumps(list(values), ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(f"{previous}\n{body}".encode()).hexdigest()
