"""The quotas: for each cadre × applicable rule × period, how far he or she is (docs/rules.md §2–3).

``engine`` judges (``compute``), from what ``records`` reads once (posts, assignments, activities);
``dashboards`` is what 我的工作台 shows of one cadre and who may see whose; ``institutional`` judges
the institution-level duties for the departments' ledgers. Callers use the names below.
"""

from __future__ import annotations

from .dashboards import (
    CountedActivity,
    Dashboard,
    counted_activities,
    dashboard,
    dashboard_choices,
    dashboard_for,
    dashboard_systems,
    monthly_activity,
)
from .engine import (
    BEHIND_LABEL,
    STATE_COLORS,
    STATUS_LABELS,
    STATUSES,
    UNIT_LABELS,
    Colour,
    QuotaResult,
    applicable_rules,
    compute,
    default_since,
    report_json,
)
from .institutional import InstitutionResult, compute_institutional, duty_wednesdays
from .records import Post, load_posts

__all__ = [
    "BEHIND_LABEL",
    "STATE_COLORS",
    "STATUSES",
    "STATUS_LABELS",
    "UNIT_LABELS",
    "Colour",
    "CountedActivity",
    "Dashboard",
    "InstitutionResult",
    "Post",
    "QuotaResult",
    "applicable_rules",
    "compute",
    "compute_institutional",
    "counted_activities",
    "dashboard",
    "dashboard_choices",
    "dashboard_for",
    "dashboard_systems",
    "default_since",
    "duty_wednesdays",
    "load_posts",
    "monthly_activity",
    "report_json",
]
