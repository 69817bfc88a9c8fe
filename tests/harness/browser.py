"""Playwright driving Chromium (Debian's, where Playwright cannot download its own)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, sync_playwright

from tests.harness.components import ARTIFACTS, missing_component

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Root needs --no-sandbox; the rest keep Chromium from calling out to the internet.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 740}


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        missing_component(
            f"Chromium is not installed at {CHROMIUM}: `make test` installs Debian's chromium "
            "(or set CHROMIUM_PATH)"
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser) -> Iterator[Page]:
    """A desktop-sized page in a fresh context; JavaScript errors fail the test."""
    yield from _page(browser, DESKTOP)


@pytest.fixture
def phone_page(browser) -> Iterator[Page]:
    yield from _page(browser, PHONE, is_mobile=True, has_touch=True)


# Reported to the console, where watch_csp() below finds it, with what was refused.
_REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => console.error(
  `Content Security Policy violation: ${e.violatedDirective} blocked ${e.blockedURI}` +
  ` at ${e.sourceFile}:${e.lineNumber}`));
"""


def watch_csp(context: BrowserContext, violations: list[str]) -> None:
    """Collect every Content-Security-Policy violation of the context's pages (the
    browser's own console message, and the page's securitypolicyviolation events)."""
    context.add_init_script(_REPORT_CSP_VIOLATIONS)

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            violations.append(message.text)

    context.on("console", on_console)


def _page(browser: Browser, viewport: dict, **options) -> Iterator[Page]:
    context = browser.new_context(viewport=viewport, **options)
    violations: list[str] = []
    watch_csp(context, violations)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
    assert not violations, f"Content Security Policy violations: {violations}"


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page screenshot under test-artifacts/screenshots/ for people to look at."""
    path = ARTIFACTS / "screenshots" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    return path


def wait_until_live(page: Page) -> None:
    """Wait until the page is hydrated and its state has come back from the server.

    The top bar's sign-in link gains `?next=` (or the signed-in name appears) only after
    the page's on_load event made the round trip, so clicks after this are handled.
    """
    top_bar = page.locator("#top-bar")
    top_bar.locator('a[href^="/auth/login?next="], #signed-in-name').first.wait_for()
