"""The whole journey in two browsers, through the UI only: an interviewee and an interviewer sign
up, the interviewee posts a request, the interviewer accepts it on the board and starts the
session, both join the room and the call connects (each side's inbound video grows), a question
is revealed (its hints shown to the interviewer only), the interviewer ends the session, both
write feedback, and the feedback appears once both have written."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Browser, Page, expect

from peerview.config import Settings
from tests.browser.conftest import Served
from tests.browser.room_support import room_settings, seed_bank, video_bytes_grow, wait_connected
from tests.browser.support import open_tab, report, screenshot

ZONE = "Europe/Paris"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return room_settings(database_url)


async def sign_up(page: Page, name: str, email: str, role: str) -> None:
    await page.goto("/#/signup")
    await page.get_by_label("Name").fill(name)
    await page.get_by_label("E-mail").fill(email)
    await page.get_by_label("Password").fill("correct horse battery")
    await page.get_by_label(role, exact=True).check()
    await page.get_by_role("button", name="Sign up").click()
    await expect(page.get_by_role("link", name=name)).to_be_visible()


async def write_feedback(page: Page, ratings: dict[str, int], comments: str) -> None:
    for group, value in ratings.items():
        await page.get_by_role("group", name=group).get_by_label(str(value), exact=True).check()
    await page.get_by_label("Comments").fill(comments)
    await page.get_by_role("button", name="Submit feedback").click()


async def test_the_whole_journey_in_two_browsers_through_the_ui(
    browser: Browser, served: Served
) -> None:
    # The starter bank, as the first run loads it.
    await seed_bank(served.app)
    alan = await open_tab(browser, served.url, timezone_id=ZONE)
    grace = await open_tab(browser, served.url, timezone_id=ZONE)
    await sign_up(alan.page, "Alan Turing", "alan@example.com", "Interviewee")
    await sign_up(grace.page, "Grace Hopper", "grace@example.com", "Interviewer")

    # The interviewee posts a request for six hours from now, in their own time zone.
    page = alan.page
    await expect(page.get_by_role("heading", name="My requests")).to_be_visible()
    when = datetime.now(ZoneInfo(ZONE)) + timedelta(hours=6)
    await page.get_by_label("Category").fill("arrays")
    await page.get_by_label("Difficulty").select_option("EASY")
    await page.get_by_label("Type").select_option("CODING")
    await page.get_by_label("Date and time").fill(when.strftime("%Y-%m-%dT%H:%M"))
    await page.get_by_label("Duration (minutes)").fill("30")
    await page.get_by_label("Note").fill("Hash maps, please.")
    await page.get_by_role("button", name="Post request").click()
    mine = page.get_by_role("region", name="Requests you posted")
    await expect(mine.get_by_text("Open", exact=True)).to_be_visible()

    # The interviewer finds it on the board and accepts it.
    page = grace.page
    await page.reload()
    row = page.locator("li[data-request-id]").filter(has_text="Alan Turing")
    await row.get_by_role("button", name="Accept").click()
    await expect(page).to_have_url(re.compile(r"#/sessions/"))
    session_id = page.url.rsplit("/", 1)[-1]
    await page.get_by_role("link", name="Join the room").click()
    await expect(page.get_by_role("heading", name="Interview with Alan Turing")).to_be_visible()
    await page.get_by_role("button", name="Start the session").click()
    await expect(page.get_by_text("Planned end:")).to_be_visible()

    # The interviewee sees the session live and joins the room.
    page = alan.page
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Sessions").click()
    await page.get_by_role("link", name="Join the room").click()
    await expect(page.get_by_role("heading", name="Interview with Grace Hopper")).to_be_visible()
    await expect(page.get_by_text("Grace Hopper is here")).to_be_visible()
    await expect(grace.page.get_by_text("Alan Turing is here")).to_be_visible()

    # The call connects: both connections `connected`, both inbound videos growing.
    await asyncio.gather(wait_connected(grace.page), wait_connected(alan.page))
    grown = await asyncio.gather(video_bytes_grow(grace.page), video_bytes_grow(alan.page))
    for who, (before, after) in zip(("interviewer", "interviewee"), grown, strict=True):
        report(f"journey, bytesReceived {who}: {before} → {after}")
        assert after > before > 0

    # A question is revealed: the interviewer takes the suggestion and sees its hints; the
    # interviewee sees its prompt, never the hints.
    await grace.page.get_by_role("button", name="Suggest a question").click()
    question = grace.page.locator(".room-question")
    await expect(question).to_have_count(1)
    hint = question.locator(".hint-text").first
    await expect(hint).to_be_visible()
    hint_text = await hint.inner_text()
    prompt = await question.locator(".prompt").inner_text()
    revealed = alan.page.locator(".room-question")
    await expect(revealed).to_have_count(1, timeout=5_000)
    await expect(revealed.locator(".prompt")).to_have_text(prompt)
    assert hint_text not in await alan.page.locator("body").inner_text()
    await grace.page.evaluate("window.scrollTo(0, 0)")
    await screenshot(grace.page, "room")

    # The interviewer ends it; the room closes for both.
    await grace.page.get_by_role("button", name="End the session", exact=True).click()
    await grace.page.get_by_role("dialog").get_by_role("button", name="End the session now").click()
    for tab in (grace, alan):
        await expect(tab.page.get_by_role("heading", name="The session has ended")).to_be_visible(
            timeout=2_000
        )
        await tab.page.get_by_role(
            "link", name="Go to the session page to write your feedback"
        ).click()
        await expect(tab.page).to_have_url(re.compile(f"#/sessions/{session_id}$"))

    # Both write feedback: sealed until both have written, then shown to both.
    await write_feedback(
        alan.page,
        {"Communication": 5, "Problem solving": 4, "Technical": 4, "Overall": 5},
        "Clear questions and good hints.",
    )
    await expect(alan.page.get_by_text("Grace Hopper has not yet")).to_be_visible()
    await expect(grace.page.get_by_text("Alan Turing has written their feedback")).to_be_visible()
    await expect(grace.page.get_by_text("Clear questions and good hints.")).to_have_count(0)
    await write_feedback(
        grace.page,
        {"Communication": 4, "Problem solving": 5, "Technical": 4, "Overall": 4},
        "Found the single pass quickly.",
    )
    for tab in (grace, alan):
        await expect(tab.page.get_by_text("You have both written your feedback.")).to_be_visible()
        await expect(tab.page.get_by_text("Clear questions and good hints.")).to_be_visible()
        await expect(tab.page.get_by_text("Found the single pass quickly.")).to_be_visible()
        assert tab.unexpected_errors() == []
        await tab.context.close()
