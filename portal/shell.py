"""The page a browser loads first, made the portal's own.

Streamlit answers every page address with the same small ``index.html`` (its "shell"), which says
``<html lang="en">`` (a screen reader then reads the Chinese page with an English voice), is
titled "Streamlit" until the app has run, and asks in English for JavaScript. The server
(portal/server.py) serves it with the language, the site's name and a Chinese notice instead, and
links the portal's stylesheet (``data/portal.css``: what Streamlit's theme options cannot say —
sizes a thumb can hit on a phone, phone-only and desktop-only blocks), served from the portal's
own origin as the Content-Security-Policy wants.
"""

from __future__ import annotations

import hashlib
import html
import re
from functools import cache

from .config import DATA_DIR

STYLESHEET = DATA_DIR / "portal.css"
# the address carries the content's hash: browsers may keep it for a year
STYLESHEET_PATH = "/static/portal/portal.{hash}.css"

# Streamlit's shell, recognised by its root element
MARKER = '<div id="root"></div>'


@cache
def stylesheet() -> bytes:
    return STYLESHEET.read_bytes()


def stylesheet_path() -> str:
    return STYLESHEET_PATH.format(hash=hashlib.sha256(stylesheet()).hexdigest()[:12])


def patch(page: str, title: str, icon: str | None = None) -> str:
    """Streamlit's shell in Chinese, titled ``title``, with the tab's ``icon`` (a data: URL; not
    Streamlit's logo while the app starts) and the portal's stylesheet last."""
    page = page.replace('<html lang="en">', '<html lang="zh-CN">', 1)
    if icon:
        link = f'<link rel="shortcut icon" href="{html.escape(icon)}" />'
        page = re.sub(r'<link rel="shortcut icon"[^>]*>', lambda _: link, page, count=1)
    page = re.sub(r"<title>.*?</title>", f"<title>{html.escape(title)}</title>", page, count=1, flags=re.S)
    page = re.sub(
        r"<noscript>.*?</noscript>",
        "<noscript><p>请在浏览器中启用 JavaScript 后使用本平台。</p></noscript>",
        page,
        count=1,
        flags=re.S,
    )
    link = f'<link rel="stylesheet" href="{stylesheet_path()}">'
    return page.replace("</head>", f"    {link}\n  </head>", 1)
