"""The code pad in Chromium, two browser contexts for the session's two participants: both type at
once (at the same spot and at different spots) and both editors end with the same text; the
peer's cursor is shown with their name; the interviewer's language changes the highlighting for
both; a reload keeps the code and the peer still sees later edits; after the end, the session
page shows the final code read-only. No console error on the way (the CSP included)."""

from __future__ import annotations

import asyncio
import time

import pytest
from playwright.async_api import Browser, Locator, Page, expect

from peerview.config import Settings
from tests.browser.conftest import Served
from tests.browser.room_support import room_settings
from tests.browser.support import Tab, screenshot
from tests.browser.test_room import two_in_the_room
from tests.factories import Factory

# What each participant's editor holds: the Yjs text and CodeMirror's document (one truth).
TEXTS = """() => {
  const pad = window.peerview && window.peerview.room && window.peerview.room.codepad;
  if (!pad || !pad.synced) return null;
  return [pad.pad.text.toString(), pad.pad.view.state.doc.toString()];
}"""


@pytest.fixture
def settings(database_url: str) -> Settings:
    return room_settings(database_url)


async def text_of(page: Page) -> str | None:
    texts = await page.evaluate(TEXTS)
    if texts is None:
        return None
    yjs, editor = texts
    assert yjs == editor
    return str(yjs)


async def converged(tabs: tuple[Tab, Tab], *parts: str, seconds: float = 8.0) -> str:
    """The one text both editors show once they agree and it holds every part."""
    deadline = time.monotonic() + seconds
    texts: list[str | None] = []
    while time.monotonic() < deadline:
        texts = [await text_of(tab.page) for tab in tabs]
        if texts[0] is not None and texts[0] == texts[1] and all(p in texts[0] for p in parts):
            return texts[0]
        await asyncio.sleep(0.1)
    raise AssertionError(f"the editors did not converge on {parts}: {texts}")


def editor(page: Page) -> Locator:
    return page.get_by_role("textbox", name="Code", exact=True)


async def saved(page: Page) -> None:
    await expect(page.locator(".room-code")).to_have_attribute("data-saved", "true")


async def test_both_write_at_once_the_language_follows_and_a_reload_keeps_the_code(
    browser: Browser, served: Served, factory: Factory
) -> None:
    _, _, row, interviewer, interviewee = await two_in_the_room(browser, served, factory)
    tabs = (interviewer, interviewee)
    for tab in tabs:
        await expect(tab.page.locator(".room-code")).to_have_attribute("data-editable", "true")
        await expect(editor(tab.page)).to_have_attribute("contenteditable", "true")
    # The interviewee has no language select: it says the language.
    await expect(interviewee.page.locator(".room-code .codepad-language")).to_have_text(
        "Language: Plain text"
    )
    assert await interviewee.page.get_by_label("Language").count() == 0

    # Both type at once at the same spot (the empty document's start).
    await asyncio.gather(editor(interviewer.page).click(), editor(interviewee.page).click())
    await asyncio.gather(
        interviewer.page.keyboard.type("alpha = 1", delay=15),
        interviewee.page.keyboard.type("beta = 2", delay=15),
    )
    await converged(tabs, "alpha = 1", "beta = 2")

    # …then at different spots: the interviewer at the end, the interviewee at the start.
    await interviewer.page.keyboard.press("Control+End")
    await interviewee.page.keyboard.press("Control+Home")
    await asyncio.gather(
        interviewer.page.keyboard.type("\nfor i in range(3): pass", delay=15),
        interviewee.page.keyboard.type("# top\n", delay=15),
    )
    text = await converged(tabs, "for i in range(3): pass", "# top\n")
    assert text.startswith("# top\n")
    assert text.endswith("for i in range(3): pass")

    # Each sees the other's cursor, with their name.
    await expect(interviewee.page.locator(".cm-ySelectionInfo")).to_have_text("Grace Hopper")
    await expect(interviewer.page.locator(".cm-ySelectionInfo")).to_have_text("Alan Turing")

    # Plain text has no keywords; the interviewer picks Python and both editors highlight it.
    assert await interviewee.page.locator(".room-code .tok-keyword").count() == 0
    await interviewer.page.get_by_label("Language").select_option("python")
    for tab in tabs:
        await expect(tab.page.locator(".room-code")).to_have_attribute("data-language", "python")
        await expect(tab.page.locator(".room-code .tok-keyword").first).to_have_text("for")
    await expect(interviewee.page.locator(".room-code .codepad-language")).to_have_text(
        "Language: Python"
    )
    await screenshot(interviewer.page, "room-code")

    # A reload keeps the code (every edit acknowledged first), and the edits go on both ways.
    await asyncio.gather(saved(interviewer.page), saved(interviewee.page))
    before = await text_of(interviewer.page)
    await interviewee.page.reload()
    await expect(interviewee.page.locator(".room-code")).to_have_attribute("data-editable", "true")
    assert await text_of(interviewee.page) == before
    await expect(interviewee.page.locator(".room-code")).to_have_attribute(
        "data-language", "python"
    )
    await editor(interviewer.page).click()
    await interviewer.page.keyboard.press("Control+End")
    await interviewer.page.keyboard.type("\n# later", delay=5)
    await editor(interviewee.page).click()
    await interviewee.page.keyboard.press("Control+Home")
    await interviewee.page.keyboard.type("# again\n", delay=5)
    final = await converged(tabs, "# later", "# again\n")
    await asyncio.gather(saved(interviewer.page), saved(interviewee.page))

    # The end: the room closes, and the session page shows the final code, read-only.
    await interviewer.page.get_by_role("button", name="End the session", exact=True).click()
    await interviewer.page.get_by_role("button", name="End the session now").click()
    for tab in tabs:
        await expect(tab.page.get_by_role("heading", name="The session has ended")).to_be_visible()
    page = interviewee.page
    await page.goto(f"/#/sessions/{row['id']}")
    code = page.locator(".session-code")
    await expect(code.get_by_role("heading", name="Code")).to_be_visible()
    await expect(code).to_contain_text("Language: Python")
    final_view = code.get_by_role("textbox", name="Final code")
    await expect(final_view).to_have_attribute("contenteditable", "false")
    lines = await code.locator(".cm-line").all_inner_texts()
    assert "\n".join(lines) == final
    await expect(code.locator(".tok-keyword").first).to_have_text("for")
    for tab in tabs:
        assert tab.unexpected_errors() == []
        await tab.context.close()
