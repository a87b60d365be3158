"""Imports of the sheets of docs/formats.md: all-or-nothing, every bad row reported, idempotent.

Each kind is an ``Importer``. An import runs in two steps so that it never locks anyone out:

* ``prepare`` reads the file, parses and validates every row (collecting every error instead of
  stopping at the first) and computes what would be created, updated or left unchanged. It only
  reads: no transaction, no lock; the page computes it once per uploaded file (the preview).
* ``commit`` does the slow work that writes nothing (password hashing) first, then applies the
  prepared rows in **one short** ``BEGIN IMMEDIATE`` transaction: the file is still all-or-nothing,
  and other users wait milliseconds, not the length of the parse.

Rows with **errors** (malformed: an unknown cadre, an impossible date, an unknown 制度/类别, a bad
number …) refuse the whole file. Rows with **warnings** (well-formed but not fitting today's data,
such as a historical visit to a contact target whose assignment had ended) are imported and the
warning is reported on their row, in the preview and in the result.

The kinds have a module each (``units``, ``cadres``, ``accounts``,
``assignments``, ``activities``) beside what they share (``staging``: the two steps, the report, the
preview; ``cells``: reading a row's cells). ``prepare``, ``commit`` and ``run_import`` are the one
way in; the kinds are registered here, in the order the import page offers them.
"""

from __future__ import annotations

from .accounts import AccountImporter
from .activities import ActivityImporter
from .assignments import AssignmentImporter
from .cadres import CadreImporter
from .staging import (
    IMPORTERS,
    PREVIEW_FIRST,
    PREVIEW_FLAGGED,
    Column,
    Decoded,
    DecodedRow,
    Importer,
    ImportReport,
    Prepared,
    Staged,
    commit,
    decoded,
    file_digest,
    prepare,
    register,
    run_import,
)
from .units import UnitImporter

for _importer in (
    UnitImporter(),
    CadreImporter(),
    AccountImporter(),
    AssignmentImporter(),
    ActivityImporter(),
):
    register(_importer)

__all__ = [
    "IMPORTERS",
    "PREVIEW_FIRST",
    "PREVIEW_FLAGGED",
    "AccountImporter",
    "ActivityImporter",
    "AssignmentImporter",
    "CadreImporter",
    "Column",
    "Decoded",
    "DecodedRow",
    "ImportReport",
    "Importer",
    "Prepared",
    "Staged",
    "UnitImporter",
    "commit",
    "decoded",
    "file_digest",
    "prepare",
    "register",
    "run_import",
]
