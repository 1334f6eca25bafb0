"""The interview room in Chromium, two browser contexts for its two participants: the call,
its reconnection after a reload, the room closing for both when the session ends (by hand or
by the sweeper at the hard end), and questions whose hints the interviewee never sees."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from playwright.async_api import Browser, expect

from peerview.config import Settings
from peerview.jobs.sweeper import sweep_once
from peerview.models.enums import Role
from tests.browser.conftest import Served
from tests.browser.room_support import (
    live_session,
    record_received,
    room_settings,
    seed_bank,
    signed_in_tab,
    video_bytes_grow,
    wait_connected,
)
from tests.browser.support import Tab, report
from tests.factories import Factory, TestUser

CLOSE_WITHIN_MS = 2_000


@pytest.fixture
def settings(database_url: str) -> Settings:
    return room_settings(database_url)


async def two_in_the_room(
    browser: Browser,
    served: Served,
    factory: Factory,
    *,
    interviewee_receives: list[str] | None = None,
    **session: Any,
) -> tuple[TestUser, TestUser, dict[str, Any], Tab, Tab]:
    """Both participants in the room; with `interviewee_receives`, everything the server sends
    the interviewee's page from its first request on is kept there."""
    grace = await factory.user(Role.INTERVIEWER, name="Grace Hopper")
    alan = await factory.user(Role.INTERVIEWEE, name="Alan Turing")
    row = await live_session(served.url, served.app, grace, alan, **session)
    interviewer = await signed_in_tab(browser, served.url, grace)
    interviewee = await signed_in_tab(browser, served.url, alan)
    if interviewee_receives is not None:
        record_received(interviewee.page, interviewee_receives)
    await asyncio.gather(
        *(tab.page.goto(f"/#/room/{row['id']}") for tab in (interviewer, interviewee))
    )
    await expect(interviewer.page.get_by_text("Alan Turing is here")).to_be_visible()
    await expect(interviewee.page.get_by_text("Grace Hopper is here")).to_be_visible()
    return grace, alan, row, interviewer, interviewee


async def closes_within_2s(tab: Tab, start: float) -> None:
    ended = tab.page.get_by_role("heading", name="The session has ended")
    await expect(ended).to_be_visible(timeout=CLOSE_WITHIN_MS)
    assert time.monotonic() - start < CLOSE_WITHIN_MS / 1000 + 0.5
    # The call is over: no connection, the camera released.
    assert await tab.page.evaluate("() => window.peerview === undefined")
    assert await tab.page.evaluate(
        "() => [...document.querySelectorAll('video')].every((v) => !v.srcObject)"
    )


async def test_the_interviewer_starts_extends_and_ends_it_and_the_room_closes_for_both_within_2s(
    browser: Browser, served: Served, factory: Factory
) -> None:
    _, _, row, interviewer, interviewee = await two_in_the_room(
        browser, served, factory, start=False
    )
    page = interviewer.page
    await expect(
        interviewee.page.get_by_text("Grace Hopper will start the session")
    ).to_be_visible()
    await page.get_by_role("button", name="Start the session").click()
    for tab in (interviewer, interviewee):
        await expect(tab.page.get_by_text("Planned end:")).to_be_visible()
        await expect(tab.page.get_by_text("Hard end:")).to_be_visible()
        await expect(tab.page.locator(".room-session .badge")).to_have_text("Live")
    await page.get_by_label("Extend by").select_option("15")
    await page.get_by_role("button", name="Extend", exact=True).click()
    await expect(page.get_by_text("45 of 60 minutes left to add")).to_be_visible()
    # The interviewee's countdown follows the extension (the `session` push).
    ends = await page.locator(".planned-end time").get_attribute("datetime")
    await expect(interviewee.page.locator(".planned-end time")).to_have_attribute(
        "datetime", ends or "-"
    )
    # Camera and microphone toggles.
    mic = interviewee.page.get_by_role("button", name="Microphone")
    await expect(mic).to_have_attribute("aria-pressed", "true")
    await mic.click()
    await expect(mic).to_have_attribute("aria-pressed", "false")
    assert not await interviewee.page.evaluate(
        "() => window.peerview.room.call.localStream.getAudioTracks()[0].enabled"
    )
    # Ending asks first.
    await page.get_by_role("button", name="End the session", exact=True).click()
    dialog = page.get_by_role("dialog", name="End the session?")
    await dialog.get_by_role("button", name="Keep going").click()
    await expect(dialog).to_be_hidden()
    await page.get_by_role("button", name="End the session", exact=True).click()
    start = time.monotonic()
    await dialog.get_by_role("button", name="End the session now").click()
    await asyncio.gather(closes_within_2s(interviewer, start), closes_within_2s(interviewee, start))
    link = interviewee.page.get_by_role(
        "link", name="Go to the session page to write your feedback"
    )
    await expect(link).to_have_attribute("href", f"#/sessions/{row['id']}")
    for tab in (interviewer, interviewee):
        assert tab.unexpected_errors() == []
        await tab.context.close()


