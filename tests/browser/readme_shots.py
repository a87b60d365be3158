"""The README's three pictures, taken from the demo university in Debian's chromium:

    python -m tests.browser.readme_shots [--out docs/img]

a student booking a reception-day slot on a phone (预约接待, 390×844), the 党委书记's 我的工作台 and
党办's 意见建议办理 at desktop size (1366×900). Each is one screen as its user sees it (not the
whole page), saved as a PNG of at most 256 colours (a few dozen KB to 200 KB;
tests/core/test_docs.py keeps them under 200 KB). Look at them before committing them.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
from pathlib import Path

from PIL import Image

from tests.browser.serving import CHROMIUM_ARGS, login, running_server, settle
from tests.browser.tour import CHROMIUM, VIEWPORTS

PICTURES = {
    "booking-phone.png": "a student picks a slot of the coming reception day on a phone",
    "dashboard.png": "我的工作台 of the 党委书记",
    "case-desk.png": "意见建议办理 as 党办 sees it",
}


def save(png: bytes, target: Path) -> int:
    """``png`` reduced to 256 colours (text and flat colours stay sharp); its size in bytes."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
        target, "PNG", optimize=True
    )
    return target.stat().st_size


def booking(browser, base: str, target: Path) -> int:
    from tests.browser.conftest import FREE_SLOT, phone_login

    width, height = VIEWPORTS["phone"]
    context = browser.new_context(
        locale="zh-CN",
        viewport={"width": width, "height": height},
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,  # a phone's sharpness: the README shows it at half size
    )
    page = context.new_page()
    phone_login(page, base, "2023000001")
    page.goto(f"{base}/reception_book", wait_until="networkidle")
    settle(page)
    page.locator("[data-testid=stRadio] label").last.click()  # the day not booked yet: its slots
    settle(page)
    page.get_by_role("button", name=FREE_SLOT, disabled=False).first.wait_for()
    page.get_by_role("heading", name="1. 选择接待日").scroll_into_view_if_needed()
    page.evaluate("document.querySelector('[data-testid=stMain]').scrollBy(0, 200)")
    page.wait_for_timeout(500)
    size = save(page.screenshot(), target)
    context.close()
    return size


def desktop(browser, base: str, username: str, path: str, heading: str, target: Path) -> int:
    width, height = VIEWPORTS["desktop"]
    context = browser.new_context(locale="zh-CN", viewport={"width": width, "height": height})
    page = context.new_page()
    login(page, base, username)
    page.goto(f"{base}/{path}", wait_until="networkidle")
    page.get_by_role("heading", name=heading).first.wait_for()
    settle(page)
    page.wait_for_load_state("networkidle")  # the charts' fonts and drawings
    page.wait_for_timeout(1500)
    size = save(page.screenshot(), target)
    context.close()
    return size


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/img"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    with running_server(Path(tempfile.mkdtemp())) as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        base, sizes = server["url"], {}
        sizes["booking-phone.png"] = booking(browser, base, args.out / "booking-phone.png")
        sizes["dashboard.png"] = desktop(
            browser, base, "10000001", "dashboard", "我的工作台", args.out / "dashboard.png"
        )
        sizes["case-desk.png"] = desktop(
            browser, base, "dangban", "cases", "意见建议办理", args.out / "case-desk.png"
        )
        browser.close()
    for name, size in sizes.items():
        print(f"{args.out / name}: {size // 1024} KB — {PICTURES[name]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
