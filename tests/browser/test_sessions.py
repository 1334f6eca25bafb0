"""Sessions in the browser: the list with its live countdown, the session page's calendar
file and cancel, the double-blind feedback form, and the bell fed live over Socket.IO."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from playwright.async_api import Browser, expect

from tests.browser.conftest import Served
from tests.browser.pages_support import accept, post_request, signed_in
from tests.browser.support import screenshot
from tests.factories import Factory


async def test_sessions_list_counts_down_and_the_session_page_gives_the_calendar_file(
    browser: Browser, served: Served, factory: Factory
) -> None:
    interviewee, interviewer = await factory.interviewee(), await factory.interviewer()
    request = await post_request(factory.client, served, interviewee, hours=6, category="graphs")
    session = await accept(factory.client, interviewer, request["id"])
    other = await post_request(factory.client, served, interviewee, hours=30, category="trees")
    later = await accept(factory.client, interviewer, other["id"])

    tab = await signed_in(browser, served, interviewee, "/sessions", accept_downloads=True)
    page = tab.page
    upcoming = page.get_by_role("region", name="Upcoming")
    item = upcoming.get_by_role("listitem").filter(has_text="graphs · Medium · Coding")
    await expect(item.get_by_text(f"with {interviewer.name} (interviewer)")).to_be_visible()
    countdown = item.locator("[data-countdown]")
    await expect(countdown).to_have_text(re.compile(r"^Starts in 5:59:\d\d$"))
    first = await countdown.text_content()
    await expect(countdown).not_to_have_text(first or "")  # it ticks
    await screenshot(page, "sessions-upcoming")
    # The list follows the session pushes: the interviewer cancels the other one.
    answer = await factory.client.post(
        f"/api/interview-sessions/{later['id']}/cancel", headers=interviewer.headers
    )
    assert answer.status_code == 200, answer.text
    past = page.get_by_role("region", name="Past")
    await expect(past.get_by_role("listitem").filter(has_text="trees")).to_be_visible()
    await expect(upcoming.locator("li[data-session-id]")).to_have_count(1)

    await item.get_by_role("link", name="Details").click()
    await expect(
        page.get_by_role("heading", level=1, name="graphs · Medium · Coding")
    ).to_be_visible()
    async with page.expect_download() as info:
        await page.get_by_role("button", name="Download calendar file (.ics)").click()
    download = await info.value
    assert download.suggested_filename == f"peerview-{session['id']}.ics"
    text = await asyncio.to_thread(Path(await download.path()).read_text)
    assert text.startswith("BEGIN:VCALENDAR")

    # Cancel asks first; "Keep it" keeps it.
    await page.get_by_role("button", name="Cancel session").click()
    await page.get_by_role("button", name="Keep it").click()
    await expect(page.get_by_role("button", name="Yes, cancel the session")).to_have_count(0)
    await page.get_by_role("button", name="Cancel session").click()
    await page.get_by_label("Reason (optional)").fill("Something came up.")
    await page.get_by_role("button", name="Yes, cancel the session").click()
    await expect(page.get_by_text("Cancelled by the interviewee").first).to_be_visible()
    await expect(page.get_by_role("link", name="Join the room")).to_have_count(0)
    await page.get_by_role("link", name="← All sessions").click()
    await expect(past.get_by_role("listitem").filter(has_text="graphs")).to_be_visible()
    assert tab.unexpected_errors() == []
    await tab.context.close()


async def test_the_feedback_form_is_double_blind(
    browser: Browser, served: Served, factory: Factory
) -> None:
    interviewee, interviewer = await factory.interviewee(), await factory.interviewer()
    request = await post_request(factory.client, served, interviewee, hours=6)
    session = await accept(factory.client, interviewer, request["id"])
    served.clock.advance(hours=6)
    base = f"/api/interview-sessions/{session['id']}"
    for action in ("start", "end"):
        answer = await factory.client.post(f"{base}/{action}", headers=interviewer.headers)
        assert answer.status_code == 200, answer.text
    written = await factory.client.post(
        "/api/feedback",
        headers=interviewer.headers,
        json={
            "session_id": session["id"],
            "ratings": {"communication": 4, "problem_solving": 3, "technical": 5, "overall": 4},
            "comments": "Clear thinking out loud.",
        },
    )
    assert written.status_code == 201, written.text

    tab = await signed_in(browser, served, interviewee, f"/sessions/{session['id']}")
    page = tab.page
    await expect(
        page.get_by_text(f"{interviewer.name} has written their feedback about you")
    ).to_be_visible()
    await expect(page.get_by_text("Clear thinking out loud.")).to_have_count(0)
    # A missing rating is the API's 422, shown by its group.
    for name, value in (("Communication", "5"), ("Problem solving", "4"), ("Technical", "4")):
        await page.get_by_role("group", name=name).get_by_label(value).check()
    await page.get_by_label("Comments").fill("Kind and precise.")
    await page.get_by_role("button", name="Submit feedback").click()
    await expect(page.locator("[data-field='ratings.overall'] .field-error")).to_be_visible()
    await page.get_by_role("group", name="Overall").get_by_label("5").check()
    await screenshot(page, "feedback-form")
    await page.get_by_role("button", name="Submit feedback").click()
    await expect(page.get_by_text("You have both written your feedback.")).to_be_visible()
    await expect(page.get_by_text("Clear thinking out loud.")).to_be_visible()
    await expect(page.get_by_text("Kind and precise.")).to_be_visible()
    await expect(page.get_by_role("button", name="Submit feedback")).to_have_count(0)

    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Feedback").click()
    await expect(page.get_by_role("heading", name="Feedback received")).to_be_visible()
    await expect(page.get_by_text("Clear thinking out loud.")).to_be_visible()
    assert tab.unexpected_errors("status of 422") == []
    await tab.context.close()


async def test_the_bell_shows_an_accept_live_and_mark_all_read_clears_it(
    browser: Browser, served: Served, factory: Factory
) -> None:
    interviewee, interviewer = await factory.interviewee(), await factory.interviewer()
    request = await post_request(factory.client, served, interviewee, hours=8, category="heaps")
    tab = await signed_in(browser, served, interviewee, "/requests")
    page = tab.page
    row = page.get_by_role("listitem").filter(has_text="heaps · Medium · Coding")
    await expect(row.get_by_text("Open", exact=True)).to_be_visible()
    bell = page.get_by_role("button", name="Notifications, none unread")
    await expect(bell).to_be_visible()
    # Wait for the socket before the accept, so the push has somewhere to go.
    await page.wait_for_function("() => document.documentElement.dataset.ready === 'true'")
    await page.wait_for_timeout(300)

    await accept(factory.client, interviewer, request["id"])
    await expect(page.get_by_role("button", name="Notifications, 1 unread")).to_be_visible()
    # "My requests" follows live: accepted, with the way to its session.
    await expect(row.get_by_text("Accepted", exact=True)).to_be_visible()
    await expect(row.get_by_role("link", name="Open the session")).to_be_visible()

    await page.goto("/#/notifications")
    await expect(page.get_by_role("heading", name="Notifications")).to_be_visible()
    note = page.locator("li[data-notification-id]")
    await expect(note).to_have_count(1)
    await expect(note.get_by_text("Unread")).to_be_visible()
    await screenshot(page, "notifications")
    await page.get_by_role("button", name="Mark all read").click()
    await expect(page.get_by_role("button", name="Notifications, none unread")).to_be_visible()
    await expect(note.get_by_text("Unread")).to_have_count(0)
    assert tab.unexpected_errors() == []
    await tab.context.close()
