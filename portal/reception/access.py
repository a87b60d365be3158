"""Who may do what with the reception day.

党办 and 校办 run it (第四条, the departments of system 接待日 in policy.toml); an
administrator may do all they may; the school leader on duty runs his or her own day.
"""

from __future__ import annotations

import datetime as dt

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


def may_call(user: User, day: dt.date, leader_id: int | None, today: dt.date) -> bool:
    """Whether ``user`` sees the visitors' full telephone numbers of ``day``: only on that day, and only
    the people who receive them — 党办/校办 staff and the school leader on duty. Everyone else
    (administrators included), and everyone on any other day, sees them masked (138****5678)."""
    if day != today:
        return False
    on_duty = user.person_id is not None and user.person_id == leader_id
    return on_duty or any(d in managing_departments() for d in user.departments)
