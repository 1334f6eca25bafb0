"""Fixtures of the practice tests: the fake model server, and the app served on a port."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from fastapi import FastAPI

from tests.practice.fake_llm import FakeLLM
from tests.realtime.support import serve


@pytest.fixture
def fake_llm() -> Iterator[FakeLLM]:
    with FakeLLM() as server:
        yield server


@pytest.fixture
async def live_url(app: FastAPI) -> AsyncIterator[str]:
    """The app served over HTTP and WebSocket on a free port (its sockets talk to the AI
    interviewer)."""
    async with serve(app) as url:
        yield url
