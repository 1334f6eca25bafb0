"""Helpers of the page tests (accounts, requests, board, sessions): a tab signed in with a
factory user's token, and requests and sessions made through the API."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import httpx
from playwright.async_api import Browser

from tests.browser.conftest import Served
from tests.browser.support import Tab, open_tab
from tests.factories import TestUser


async def signed_in(
    browser: Browser, served: Served, user: TestUser, path: str, **options: Any
) -> Tab:
    """A tab of `user` (their token in localStorage, as after a login) opened at `#<path>`.

    The token is planted once per tab, so a logout or a password change stays signed out."""
    tab = await open_tab(browser, served.url, **options)
    token = json.dumps(user.token)
    await tab.context.add_init_script(
        "if (!sessionStorage.getItem('planted')) {"
        f" localStorage.setItem('peerview.token', {token});"
        " sessionStorage.setItem('planted', '1'); }"
    )
    await tab.page.goto(f"/#{path}")
    return tab


def iso(when: datetime) -> str:
    return when.isoformat()


async def post_request(
    client: httpx.AsyncClient,
    served: Served,
    interviewee: TestUser,
    *,
    hours: float = 24,
    category: str = "arrays",
    difficulty: str = "MEDIUM",
    **extra: Any,
) -> dict[str, Any]:
    """An open request of `interviewee`, `hours` after the server's now."""
    body = {
        "category": category,
        "difficulty": difficulty,
        "scheduled_at": iso(served.clock.now() + timedelta(hours=hours)),
        **extra,
    }
    answer = await client.post("/api/interview-requests", json=body, headers=interviewee.headers)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


async def accept(
    client: httpx.AsyncClient, interviewer: TestUser, request_id: str
) -> dict[str, Any]:
    answer = await client.post(
        f"/api/interview-requests/{request_id}/accept", headers=interviewer.headers
    )
    assert answer.status_code == 201, answer.text
    return dict(answer.json())
