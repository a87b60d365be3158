"""Real-browser fixtures: `portal serve` on a free port with the demo university, driven by
Playwright through Debian's chromium (Playwright cannot download its own browser here)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from portal import demo
from tests.browser.serving import (  # noqa: F401 (re-exported)
    CHROMIUM_ARGS,
    login,
    running_server,
    session_cookie,
    settle,
    wait_for_session,
)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def pytest_collection_modifyitems(config, items):
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("CI"):
        raise pytest.UsageError("CI must run the browser tests: install Debian's chromium (see .ci/run)")
    skip = pytest.mark.skip(
        reason="Debian chromium is not installed (apt-get install chromium fonts-noto-cjk)"
    )
    for item in items:
        if "browser" in str(item.fspath):
            item.add_marker(skip)


@pytest.fixture(scope="package")
def server(tmp_path_factory):
    """The production server (`python -m portal serve`) on the seed-1 demo, stopped after the browser tests."""
    with running_server(tmp_path_factory.mktemp("server")) as running:
        yield running


@pytest.fixture(scope="package")
def browser():
    """Chromium for the browser tests, closed when they are done: Playwright's sync API keeps an
    event loop running in this thread until then, and the tests after tests/browser/ that drive a
    server over asyncio (``asyncio.run``) cannot start theirs beside it."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def _tab(browser, request, **options):
    """A fresh browser context (no cookies) and its tab; a screenshot is kept when the test fails."""
    context = browser.new_context(locale="zh-CN", **options)
    context.set_default_timeout(30_000)
    tab = context.new_page()
    yield tab
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        tab.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.fixture
def page(browser, request):
    """A desktop tab per test."""
    yield from _tab(browser, request, viewport={"width": 1400, "height": 1000}, accept_downloads=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


FREE_SLOT = re.compile(
    r"^\d{2}:\d{2}–\d{2}:\d{2}$"
)  # a free slot's button on 预约接待: its time and nothing else


def choose(page, label: str, option: str) -> None:
    """Pick from a selectbox: its open button shows the list (on a phone, focusing the field does not)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    opener = page.get_by_test_id("stSelectbox").filter(has_text=label).get_by_role("button")
    for _ in range(5):
        opener.click()
        try:
            page.get_by_role("option", name=option).click(timeout=3_000)
            return
        except PlaywrightTimeout:
            settle(page)
    raise AssertionError(f"{label}: the option {option} never showed")


def handed_over(db_path, username: str, content: str):
    """A case 党办 holds, as a reception hand-over opens it (第十二条): raised by ``username`` at the
    reception day of 2026-11-18."""
    import datetime as dt

    from portal import accounts, case_opening
    from portal.db import open_db

    with open_db(db_path) as db:
        visitor = accounts.find_user(db, username)
        return case_opening.open_case(
            db,
            source="reception",
            content=content,
            responsible_dept="党办",
            contact_date=dt.date(2026, 11, 18),
            system="接待日",
            raised_by=visitor.id,
            raiser_name=visitor.display_name,
        )


def tap_twice(button, gap_ms: int, page) -> None:
    """Two taps on ``button`` ``gap_ms`` apart, as a person's double tap: the second reaches the
    server before, during or after the first one's run, with what the page showed before the first
    was answered. Returns once both are answered: the page watches its run state from the first tap
    on, and after the second waits for the run then in flight, or one it starts, to end (if none
    starts within 2 s, the second tap had nothing left to act on)."""
    answered = button.evaluate(
        """(b, gap) => new Promise((done) => {
            const app = document.querySelector('[data-testid=stApp]');
            const running = () => app.getAttribute('data-test-script-state') === 'running';
            let second = false, ran = false;
            const check = () => {
                if (!second) return;
                if (running()) { ran = true; return; }
                if (ran) { watch.disconnect(); done(true); }
            };
            const watch = new MutationObserver(check);
            watch.observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
            b.click();
            setTimeout(() => {
                b.click();
                second = true;
                ran = running();
                setTimeout(() => { check(); if (!ran) { watch.disconnect(); done(true); } }, 2000);
            }, gap);
            setTimeout(() => done(false), 120000);
        })""",
        gap_ms,
    )
    assert answered, "the page never finished answering the taps"
    settle(page)


def book_first_free_slot(page, subject: str, phone: str, category: str = "教学") -> None:
    """On 预约接待 (the day already chosen): the first free slot of the grid, the form, 提交预约."""
    page.get_by_role("button", name=FREE_SLOT).first.click()
    settle(page)
    choose(page, "反映事项类别", category)
    page.get_by_label("反映事项（简要）").fill(subject)
    page.get_by_label("联系电话").fill(phone)
    settle(page)
    page.get_by_role("button", name="提交预约").click()


# --- a phone (390×844, as in WeChat's browser) ----------------------------------------------

SHOTS = Path(os.environ["PORTAL_SHOTS"]) / "phone" if os.environ.get("PORTAL_SHOTS") else None  # for review
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser, request):
    """A phone's tab per test (touch, a mobile user agent's viewport)."""
    yield from _tab(browser, request, viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)


def fits(page, what: str) -> None:
    """Nothing wider than the phone: the page does not scroll sideways, and no text or button
    sticks out of the screen (Streamlit scrolls its main block itself, so look at that too)."""
    settle(page)
    wide = page.evaluate(
        """() => {
            const width = window.innerWidth;
            const out = [];
            if (document.scrollingElement.scrollWidth > width) out.push('document ' + document.scrollingElement.scrollWidth);
            for (const el of document.querySelectorAll('[data-testid=stMain], [data-testid=stMain] *, [role=dialog] *')) {
                const r = el.getBoundingClientRect();
                if (r.width > 0 && r.height > 0 && (r.right > width + 1 || el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== 'visible' && getComputedStyle(el).overflowX !== 'hidden')) {
                    out.push((el.getAttribute('data-testid') || el.tagName) + ' ' + Math.round(r.right) + ' ' + (el.innerText || '').slice(0, 30));
                }
            }
            return out;
        }"""
    )
    assert page.evaluate("document.scrollingElement.scrollWidth <= innerWidth"), what
    if SHOTS:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{what}.png"), full_page=True)
    assert not wide, f"{what}: wider than {PHONE['width']} px: {wide[:5]}"


def phone_login(page, base: str, username: str) -> None:
    page.goto(base + "/", wait_until="networkidle")
    page.get_by_label("账号（工号或学号）").fill(username)
    page.get_by_label("密码", exact=True).fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.get_by_role("heading", name="联系师生服务平台").wait_for()
    settle(page)
    wait_for_session(page)  # pages opened by URL need the HttpOnly cookie a hidden frame sets


def open_page(page, base: str, path: str, heading: str) -> None:
    page.goto(f"{base}/{path}", wait_until="networkidle")
    page.get_by_role("heading", name=heading).wait_for()
    settle(page)


def follow_link(page, name: str) -> None:
    """Follow the navigation link ``name`` and wait until its page (headed ``name``) has run."""
    page.get_by_role("link", name=name).first.click()
    page.get_by_role("heading", name=name).wait_for()
    settle(page)


def new_activity(page, base: str, username: str, system: str) -> None:
    """``username`` logged in on 记录联系活动 with the 制度 ``system`` chosen: its form is shown."""
    login(page, base, username)
    follow_link(page, "记录联系活动")
    page.locator("[data-testid=stSelectbox]").filter(has_text="制度").click()
    page.get_by_role("option", name=system, exact=True).click()
    settle(page)


def import_accounts(page, base: str, sheet: Path, rows: str) -> None:
    """As the administrator (logged in): 数据导入 → 账号, a CSV of ``rows`` (工号,姓名,角色 lines) written
    to ``sheet``, 确认导入, until 导入完成 shows with the new accounts' files to download."""
    page.get_by_role("link", name="数据导入").first.click()
    page.get_by_role("heading", name="数据导入").wait_for()
    settle(page)
    page.locator("[data-testid=stSelectbox]").first.click()
    page.get_by_role("option", name="账号").click()
    settle(page)
    sheet.write_text("工号,姓名,角色\n" + rows, encoding="utf-8")
    page.locator("input[type=file]").set_input_files(str(sheet))
    page.get_by_role("button", name="确认导入").click()
    page.get_by_text("导入完成").wait_for()
    settle(page)
