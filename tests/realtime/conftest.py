"""Fixtures of the realtime tests: the app served over HTTP and WebSocket on a free port."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI

from tests.realtime.support import JS_DIR, serve


@pytest.fixture
async def live_url(app: FastAPI) -> AsyncIterator[str]:
    async with serve(app) as url:
        yield url


@pytest.fixture(scope="session")
def node() -> str:
    node = shutil.which("node")
    installed = (JS_DIR / "node_modules" / "socket.io-client" / "package.json").exists()
    if node is None or not installed:
        reason = "node is not installed" if node is None else f"run `npm ci` in {JS_DIR}"
        if os.environ.get("PEERVIEW_REQUIRE_SERVICES") == "1":
            pytest.fail(f"the JavaScript client test needs node and its install: {reason}")
        pytest.skip(reason)
    version = json.loads((JS_DIR / "node_modules/socket.io-client/package.json").read_text())
    assert version["version"].startswith("4."), version["version"]
    return node
