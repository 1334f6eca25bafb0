"""The interviewee's requests and the interviewers' board in the browser: posting with the
schedule rules (in the user's own time zone), cancel, the board's filter and pages, accept,
and a lost race shown on its row."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.async_api import Browser, expect

from tests.browser.conftest import Served
from tests.browser.pages_support import accept, post_request, signed_in
from tests.browser.support import screenshot
from tests.factories import Factory

PARIS = "Europe/Paris"


def local_input(when: datetime, zone: str = PARIS) -> str:
    """`when` as a datetime-local input shows it in `zone`."""
    return when.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")


async def test_interviewee_posts_a_request_in_their_time_zone_and_cancels_one(
    browser: Browser, served: Served, factory: Factory
) -> None:
    interviewee = await factory.interviewee()
    tab = await signed_in(browser, served, interviewee, "/requests", timezone_id=PARIS)
    page = tab.page
    await expect(page.get_by_role("heading", name="My requests")).to_be_visible()
    # The rules are explained before submit, with the user's time zone.
    await expect(page.get_by_text("at least 5 hours from now")).to_be_visible()
    await expect(page.get_by_text(f"Your time zone: {PARIS}.")).to_be_visible()

    await page.get_by_label("Category").fill("Graphs")
    await page.get_by_label("Difficulty").select_option("HARD")
    await page.get_by_label("Type").select_option("SYSTEM_DESIGN")
    soon = served.clock.now() + timedelta(hours=2)
    await page.get_by_label("Date and time").fill(local_input(soon))
    await page.get_by_label("Duration (minutes)").fill("45")
    await page.get_by_label("Note").fill("Distributed caches, please.")
    await page.get_by_role("button", name="Post request").click()
    # SCHEDULE_TOO_SOON is shown by the time field.
    time_error = page.locator("[data-field=scheduled_at] .field-error")
    await expect(time_error).to_be_visible()
    await expect(page.get_by_label("Date and time")).to_have_attribute("aria-invalid", "true")

    later = (served.clock.now() + timedelta(hours=30)).replace(second=0, microsecond=0)
    await page.get_by_label("Date and time").fill(local_input(later))
    await page.get_by_role("button", name="Post request").click()
    mine = page.get_by_role("region", name="Requests you posted")
    first = mine.get_by_role("listitem").filter(has_text="graphs · Hard · System design")
    await expect(first.get_by_text("Open", exact=True)).to_be_visible()
    await expect(time_error).to_be_hidden()
    listed = await factory.client.get("/api/interview-requests/mine", headers=interviewee.headers)
    (posted,) = listed.json()["items"]
    # Sent with an offset: the instant is the one chosen in Paris.
    assert datetime.fromisoformat(posted["scheduled_at"]) == later.astimezone(UTC)
    assert posted["duration_minutes"] == 45
    assert posted["note"] == "Distributed caches, please."

    await page.get_by_label("Category").fill("arrays")
    await page.get_by_label("Date and time").fill(local_input(later + timedelta(days=1)))
    await page.get_by_role("button", name="Post request").click()
    second = mine.get_by_role("listitem").filter(has_text="arrays · Hard · System design")
    await expect(second).to_be_visible()
    await page.evaluate("window.scrollTo(0, 0)")
    await screenshot(page, "requests")
    await second.get_by_role("button", name="Cancel request").click()
    await expect(second.get_by_text("Cancelled", exact=True)).to_be_visible()
    await expect(second.get_by_role("button", name="Cancel request")).to_have_count(0)
    await expect(first.get_by_text("Open", exact=True)).to_be_visible()
    assert tab.unexpected_errors("status of 422") == []
    await tab.context.close()


async def test_the_board_filters_pages_and_accepts(
    browser: Browser, served: Served, factory: Factory
) -> None:
    # 25 open requests from five interviewees (five each, the most one may hold): two pages.
    starts = []
    for n in range(5):
        interviewee = await factory.interviewee()
        for k in range(5):
            category = "graphs" if (n, k) in {(0, 0), (3, 2), (4, 4)} else "arrays"
            posted = await post_request(
                factory.client, served, interviewee, hours=10 + n * 5 + k, category=category
            )
            starts.append(datetime.fromisoformat(posted["scheduled_at"]))
    interviewer = await factory.interviewer()
    tab = await signed_in(browser, served, interviewer, "/board", timezone_id="UTC")
    page = tab.page
    rows = page.get_by_role("region", name="Requests waiting for an interviewer").locator(
        "li[data-request-id]"
    )
    await expect(rows).to_have_count(20)
    await screenshot(page, "board")
    await page.get_by_role("button", name="Next page").click()
    await expect(rows).to_have_count(5)
    await expect(page.get_by_text("Page 2", exact=True)).to_be_visible()
    await expect(page.get_by_role("button", name="Next page")).to_be_disabled()
    await page.get_by_role("button", name="Previous page").click()
    await expect(rows).to_have_count(20)
    await expect(page.get_by_role("button", name="Previous page")).to_be_disabled()

    await page.get_by_label("Category").fill("Graphs")
    await page.get_by_role("button", name="Apply filters").click()
    await expect(rows).to_have_count(3)
    await expect(page.get_by_role("navigation", name="Pages of open requests")).to_be_hidden()
    await page.get_by_label("Difficulty").select_option("EASY")
    await page.get_by_role("button", name="Apply filters").click()
    await expect(page.get_by_text("No open requests right now.")).to_be_visible()
    await page.get_by_role("button", name="Clear filters").click()
    await expect(rows).to_have_count(20)
    # The date range: the days are the user's own (here UTC), both ends included.
    tomorrow = (served.clock.now() + timedelta(days=1)).date()
    on_tomorrow = sum(1 for start in starts if start.date() == tomorrow)
    await page.get_by_label("From").fill(tomorrow.isoformat())
    await page.get_by_label("To").fill(tomorrow.isoformat())
    await page.get_by_role("button", name="Apply filters").click()
    await expect(page.locator("main").get_by_role("status")).to_contain_text(
        f"Showing {on_tomorrow} open request" if on_tomorrow else "No open requests match"
    )
    await expect(rows).to_have_count(min(on_tomorrow, 20))
    await page.get_by_role("button", name="Clear filters").click()
    await expect(rows).to_have_count(20)

    await rows.first.get_by_role("button", name="Accept").click()
    await expect(page).to_have_url(re.compile(r"#/sessions/"))
    await expect(
        page.get_by_role("heading", level=1, name="graphs · Medium · Coding")
    ).to_be_visible()
    await expect(page.get_by_role("link", name="Join the room")).to_be_visible()
    assert tab.unexpected_errors() == []
    await tab.context.close()


async def test_a_lost_race_is_shown_plainly_on_its_row(
    browser: Browser, served: Served, factory: Factory
) -> None:
    interviewee = await factory.interviewee()
    taken = await post_request(factory.client, served, interviewee, hours=8, category="graphs")
    other = await post_request(factory.client, served, interviewee, hours=9, category="trees")
    interviewer, rival = await factory.interviewer(), await factory.interviewer()
    tab = await signed_in(browser, served, interviewer, "/board")
    page = tab.page
    row = page.locator(f"li[data-request-id='{taken['id']}']")
    await expect(row).to_be_visible()
    # Another interviewer accepts it first, before the board's next refresh.
    await accept(factory.client, rival, taken["id"])
    await row.get_by_role("button", name="Accept").click()
    await expect(row.get_by_role("alert")).to_contain_text("another interviewer accepted")
    await expect(row.get_by_role("button", name="Accept")).to_have_count(0)
    # The board was refreshed: the row stays, with its message, until dismissed.
    await row.get_by_role("button", name="Dismiss").click()
    await expect(row).to_have_count(0)
    await expect(page.locator("li[data-request-id]")).to_have_count(1)
    # Nobody pushes other interviewers' accepts: the board reloads on its timer and whenever
    # the tab becomes visible again.
    await accept(factory.client, rival, other["id"])
    await page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    await expect(page.get_by_text("No open requests right now.")).to_be_visible()
    assert tab.unexpected_errors("status of 409") == []
    await tab.context.close()


async def test_admins_see_the_board_read_only(
    browser: Browser, served: Served, factory: Factory
) -> None:
    interviewee = await factory.interviewee()
    await post_request(factory.client, served, interviewee)
    admin = await factory.admin()
    tab = await signed_in(browser, served, admin, "/board")
    page = tab.page
    await expect(page.locator("li[data-request-id]")).to_have_count(1)
    await expect(page.get_by_text("Admins see the board read-only")).to_be_visible()
    await expect(page.get_by_role("button", name="Accept")).to_have_count(0)
    assert tab.unexpected_errors() == []
    await tab.context.close()
