"""Helpers of the interview room's browser tests: the settings they run under, the starter bank,
a session made through the API, a signed-in tab, and the call's figures read from the page."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from playwright.async_api import Browser, Page

from peerview.config import Settings
from peerview.questions import service as questions_service
from peerview.questions.seed import load_starter_bank
from tests.browser.support import Tab, open_tab
from tests.factories import TestUser
from tests.support.environment import test_settings

# The interviewer may start a session as soon as it is accepted (a request must be booked
# hours ahead), and no STUN server is named: this machine has no network, and two browsers on
# one machine reach each other by their host candidates.
ROOM_SETTINGS: dict[str, Any] = {
    "cors_origins": "",
    "stun_urls": "",
    "session_early_start_minutes": 24 * 60,
}

# The inbound video's bytesReceived of the open room's RTCPeerConnection (0 before it has one).
INBOUND_VIDEO_BYTES = """async () => {
  const pc = window.peerview && window.peerview.pc;
  if (!pc) return 0;
  let bytes = 0;
  (await pc.getStats()).forEach((r) => {
    if (r.type === "inbound-rtp" && r.kind === "video") bytes = r.bytesReceived;
  });
  return bytes;
}"""


def room_settings(database_url: str) -> Settings:
    return test_settings(database_url, **ROOM_SETTINGS)


async def seed_bank(app: FastAPI) -> None:
    """The starter bank, as `peerview seed-questions` loads it."""
    services = app.services
    async with services.database.transaction() as db:
        await questions_service.add_starter_questions(
            db=db, now=services.clock.now(), entries=load_starter_bank()
        )


async def live_session(
    url: str,
    app: FastAPI,
    interviewer: TestUser,
    interviewee: TestUser,
    *,
    start: bool = True,
    duration_minutes: int = 30,
) -> dict[str, Any]:
    """A session of `arrays`, EASY, CODING questions, booked six hours ahead, accepted and
    (with `start`) started, made through the API."""
    scheduled = app.services.clock.now() + timedelta(hours=6)
    async with httpx.AsyncClient(base_url=url) as http:
        answer = await http.post(
            "/api/interview-requests",
            headers=interviewee.headers,
            json={
                "category": "arrays",
                "difficulty": "EASY",
                "type": "CODING",
                "scheduled_at": scheduled.isoformat(),
                "duration_minutes": duration_minutes,
            },
        )
        assert answer.status_code == 201, answer.text
        accepted = await http.post(
            f"/api/interview-requests/{answer.json()['id']}/accept", headers=interviewer.headers
        )
        assert accepted.status_code == 201, accepted.text
        session: dict[str, Any] = accepted.json()
        if start:
            started = await http.post(
                f"/api/interview-sessions/{session['id']}/start", headers=interviewer.headers
            )
            assert started.status_code == 200, started.text
            session = started.json()
        return session


async def add_question(url: str, interviewer: TestUser, session_id: str) -> dict[str, Any]:
    """The suggested question of the session's kind, added through the API."""
    async with httpx.AsyncClient(base_url=url) as http:
        answer = await http.post(
            f"/api/interview-sessions/{session_id}/questions/suggest",
            headers=interviewer.headers,
            json={"count": 1},
        )
        assert answer.status_code == 201, answer.text
        return dict(answer.json()["items"][-1])


async def signed_in_tab(browser: Browser, url: str, user: TestUser, **options: Any) -> Tab:
    """A browser context of its own, signed in as `user` (the token kept as the app keeps it)."""
    tab = await open_tab(browser, url, **options)
    await tab.context.add_init_script(
        f"if (!sessionStorage.getItem('signed-in')) {{"
        f" sessionStorage.setItem('signed-in', '1');"
        f" localStorage.setItem('peerview.token', {json.dumps(user.token)}); }}"
    )
    return tab


async def wait_connected(page: Page) -> None:
    await page.wait_for_function(
        "() => window.peerview && window.peerview.pc"
        " && window.peerview.pc.connectionState === 'connected'",
        timeout=15_000,
    )


async def video_bytes_grow(page: Page, seconds: float = 2.0) -> tuple[int, int]:
    """The inbound video's bytesReceived once the first frames have come, and `seconds` later."""
    before = 0
    for _ in range(50):
        before = int(await page.evaluate(INBOUND_VIDEO_BYTES))
        if before:
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(seconds)
    after = int(await page.evaluate(INBOUND_VIDEO_BYTES))
    return before, after
