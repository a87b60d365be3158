"""Exceptions the services raise. Messages are Chinese and meant for the user."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


class PortalError(Exception):
    """Base class: the message is shown to the user as it is."""

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one input of a form: the input's name (as the service calls it, e.g.
    ``subject``; empty for the form as a whole) and the Chinese message."""

    field: str
    message: str


class ValidationError(PortalError):
    """Input that cannot be accepted; nothing was written.

    ``problems`` names every field at fault, so that a form shows them all at once, each beside its
    input; the message joins them. Raised with a message alone, it is one problem of the whole form.
    """

    def __init__(self, message: str | None = None, *, problems: list[Problem] | None = None):
        found = list(problems or [])
        if message is None:
            message = "；".join(dict.fromkeys(p.message for p in found))
        super().__init__(message)
        self.problems = found or [Problem("", message)]


class Problems:
    """Every problem of one input, collected before anything is refused::

    found = Problems()
    with found.field("subject"):
        subject = text.free_text(...)  # a ValidationError here is noted under "subject"
    if not slot:
        found.add("slot", "请选择时段")
    found.check()  # raises one ValidationError naming them all
    """

    def __init__(self) -> None:
        self.found: list[Problem] = []

    def add(self, field: str, message: str) -> None:
        self.found.append(Problem(field, message))

    @contextmanager
    def field(self, name: str) -> Iterator[None]:
        try:
            yield
        except ValidationError as exc:
            self.found += [Problem(p.field or name, p.message) for p in exc.problems]

    def check(self) -> None:
        if self.found:
            raise ValidationError(problems=self.found)


class NotFound(PortalError):
    """The thing asked for does not exist (or is not visible to this user)."""


class PermissionDenied(PortalError):
    """The user's roles do not allow this action."""


class Conflict(PortalError):
    """The action collides with the current state (a slot taken, a duplicate)."""


class SeatTaken(Conflict):
    """The slot asked for has no seat left (another visitor took the last one meanwhile): the booking
    page asks for another slot above the grid instead of refusing the form. Nothing was booked."""

    MESSAGE = "该时段已约满，请选择其他时段"

    def __init__(self, message: str | None = None):
        super().__init__(message or self.MESSAGE)


class Busy(PortalError):
    """The database stayed locked by other writers past the write deadline; nothing was written."""

    MESSAGE = "系统繁忙，请稍后重试。（当前访问人数较多，您的操作未被保存）"

    def __init__(self, message: str | None = None):
        super().__init__(message or self.MESSAGE)


class AuthError(PortalError):
    """Login failed. The message never tells a wrong user from a wrong password."""


@dataclass(frozen=True)
class RowError:
    """One problem in one row of an imported sheet (row number as the spreadsheet shows it)."""

    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        col = f"“{self.column}”列" if self.column else ""
        return f"第 {self.row} 行 {col}：{self.reason}"


class ImportRejected(PortalError):
    """An import with bad rows: nothing was written; ``errors`` names every bad row, ``warnings``
    what would have been accepted with a warning."""

    def __init__(
        self, errors: list[RowError], message: str | None = None, *, warnings: list[RowError] | None = None
    ):
        self.errors = errors
        self.warnings = warnings or []
        self.decoded: object = None  # the rows as the importer read them, when it has them (imports.Decoded)
        super().__init__(message or f"导入被拒绝：共 {len(errors)} 处错误，数据库未作任何修改。")

    def report(self) -> str:
        return "\n".join([self.message, *(str(e) for e in self.errors)])