async def test_the_room_closes_for_the_interviewee_when_the_sweeper_ends_it_at_the_hard_end(
    browser: Browser, served: Served, factory: Factory
) -> None:
    _, _, row, interviewer, interviewee = await two_in_the_room(browser, served, factory)
    await interviewer.context.close()
    await expect(interviewee.page.get_by_text("Waiting for Grace Hopper to join")).to_be_visible()
    # Past the hard end on the server's clock, then the one sweep that writes it down.
    hard_end = row["hard_end_at"].replace("Z", "+00:00")
    served.clock.advance(minutes=row["duration_minutes"] + 31)
    assert served.clock.now().isoformat() > hard_end
    services = served.app.services
    start = time.monotonic()
    result = await sweep_once(
        database=services.database,
        clock=services.clock,
        settings=services.settings,
        events=services.events,
        notifier=services.notifier,
    )
    assert [moved.id for moved in result.auto_timed_out] == [row["id"]]
    await closes_within_2s(interviewee, start)
    await expect(interviewee.page.get_by_text("ended at the hard end")).to_be_visible()
    assert interviewee.unexpected_errors() == []
    await interviewee.context.close()


async def test_a_reload_in_the_room_brings_the_call_back(
    browser: Browser, served: Served, factory: Factory
) -> None:
    _, _, _, interviewer, interviewee = await two_in_the_room(browser, served, factory)
    await asyncio.gather(wait_connected(interviewer.page), wait_connected(interviewee.page))
    for reloaded in (interviewee, interviewer):
        await reloaded.page.reload()
        await asyncio.gather(wait_connected(interviewer.page), wait_connected(interviewee.page))
        grown = await asyncio.gather(
            video_bytes_grow(interviewer.page, 1), video_bytes_grow(interviewee.page, 1)
        )
        for who, (before, after) in zip(("interviewer", "interviewee"), grown, strict=True):
            report(f"room, after a reload: bytesReceived {who}: {before} → {after}")
            assert after > before > 0
    for tab in (interviewer, interviewee):
        assert tab.unexpected_errors() == []
        await tab.context.close()


async def test_the_interviewee_sees_each_prompt_as_it_is_revealed_never_hints_or_solutions(
    browser: Browser, served: Served, factory: Factory
) -> None:
    await seed_bank(served.app)
    seen: list[str] = []
    _, _, _, interviewer, interviewee = await two_in_the_room(
        browser, served, factory, interviewee_receives=seen
    )
    page = interviewer.page
    # The interviewer searches the bank and adds one: the interviewee sees its prompt at once.
    await page.get_by_label("Search the bank").fill("pair")
    await page.get_by_role("button", name="Search", exact=True).click()
    await page.get_by_role("button", name="Add “Pair with a target sum”").click()
    question = interviewer.page.locator(".room-question").first
    hint = question.locator(".hint-text").first
    await expect(hint).to_be_visible()
    hint_text = await hint.inner_text()
    solution = await question.locator(".solution p").text_content() or ""
    assert len(solution) > 40
    other = interviewee.page.locator(".room-question")
    await expect(other).to_have_count(1, timeout=5_000)
    await expect(other.first).to_contain_text("Pair with a target sum")
    # Then the suggestion: the other question of the session's kind.
    await page.get_by_role("button", name="Suggest a question").click()
    mine = interviewer.page.locator(".room-question")
    await expect(mine).to_have_count(2)
    await expect(other).to_have_count(2, timeout=5_000)
    await expect(other.nth(1)).to_contain_text(await mine.nth(1).locator(".prompt").inner_text())
    text = await interviewee.page.locator("main").inner_text()
    assert hint_text not in text
    assert solution[:40] not in text
    assert "Hints" not in text
    assert "Solution" not in text
    # The prompts reached the interviewee's page as `session` pushes ("questions"), and
    # nothing the server sent it, answers or pushes, held a hint or a solution.
    pushes = [body for body in seen if '42["session"' in body]
    assert any(
        '"event":"questions"' in body and "Pair with a target sum" in body for body in pushes
    )
    assert not any(hint_text in body or '"hints"' in body for body in seen)
    assert not any(solution[:40] in body or '"solution"' in body for body in seen)
    for tab in (interviewer, interviewee):
        assert tab.unexpected_errors() == []
        await tab.context.close()
