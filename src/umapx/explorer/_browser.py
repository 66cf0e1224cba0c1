"""A headless Chromium driven by Playwright, for the explorer's tests, benchmark and screenshot.

Not used by the explorer itself. Playwright (``pip install playwright``) drives the system's
Chromium (Debian: ``apt-get install chromium``), found on the PATH or through
``$UMAPX_CHROMIUM``; Playwright's own browser download is not needed.
"""

from __future__ import annotations

import contextlib
import os
import shutil

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def find_chromium():
    """Path of a Chromium executable, or None."""
    candidates = [os.environ.get("UMAPX_CHROMIUM"), "chromium", "chromium-browser",
                  "google-chrome", "google-chrome-stable"]
    for candidate in filter(None, candidates):
        found = shutil.which(candidate)
        if found:
            return found
    return None


def unavailable_reason():
    """Why a headless browser cannot be started here, or None when it can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install playwright)"
    if find_chromium() is None:
        return "no chromium executable found (apt-get install chromium, or set $UMAPX_CHROMIUM)"
    return None


@contextlib.contextmanager
def chromium():
    """A running headless Chromium (Playwright ``Browser``), closed on exit."""
    from playwright.sync_api import sync_playwright

    reason = unavailable_reason()
    if reason:
        raise RuntimeError(reason)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def open_explorer(browser, url, width=1280, height=800, timeout_ms=60000):
    """A new page showing the explorer at ``url``, returned once its data has loaded.

    Raises RuntimeError with the page's errors when it fails to start.
    """
    page = browser.new_page(viewport={"width": width, "height": height})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    page.wait_for_function("() => window.umapxExplorer && (window.umapxExplorer.ready "
                           "|| window.umapxExplorer.errors.length > 0)", timeout=timeout_ms)
    errors += page.evaluate("() => window.umapxExplorer.errors")
    if errors:
        raise RuntimeError(f"the explorer page failed: {errors}")
    page.wait_for_function("() => window.umapxExplorer.last.grid !== null", timeout=timeout_ms)
    return page
