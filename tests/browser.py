"""Headless Chromium for the browser tests: Playwright (the ``playwright`` Python package, ``dev`` extra)
driving the system's Chromium (Debian package ``chromium``; ``.ci/run`` installs it).

Playwright's own browser download is never used (``playwright install`` needs the network): the
executable is ``$LOVE_R1_CHROMIUM`` or the first of ``chromium`` / ``chromium-browser`` /
``google-chrome`` on ``PATH``. Without one the browser tests are skipped with a reason; under CI
(``CI`` set in the environment) they fail instead, so a missing install step cannot hide them.

    from tests.browser import browser_page, requires_browser

    @requires_browser
    def test_page_loads(tmp_path):
        with browser_page() as (page, errors):
            page.goto(url)
            ...
        assert errors == []
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

# Flags for a closed network and a root user (see the env notes in .ci/run): no sandbox, no GPU,
# no background connections (they are refused here, many at a time), a fresh profile per launch.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)


def chromium_executable() -> str | None:
    """The Chromium binary to drive, or None when there is none on this machine."""
    explicit = os.environ.get("LOVE_R1_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).is_file() else None
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _browser_missing_reason() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[dev]')"
    if chromium_executable() is None:
        return "no Chromium found (apt-get install chromium, or set LOVE_R1_CHROMIUM=/path/to/chrome)"
    return None


# Skipped with the reason where the browser is missing, except under CI: there a missing browser is a
# broken install step, and browser_page() raises so the test fails.
_MISSING = _browser_missing_reason()
requires_browser = pytest.mark.skipif(_MISSING is not None and not os.environ.get("CI"), reason=_MISSING or "")


@contextmanager
def browser_page(*, viewport: tuple[int, int] = (1280, 900)) -> Iterator[tuple[Any, list[str]]]:
    """A fresh headless page and the list its console errors and uncaught page errors are appended to.

    The list is live: check it after the interactions (``assert errors == []``). Failed requests for
    ``/favicon.ico`` are not counted.
    """
    from playwright.sync_api import sync_playwright

    executable = chromium_executable()
    if executable is None:
        raise RuntimeError(_browser_missing_reason() or "no Chromium")
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=list(CHROMIUM_ARGS), headless=True)
        try:
            page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})

            def on_console(message: Any) -> None:
                if message.type == "error" and "favicon.ico" not in (message.location or {}).get("url", ""):
                    errors.append(f"console: {message.text}")

            page.on("console", on_console)
            page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
            yield page, errors
        finally:
            browser.close()
