"""The school's name, logo and colour (``PORTAL_SCHOOL_NAME``, ``PORTAL_SCHOOL_LOGO``,
``PORTAL_SCHOOL_COLOR``; docs/configuration.md): on the login page, in the menu, in the browser's
title and tab icon, in the theme's accent colour, and at the head of the portal's own exported
documents (its Excel workbooks and Word reports; the official 《领导干部联系师生工作记录表》 keeps
the official form's head). Unset, they are neutral: no school named, no logo, a plain blue.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from . import config
from .settings import logo_kind, read_logo

SITE = "联系师生服务平台"
# what the portal is for, in one paragraph: the login page's first words to a newcomer
PURPOSE = (
    "师生在这里预约每周三的校领导接待日、反映意见建议并查看办理进度和答复；"
    "领导干部在这里记录联系师生活动、查看各项任务完成情况；"
    "责任部门在这里办理意见建议、管理工作台账和年度考核。"
)


@dataclass(frozen=True)
class Brand:
    school: str  # 河南理工大学, or "" (neutral)
    color: str  # #RRGGBB, 4.5:1 or more against white
    logo: str | None  # the logo as a data: URL (the login page has no session for /media/)

    @property
    def title(self) -> str:
        """The browser's title and the pages' masthead: 河南理工大学联系师生服务平台."""
        return f"{self.school}{SITE}"

    def headed(self, title: str) -> str:
        """A document's title with the school's name before it, once."""
        if not self.school or title.startswith(self.school):
            return title
        return f"{self.school}{title}"

    @property
    def favicon(self) -> str:
        """The tab's icon in the school's colour (inline: nothing fetched from elsewhere)."""
        svg = (
            '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">'
            f'<rect width="64" height="64" rx="14" fill="{self.color}"/>'
            '<circle cx="22" cy="24" r="8" fill="#fff"/><circle cx="42" cy="24" r="8" fill="#fff"/>'
            '<path d="M7 52c1-11 7-16 15-16s14 5 15 16zM27 52c1-11 7-16 15-16s14 5 15 16z" fill="#fff"/></svg>'
        )
        return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")


def brand() -> Brand:
    """The brand the settings in force describe."""
    s = config.settings()
    logo = None
    if s.school_logo is not None:
        try:
            logo = _data_url(s.school_logo, s.school_logo.stat().st_mtime_ns)
        except (OSError, ValueError):  # checked at start; gone or spoilt since: no logo rather than no page
            logo = None
    return Brand(school=s.school_name, color=s.school_color, logo=logo)


@lru_cache(maxsize=4)
def _data_url(path: Path, mtime: int) -> str:
    """The logo file as a data: URL (read again only when the file changes)."""
    data = read_logo(path)
    # checked again: the file may have been replaced since the start (ValueError: no logo)
    return f"data:{logo_kind(data)};base64," + base64.b64encode(data).decode("ascii")
