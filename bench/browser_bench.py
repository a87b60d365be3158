"""How long a real browser takes to show pages: `python bench/browser_bench.py [--quick]`.

Starts `portal serve` on the seed-1 demo, logs in through the form with Debian's chromium, and times
(a) the login page, (b) login until the home page is interactive, (c) opening 我的工作台 (the cadre
dashboard) until its quota figures and chart are drawn, each the median of several runs.
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from portal import demo  # noqa: E402
from portal.db import open_db  # noqa: E402
from tests import live  # noqa: E402

CADRE = "10000001"  # the Party secretary of the demo: every kind of rule applies


def main() -> int:
    runs = 2 if "--quick" in sys.argv else 5
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        print("chromium is not installed: apt-get install -y chromium fonts-noto-cjk")
        return 1
    folder = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    env = {**os.environ, "PORTAL_DB": str(folder / "portal.sqlite3"), "PORTAL_TODAY": "2026-11-24"}
    os.environ.update({"PORTAL_DB": env["PORTAL_DB"], "PORTAL_TODAY": env["PORTAL_TODAY"]})
    with open_db() as db:
        demo.build(db, seed=1)
    try:
        with live.server(folder / "portal.sqlite3") as running:
            return measure(running.base, runs, chromium)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def measure(base: str, runs: int, chromium: str) -> int:
    from playwright.sync_api import sync_playwright

    figures: dict[str, list[float]] = {"login page": [], "login → home": [], "dashboard": []}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        for _ in range(runs):
            context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000})
            page = context.new_page()
            t0 = time.perf_counter()
            page.goto(base + "/")
            page.get_by_role("button", name="登录").wait_for()
            figures["login page"].append(time.perf_counter() - t0)
            page.get_by_label("账号（工号或学号）").fill(CADRE)
            page.get_by_label("密码", exact=True).fill(demo.DEMO_PASSWORD)
            t0 = time.perf_counter()
            page.get_by_role("button", name="登录").click()
            page.get_by_role("button", name="退出登录").wait_for()
            figures["login → home"].append(time.perf_counter() - t0)
            link = page.get_by_role("link", name="我的工作台")
            if link.count():
                t0 = time.perf_counter()
                link.first.click()
                # the quota figures and the overview chart drawn
                page.locator("[data-testid=stMetric]").first.wait_for(timeout=60_000)
                page.locator("[data-testid=stVegaLiteChart]").first.wait_for(timeout=60_000)
                page.wait_for_load_state("networkidle")
                figures["dashboard"].append(time.perf_counter() - t0)
            context.close()
        browser.close()
    for name, values in figures.items():
        if values:
            print(
                f"{name:>14}: median {statistics.median(values) * 1000:7.0f} ms  "
                f"(min {min(values) * 1000:.0f}, max {max(values) * 1000:.0f}, n={len(values)})"
            )
        else:
            print(f"{name:>14}: not measured (page not available)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
