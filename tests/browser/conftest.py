"""Fixtures of the browser tests: the app served by granian on a free port, with a clock that
runs; Chromium launched once per test session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from playwright.async_api import Browser, async_playwright

from peerview.config import Settings
from tests.browser.support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    FIGURES,
    RunningClock,
    chromium_available,
)
from tests.realtime.support import serve
from tests.support.environment import REQUIRE_SERVICES, test_settings


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if FIGURES:
        terminalreporter.section("browser figures")
        for figure in FIGURES:
            terminalreporter.write_line(figure)


@pytest.fixture
def clock() -> RunningClock:
    return RunningClock()


@pytest.fixture
def settings(database_url: str) -> Settings:
    # The app and its API share one origin: no CORS origins, as `make run` serves it.
    return test_settings(database_url, cors_origins="")


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if not chromium_available():
        if REQUIRE_SERVICES:
            pytest.fail(f"Chromium ({CHROMIUM}) is required but not installed")
        pytest.skip(f"Chromium ({CHROMIUM}) is not installed")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        await launched.close()


@dataclass
class Served:
    url: str
    app: FastAPI
    clock: RunningClock


@pytest.fixture
async def served(app: FastAPI, clock: RunningClock) -> AsyncIterator[Served]:
    async with serve(app) as url:
        yield Served(url=url, app=app, clock=clock)
