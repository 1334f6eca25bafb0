"""Helpers for the browser tests: Debian's Chromium driven by Playwright, pages that record
their console errors, a clock that runs with the wall clock and can be moved ahead."""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Page

from peerview.clock import FakeClock
from tests.support.environment import POSTGRES_URL

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
# Debian's package; PEERVIEW_CHROMIUM names another binary.
CHROMIUM = os.environ.get("PEERVIEW_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # This machine's network is closed: Chromium's own background traffic would only fail.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Playwright's timeout for one step (a click, an expectation), in milliseconds.
STEP_MS = 10_000


def chromium_available() -> bool:
    return Path(CHROMIUM).exists()


class RunningClock(FakeClock):
    """The wall clock plus an offset: time passes in the server as in the browser, and a test
    moves both sides' future closer with `advance` (the browser sees it in the server's times)."""

    def __init__(self) -> None:
        super().__init__()
        self._offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def advance(self, **kwargs: float) -> datetime:
        self._offset += timedelta(**kwargs)
        return self.now()

    def set(self, when: datetime) -> None:
        self._offset = when - datetime.now(UTC)


@dataclass
class Tab:
    """A page of its own browser context (its own storage: one person), with what it logged."""

    context: BrowserContext
    page: Page
    errors: list[str] = field(default_factory=list)

    def unexpected_errors(self, *allowed: str) -> list[str]:
        """Console errors and uncaught exceptions, less those matching one of `allowed`."""
        return [e for e in self.errors if not any(re.search(a, e) for a in allowed)]


async def open_tab(browser: Browser, url: str, **context_options: Any) -> Tab:
    context = await browser.new_context(base_url=url, **context_options)
    context.set_default_timeout(STEP_MS)
    page = await context.new_page()
    tab = Tab(context=context, page=page)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            tab.errors.append(f"console: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: tab.errors.append(f"pageerror: {error}"))
    return tab


# What the browser tests measured (the call's bytesReceived), printed at the end of the run.
FIGURES: list[str] = []


def report(figure: str) -> None:
    """Print `figure` in the run's summary (pytest shows no output of a passing test)."""
    FIGURES.append(figure)


async def screenshot(page: Page, name: str) -> None:
    """Write `docs/screenshots/<name>.png` (shown in the README). Only the SQLite pass writes
    them: the two passes of `make test` run at once and would write the same files."""
    if POSTGRES_URL:
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
