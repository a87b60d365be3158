"""Exceptions the services raise. Messages are Chinese and meant for the user."""

from __future__ import annotations

from dataclasses import dataclass


class PortalError(Exception):
    """Base class: the message is shown to the user as it is."""

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


class ValidationError(PortalError):
    """Input that cannot be accepted; nothing was written."""


class NotFound(PortalError):
    """The thing asked for does not exist (or is not visible to this user)."""


class PermissionDenied(PortalError):
    """The user's roles do not allow this action."""


class Conflict(PortalError):
    """The action collides with the current state (a slot taken, a duplicate)."""


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
    """An import with bad rows: nothing was written; ``errors`` names every bad row."""

    def __init__(self, errors: list[RowError], message: str | None = None):
        self.errors = errors
        super().__init__(message or f"导入被拒绝：共 {len(errors)} 处错误，数据库未作任何修改。")

    def report(self) -> str:
        return "\n".join([self.message, *(str(e) for e in self.errors)])
