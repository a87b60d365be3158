"""What a browser shows a person who reads Chinese, sees poorly or uses a screen reader, measured
in the page itself: every string a user can meet (text, icon words a reader speaks, aria labels,
titles, placeholders, tooltips on hover, opened menus and dropdowns, the first Tab), checked for
English; and axe-core (``axe-playwright-python`` bundles it: no network) for violations of
WCAG 2.1 A/AA and WCAG 2.2 AA. docs/accessibility.md says what this covers and what it cannot.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tests.conftest import KINDS_OF_USER

# Latin words a Chinese user may meet on purpose: names of file formats, programs and protocols.
ALLOWED_WORDS = {
    "Excel", "Word", "WPS", "PDF", "CSV", "TSV", "UTF", "GBK", "GB", "Unicode", "xlsx", "docx", "zip",
    "ics", "webcal", "https", "http", "API", "JSON", "OpenAPI", "OIDC", "CAS", "SMTP", "KB", "MB",
    "ID", "IP", "URL", "Token", "token", "PNG",
    "Esc", "Tab", "Enter", "Shift", "Ctrl",  # keys, named as on the keyboard
}  # fmt: skip
# the demo's account names (admin, dangban …): data the tour's users typed, not the interface's
ALLOWED_WORDS |= {name for name in KINDS_OF_USER.values() if not name.isdigit()}
_TOKEN = re.compile(r"[A-Za-z0-9'’]*[A-Za-z][A-Za-z0-9'’]*")
# a file size in bytes as Streamlit writes it (206.0B): a Chinese page says 字节
_BYTES = re.compile(r"\b\d+(?:\.\d+)?\s?B\b")
_URL = re.compile(r"\b(?:https?|webcal)://\S+|\b[\w.-]+@[\w.-]+\b|\.[a-z]{2,4}\b")


def english(text: str) -> list[str]:
    """The English words in ``text`` (URLs, e-mail addresses and allowed names aside)."""
    text = _URL.sub(" ", text)
    # a token with digits or in capitals is a code or an abbreviation (booking CEN878 or PPEXTY,
    # case 2026-0221, XLSX), not a word
    found = [
        w
        for w in _TOKEN.findall(text)
        if len(w) > 1 and w not in ALLOWED_WORDS and not re.search(r"\d", w) and not w.isupper()
    ]
    found += _BYTES.findall(text)
    return found


# Everything a user can meet on the page as it stands, as (where, text) pairs: visible and
# screen-reader text (not what is display:none), icon ligature words a reader would speak,
# and the attributes a reader speaks or a pointer shows. Code blocks hold addresses to copy.
STRINGS_JS = r"""
() => {
  const out = [];
  const skip = (el) => el.closest('script, style, noscript, template, [data-testid=stCode], code');
  const shown = (el) => el.checkVisibility({visibilityProperty: true});
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n; (n = walker.nextNode()); ) {
    const el = n.parentElement, text = n.nodeValue.trim();
    if (!text || !el || skip(el) || !shown(el)) continue;
    if (getComputedStyle(el).fontFamily.includes('Material Symbols')) {
      if (!el.closest('[aria-hidden=true]')) out.push(['icon word a reader speaks', text]);
      continue;
    }
    out.push(['text', text]);
  }
  const attrs = ['aria-label', 'title', 'placeholder', 'alt', 'aria-valuetext', 'aria-roledescription',
                 'aria-description', 'aria-placeholder'];
  for (const el of document.querySelectorAll(attrs.map((a) => `[${a}]`).join(','))) {
    if (skip(el)) continue;
    for (const a of attrs) {
      const v = el.getAttribute(a);
      if (v && v.trim()) out.push([a, v.trim()]);
    }
  }
  for (const el of document.querySelectorAll('svg title, svg desc')) out.push(['svg ' + el.tagName, el.textContent]);
  return out;
}
"""


def strings(page) -> list[tuple[str, str]]:
    return [tuple(pair) for pair in page.evaluate(STRINGS_JS)]


def english_strings(page, context: str = "", seen: set | None = None) -> list[str]:
    """``where: text`` for each string on the page that holds English (and that ``seen``, the
    strings already reported for this page, does not hold; it is updated)."""
    found = []
    seen = set() if seen is None else seen
    for where, text in strings(page):
        if (where, text) in seen or not english(text):
            continue
        seen.add((where, text))
        found.append(f"{context}{where}: {text[:80]!r}")
    return found


# --- interactions: what only shows on hover, on focus or when opened ---------------------------

TOOLTIP = "[role=tooltip], [data-baseweb=tooltip], [data-testid=stTooltipContent]"


def _hover_toolbar(page, element, seen: set) -> list[str]:
    """Hover an element with a toolbar (table, chart), then each toolbar button: its tooltip."""
    found = []
    if not _try(element.hover):
        return found
    page.wait_for_timeout(200)
    buttons = element.locator("[data-testid=stElementToolbar] button")
    for i in range(buttons.count()):
        button = buttons.nth(i)
        if button.is_visible() and _try(button.hover):
            page.wait_for_timeout(400)
            found += english_strings(page, "hover tooltip → ", seen)
    page.mouse.move(0, 0)
    return found


def _try(action) -> bool:
    """Do a pointer action if it can be done now (something may cover the element): a tour looks,
    it does not insist."""
    from playwright.sync_api import Error

    try:
        action(timeout=3_000)
    except Error:
        return False
    return True


def interactions(page, seen: set) -> list[str]:
    """English met by a keyboard user's first Tab, by hovering the toolbars and help icons of the
    first table and chart, and in the first selectbox, multiselect and date picker opened (what
    ``seen`` holds is not reported again)."""
    found: list[str] = []
    # the first Tab from the top of the page (a skip link shows there)
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); window.focus(); }")
    page.keyboard.press("Tab")
    page.wait_for_timeout(150)
    focused = page.evaluate(
        "() => { const e = document.activeElement; return e ? [e.innerText || '', e.getAttribute('aria-label') || '', e.getAttribute('title') || ''].join(' ') : ''; }"
    )
    if english(focused) and ("focus", focused) not in seen:
        seen.add(("focus", focused))
        found.append(f"first Tab focuses: {focused.strip()[:80]!r}")
    found += english_strings(page, "after the first Tab → ", seen)
    page.keyboard.press("Escape")
    main = page.locator("[data-testid=stMain]")
    for testid in ("stDataFrame", "stVegaLiteChart", "stArrowVegaLiteChart"):
        element = main.locator(f"[data-testid={testid}]").first
        if element.count() and element.is_visible():
            found += _hover_toolbar(page, element, seen)
    help_icon = main.locator("[data-testid=stTooltipHoverTarget]").first
    if help_icon.count() and help_icon.is_visible() and _try(help_icon.hover):
        page.wait_for_timeout(400)
        found += english_strings(page, "help tooltip → ", seen)
        page.mouse.move(0, 0)
    for testid, opener in (
        ("stSelectbox", "[role=combobox], input"),
        ("stMultiSelect", "[role=combobox], input"),
        ("stDateInput", "button[aria-haspopup]"),
    ):
        widget = main.locator(f"[data-testid={testid}]").first
        if not (widget.count() and widget.is_visible()):
            continue
        control = widget.locator(opener).first
        if not control.count() or control.is_disabled():
            continue
        if not _try(control.click):
            continue
        page.wait_for_timeout(400)
        found += english_strings(page, f"{testid} opened → ", seen)
        page.keyboard.press("Escape")
        page.wait_for_timeout(150)
    return found


# --- axe-core ----------------------------------------------------------------------------------

WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
SERIOUS = ("serious", "critical")


@dataclass(frozen=True)
class Known:
    """A violation inside Streamlit's own widgets that the portal cannot fix, excluded from the
    check by its rule and selector only, and listed in docs/accessibility.md with its upstream
    issue."""

    rule: str
    selector: str
    upstream: str
    why: str


KNOWN: list[Known] = []


def axe_violations(page) -> list[str]:
    """``rule (impact) ×n: first target`` for each serious or critical violation on the page, minus
    exactly the KNOWN ones."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(
        page, options={"runOnly": {"type": "tag", "values": WCAG}, "resultTypes": ["violations"]}
    )
    found = []
    for violation in results.response["violations"]:
        if violation["impact"] not in SERIOUS:
            continue
        known = [k.selector for k in KNOWN if k.rule == violation["id"]]
        nodes = [
            n
            for n in violation["nodes"]
            if not any(page.locator(s).count() and _matches(page, n["target"], s) for s in known)
        ]
        if nodes:
            target = " ".join(map(str, nodes[0]["target"]))
            found.append(
                f"{violation['id']} ({violation['impact']}) ×{len(nodes)}: {target[:120]} {nodes[0]['html'][:120]}"
            )
    return found


def _matches(page, target: list, selector: str) -> bool:
    """Whether the node axe names (a CSS path) is, or is inside, an element ``selector`` names."""
    if len(target) != 1:
        return False
    return page.evaluate(
        "([t, s]) => { const e = document.querySelector(t); return !!(e && e.closest(s)); }",
        [target[0], selector],
    )
