"""Who may do what with the reception day.

党办 and 校办 run it (第四条, the departments of system 接待日 in policy.toml); an
administrator may do all they may; the school leader on duty runs his or her own day.
"""

from __future__ import annotations

from ..accounts import User
from ..errors import PermissionDenied
from ..policy import policy

SYSTEM = "接待日"
SUBTYPE = "接待"


def managing_departments() -> list[str]:
    return policy().system(SYSTEM).departments


def can_manage(user: User) -> bool:
    """Plan the roster, swap and cancel days, see every booking, run any day."""
    return user.has("admin") or any(d in managing_departments() for d in user.departments)


def require_manager(user: User) -> None:
    if not can_manage(user):
        raise PermissionDenied(f"只有{'、'.join(managing_departments())}工作人员或管理员可以管理接待日")


def can_book(user: User) -> bool:
    """师生 book; a cadre is also a member of staff and may book as one."""
    return user.has("visitor", "cadre")
