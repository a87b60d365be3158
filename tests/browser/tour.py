"""The tour: every page of every kind of user, at desktop and at phone size, in Debian's chromium.

    python -m tests.browser.tour [--out DIR] [--roles visitor,student,admin] [--viewports desktop,phone]

starts `portal serve` on the demo university; as a visitor it opens the login page (and a wrong
password: an error state), then logs in as each kind of user, reads the page as the login leaves
it (its hidden frames still there), opens each page of his or her menu, plus the scenes listed in
SCENES (a dialog, a form's errors). On every page it saves a screenshot of the whole page ``DIR/<role>/<viewport>/<page>.png`` (default DIR: test-artifacts/tour)
and reports what a Chinese intranet user must never meet (tests/browser/a11y.py):

* English: in the text, the words an icon leaves to a screen reader, aria labels, titles and
  placeholders; in the tooltips of the first table's and chart's toolbar and of a help icon; in the
  first selectbox, multiselect and date picker opened; on the first Tab;
* axe-core's serious and critical violations of WCAG 2.1 A/AA and 2.2 AA, except exactly those
  docs/accessibility.md lists as Streamlit's own (a11y.KNOWN);
* requests to any host other than the portal's.

Exits 1 if it found any. tests/browser/test_tour.py runs the same tour without screenshots.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from portal import accounts, navigation
from portal.db import open_db
from tests.browser import a11y
from tests.browser.serving import CHROMIUM_ARGS, login, running_server, settle
from tests.conftest import KINDS_OF_USER

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

VISITOR = "visitor"  # not logged in: the login page
ROLES = {VISITOR: "", **KINDS_OF_USER}
VIEWPORTS = {"desktop": (1366, 900), "phone": (390, 844)}


@dataclass(frozen=True)
class Finding:
    role: str
    viewport: str
    page: str
    kind: str  # english / axe / foreign-host
    detail: str

    def __str__(self) -> str:
        return f"{self.role} {self.viewport} /{self.page}: {self.kind}: {self.detail}"


def pages_of(db_path: Path, username: str) -> list[str]:
    with open_db(db_path) as db:
        user = accounts.find_user(db, username)
    return [p.url_path for specs in navigation.pages_for(user).values() for p in specs]


# --- scenes: states a menu page does not show by itself -------------------------------------------


def _wrong_password(page, base: str) -> str:
    page.get_by_label("账号（工号或学号）").fill("admin")
    page.get_by_label("密码", exact=True).fill("wrong-pass1")
    page.get_by_role("button", name="登录").click()
    page.get_by_text("账号或密码错误").wait_for()
    settle(page)
    return "login-error"


def _cancel_dialog(page, base: str) -> str:
    page.goto(f"{base}/my_bookings", wait_until="networkidle")
    settle(page)
    page.get_by_role("button", name="取消预约").first.click()
    page.get_by_role("dialog").wait_for()
    settle(page)
    return "my_bookings-cancel-dialog"


def _booking_form_errors(page, base: str) -> str:
    from tests.browser.conftest import FREE_SLOT

    page.goto(f"{base}/reception_book", wait_until="networkidle")
    settle(page)
    page.locator("[data-testid=stRadio] label").last.click()  # a day not booked yet (the first may be)
    settle(page)
    page.get_by_role("button", name=FREE_SLOT, disabled=False).first.click()
    settle(page)
    page.get_by_role("button", name="提交预约").click()
    settle(page)
    page.locator("[data-testid=stAlertContentError]").first.wait_for()
    return "reception_book-errors"


SCENES: dict[str, list[Callable]] = {
    VISITOR: [_wrong_password],
    "staff": [_cancel_dialog, _booking_form_errors],
}


# --- the tour ----------------------------------------------------------------------------------


TALL_JS = (
    "() => Math.max(...[...document.querySelectorAll('[data-testid=stMain], [data-testid=stSidebarContent]')]"
    ".map((e) => e.scrollHeight), innerHeight)"
)


def screenshot(page, target: Path, viewport: tuple[int, int]) -> None:
    """The whole page: Streamlit scrolls its main block itself, so the window is made as tall as
    that block for the picture (again if the page grew: charts redraw at the new size)."""
    width, height = viewport
    target.parent.mkdir(parents=True, exist_ok=True)
    tall = page.evaluate(TALL_JS)
    for _ in range(4):
        page.set_viewport_size({"width": width, "height": min(tall, 12_000)})
        page.wait_for_timeout(700)
        settle(page)
        grown = page.evaluate(TALL_JS)
        if grown <= tall:
            break
        tall = grown
    page.screenshot(path=str(target))
    page.set_viewport_size({"width": width, "height": height})


def look(page, where: tuple[str, str, str], *, deep: bool, out: Path | None, viewport) -> list[Finding]:
    """What the page as it stands shows: English, axe; then (``deep``) what hovering, the first
    Tab and opened menus show. The screenshot is taken before anything is hovered or opened."""
    settle(page)
    page.wait_for_load_state("networkidle")  # images and fonts the run asked for
    seen: set = set()
    found = [Finding(*where, "english", e) for e in a11y.english_strings(page, seen=seen)]
    found += [Finding(*where, "axe", v) for v in a11y.axe_violations(page)]
    if out is not None:
        screenshot(page, out / where[0] / where[1] / f"{where[2]}.png", viewport)
    if deep:
        found += [Finding(*where, "english", e) for e in a11y.interactions(page, seen)]
    return found


def tour(
    browser,
    server: dict,
    *,
    roles: list[str] | None = None,
    viewports: list[str] | None = None,
    out: Path | None = None,
    deep: bool = True,
) -> list[Finding]:
    base, findings = server["url"], []
    host = urlparse(base).hostname
    for role in roles or list(ROLES):
        for viewport in viewports or list(VIEWPORTS):
            width, height = VIEWPORTS[viewport]
            phone = {"is_mobile": True, "has_touch": True} if viewport == "phone" else {}
            context = browser.new_context(
                locale="zh-CN", viewport={"width": width, "height": height}, **phone
            )
            context.set_default_timeout(30_000)
            # a page's first load on a machine running other tests (CI: three processes) can take longer
            context.set_default_navigation_timeout(90_000)
            page = context.new_page()
            current = {"role": role, "viewport": viewport, "page": "login"}

            def watch(request, current=current) -> None:
                url = urlparse(request.url)
                if url.scheme in ("http", "https", "ws", "wss") and url.hostname != host:
                    where = (current["role"], current["viewport"], current["page"])
                    findings.append(Finding(*where, "foreign-host", request.url))

            page.on("request", watch)
            size = (width, height)
            if role == VISITOR:
                page.goto(base + "/", wait_until="networkidle")
                page.get_by_role("button", name="登录").wait_for()
                findings.extend(look(page, (role, viewport, "login"), deep=deep, out=out, viewport=size))
            else:
                login(page, base, ROLES[role])
                # the page as the login leaves it (its hidden frames still there), before any address is opened
                where = (role, viewport, "after-login")
                findings.extend(Finding(*where, "english", e) for e in a11y.english_strings(page))
                for url_path in pages_of(server["db"], ROLES[role]):
                    current["page"] = url_path
                    page.goto(f"{base}/{'' if url_path == 'home' else url_path}", wait_until="networkidle")
                    findings.extend(look(page, (role, viewport, url_path), deep=deep, out=out, viewport=size))
            for scene in SCENES.get(role, []):
                current["page"] = scene.__name__
                name = scene(page, base)
                findings.extend(look(page, (role, viewport, name), deep=False, out=out, viewport=size))
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
    kinds = {k: sum(f.kind == k for f in findings) for k in ("english", "axe", "foreign-host")}
    print(f"{len(findings)} findings: " + ", ".join(f"{n} {k}" for k, n in kinds.items()))
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
