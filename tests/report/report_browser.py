"""Loads a pack's HTML in a real headless Chromium (Debian's, driven by Playwright) and
records console errors and every network request, then takes a screenshot."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
# Chromium's own background traffic is switched off so only the page's requests remain.
QUIET_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class PageVisit:
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    title: str = ""
    section_ids: list[str] = field(default_factory=list)


def chromium_path() -> str:
    found = next((p for p in CHROMIUM_CANDIDATES if Path(p).exists()), None) or shutil.which(
        "chromium"
    )
    if found is None:
        raise RuntimeError(
            "Debian's chromium is required for the browser test: apt-get install chromium"
        )
    return found


def visit(html_path: Path, screenshot: Path) -> PageVisit:
    from playwright.sync_api import sync_playwright

    result = PageVisit()
    document_url = html_path.resolve().as_uri()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=QUIET_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: m.type == "error" and result.console_errors.append(m.text))
            page.on("pageerror", lambda e: result.page_errors.append(str(e)))
            page.on("request", lambda r: r.url != document_url and result.requests.append(r.url))
            page.goto(document_url, wait_until="load")
            page.wait_for_load_state("networkidle")
            result.title = page.title()
            result.section_ids = page.eval_on_selector_all("section", "els => els.map(e => e.id)")
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    return result
