"""The tour: every page of every kind of user, at desktop and at phone size, in Debian's chromium.

    python -m tests.browser.tour [--out DIR] [--roles student,admin] [--viewports desktop,phone]

starts `portal serve` on the demo university, logs in as each kind of user, opens each page of his
or her menu, saves a screenshot ``DIR/<role>/<viewport>/<page>.png`` (default DIR:
test-artifacts/tour) and reports what a Chinese intranet user must never meet: English strings
that Streamlit shows by default, and requests to any host other than the portal's. Exits 1 if it
found any. tests/browser/test_tour.py runs the same tour without screenshots.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from portal import accounts, navigation
from portal.db import open_db
from tests.browser.serving import CHROMIUM_ARGS, login, running_server, settle
from tests.conftest import KINDS_OF_USER

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

ROLES = KINDS_OF_USER
VIEWPORTS = {"desktop": (1366, 900), "phone": (390, 844)}

# Streamlit's own English, as it would show on our pages (visible text, not code or tooltips).
ENGLISH = [
    "View less",
    r"View \d+ more",
    "Page not found",
    "Running the app's main page",
    "Drag and drop",
    "Browse files",
    r"\bUpload\b",
    "per file",
    r"^empty$",
    "No results",
    "Choose an option",
    "Choose options",
    "No options to select",
    "Press Enter to apply",
    "Press Enter to submit form",
    "Made with Streamlit",
    "Running...",
    r"\bDeploy\b",
    "Download as CSV",
    "Something went wrong",
    "Connection error",
]
_ENGLISH = [re.compile(p, re.M) for p in ENGLISH]


@dataclass(frozen=True)
class Finding:
    role: str
    viewport: str
    page: str
    kind: str  # english / foreign-host / overflow
    detail: str

    def __str__(self) -> str:
        return f"{self.role} {self.viewport} /{self.page}: {self.kind}: {self.detail}"


def pages_of(db_path: Path, username: str) -> list[str]:
    with open_db(db_path) as db:
        user = accounts.find_user(db, username)
    return [p.url_path for specs in navigation.pages_for(user).values() for p in specs]


def english_in(text: str) -> list[str]:
    return [m.group(0) for pattern in _ENGLISH for m in [pattern.search(text)] if m]


def tour(
    browser,
    server: dict,
    *,
    roles: list[str] | None = None,
    viewports: list[str] | None = None,
    out: Path | None = None,
) -> list[Finding]:
    base, findings = server["url"], []
    host = urlparse(base).hostname
    for role in roles or list(ROLES):
        for viewport in viewports or list(VIEWPORTS):
            width, height = VIEWPORTS[viewport]
            context = browser.new_context(locale="zh-CN", viewport={"width": width, "height": height})
            context.set_default_timeout(30_000)
            page = context.new_page()
            current = {"role": role, "viewport": viewport, "page": "login"}

            def watch(request, current=current) -> None:
                url = urlparse(request.url)
                if url.scheme in ("http", "https", "ws", "wss") and url.hostname != host:
                    where = (current["role"], current["viewport"], current["page"])
                    findings.append(Finding(*where, "foreign-host", request.url))

            page.on("request", watch)
            login(page, base, ROLES[role])
            for url_path in pages_of(server["db"], ROLES[role]):
                current["page"] = url_path
                page.goto(f"{base}/{'' if url_path == 'home' else url_path}", wait_until="networkidle")
                settle(page)
                page.wait_for_load_state("networkidle")  # images and fonts the run asked for
                text = page.inner_text("[data-testid=stApp]")
                findings.extend(Finding(role, viewport, url_path, "english", e) for e in english_in(text))
                if out is not None:
                    target = out / role / viewport / f"{url_path}.png"
                    target.parent.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(target), full_page=True)
            context.close()
    return findings


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("test-artifacts/tour"))
    parser.add_argument("--roles", default=",".join(ROLES))
    parser.add_argument("--viewports", default=",".join(VIEWPORTS))
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    with running_server(Path(tempfile.mkdtemp())) as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        findings = tour(
            browser, server, roles=args.roles.split(","), viewports=args.viewports.split(","), out=args.out
        )
        browser.close()
    shots = sorted(args.out.rglob("*.png"))
    print(f"{len(shots)} screenshots in {args.out}")
    for finding in findings:
        print(finding)
    print(f"{len(findings)} findings")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
