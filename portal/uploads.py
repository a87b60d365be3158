"""Who may upload a file.

Streamlit accepts ``PUT /_stcore/upload_file/{session id}/{file id}`` for any live session whose
XSRF cookie matches its header, and keeps the file in the server's memory in that session — the
login page's session included: anyone could fill the server's memory. The server's gate
(``portal.server.SessionGate``) lets an upload through only from a live portal session whose user
may open a page that offers an uploader (``UPLOAD_PAGES``: administrators today), and refuses every
other before its body is read. The pages decide, as everywhere, through ``portal.navigation``;
tests/core/test_house.py checks that every page with an uploader is listed here.
"""

from __future__ import annotations

from . import navigation
from .accounts import User

# the pages that show an st.file_uploader
UPLOAD_PAGES = ("pages/admin_import.py", "pages/admin_calendar.py", "pages/admin_rules.py")


def may_upload(user: User | None) -> bool:
    """Whether ``user`` may open a page that offers an uploader."""
    return user is not None and any(navigation.can_open(user, page) for page in UPLOAD_PAGES)
