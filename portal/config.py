"""Where things are and how the installation is configured.

The database path is ``--db`` (the CLI sets ``PORTAL_DB``), else the environment
variable ``PORTAL_DB``, else ``db/portal.sqlite3`` in the project folder.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(__file__).resolve().parent / "data"
TEMPLATES_DIR = ROOT / "templates"
# Inside pages/, so that no pages/ folder sits beside it (Streamlit would route that folder itself).
ENTRY_SCRIPT = ROOT / "pages" / "main.py"
DEFAULT_DB = ROOT / "db" / "portal.sqlite3"

# Sessions end after this much inactivity, and at the latest after SESSION_MAX_AGE.
SESSION_IDLE_SECONDS = int(os.environ.get("PORTAL_SESSION_IDLE", 30 * 60))
SESSION_MAX_AGE = int(os.environ.get("PORTAL_SESSION_MAX_AGE", 12 * 3600))
SESSION_COOKIE = "portal_session"
# Our logout route; /auth/logout is st.logout's own (OIDC) and must reach Streamlit.
LOGOUT_PATH = "/auth/end"
# Lockout: this many failures in a row lock an account for LOCKOUT_SECONDS.
LOCKOUT_THRESHOLD = int(os.environ.get("PORTAL_LOCKOUT_THRESHOLD", 5))
LOCKOUT_SECONDS = int(os.environ.get("PORTAL_LOCKOUT_SECONDS", 15 * 60))
# At most this many password checks run at once (each takes 19 MiB and a core); others wait
# up to LOGIN_WAIT_SECONDS, then are asked to try again.
LOGIN_CONCURRENCY = int(os.environ.get("PORTAL_LOGIN_CONCURRENCY", 4))
LOGIN_WAIT_SECONDS = float(os.environ.get("PORTAL_LOGIN_WAIT", 10))
# Uploads (imports) larger than this are refused before parsing.
# A batch export of record forms from the page is refused above this many forms (≈ 20 ms a form:
# 2,000 forms ≈ 40 s); the user is asked to narrow the filter. The CLI has no limit.
MAX_EXPORT_FORMS = int(os.environ.get("PORTAL_MAX_EXPORT_FORMS", 2000))
MAX_UPLOAD_BYTES = int(os.environ.get("PORTAL_MAX_UPLOAD_BYTES", 5 * 1024 * 1024))


def db_path() -> Path:
    """The database file this process uses."""
    return Path(os.environ.get("PORTAL_DB") or DEFAULT_DB)
