"""Practice with the AI interviewer in Chromium, through the UI: an interviewee signs up, starts
a practice session from the form, sees the introduction and the question, answers (Enter sends,
Shift+Enter breaks the line) and gets the reply, asks for a hint, writes in the code pad, ends
the session and reads the feedback. No model is configured, so the built-in interviewer
answers and measures. A second practice session while one is live is refused with a link to it.
No console error on the way (the CSP included)."""

from __future__ import annotations

import re
from typing import Any

from playwright.async_api import Browser, Page, expect

from tests.browser.conftest import Served
from tests.browser.pages_support import signed_in
from tests.browser.support import open_tab, screenshot
from tests.browser.test_dashboards import DESKTOP
from tests.browser.test_journey import sign_up
from tests.factories import Factory

# No starter question is of this category: the bank holds only what each test adds.
CATEGORY = "practice-browser"
QUESTION = {
    "title": "Pair summing to a target",
    "prompt": "Given a list of integers and a target, return the indices of two that add up to it.",
    "category": CATEGORY,
    "difficulty": "MEDIUM",
    "type": "CODING",
    "hints": ["Remember the numbers you have seen.", "A dictionary answers in O(1)."],
    "solution": "One pass with a dictionary from value to index.",
}


async def bank_question(factory: Factory) -> dict[str, Any]:
    """The test's one bank question, added by an admin through the API."""
    admin = await factory.admin()
    answer = await factory.client.post("/api/questions", json=QUESTION, headers=admin.headers)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


async def start_from_the_form(page: Page, *, minutes: int = 30) -> None:
    await page.get_by_label("Category").fill(CATEGORY)
    await page.get_by_label("Difficulty").select_option("MEDIUM")
    await page.get_by_label("Type").select_option("CODING")
    await page.get_by_label("Duration (minutes)").fill(str(minutes))
    await page.get_by_role("button", name="Start practising").click()


async def test_a_practice_session_through_the_ui_from_the_form_to_the_feedback(
    browser: Browser, served: Served, factory: Factory
) -> None:
    await bank_question(factory)
    tab = await open_tab(browser, served.url, viewport=DESKTOP)
    page = tab.page
    await sign_up(page, "Ada Lovelace", "ada@example.com", "Interviewee")
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Practice").click()
    await expect(page.get_by_role("heading", level=1, name="Practice")).to_be_visible()
    await expect(page.get_by_text("No practice sessions yet.")).to_be_visible()
    await start_from_the_form(page)

    # The session page: the question, the built-in interviewer, the introduction and the question.
    title = f"Practice: {QUESTION['title']}"
    await expect(page.get_by_role("heading", level=1, name=title)).to_be_visible()
    await expect(page.locator(".practice-engine")).to_have_text("Interviewer: Built-in interviewer")
    await expect(page.locator(".practice-question .prompt")).to_have_text(QUESTION["prompt"])
    log = page.get_by_role("log", name="Conversation")
    await expect(log.locator("[data-kind=intro]")).to_contain_text("Hi Ada Lovelace")
    await expect(log.locator("[data-kind=question]")).to_contain_text(QUESTION["prompt"])
    await expect(page.locator(".timers .planned-end [role=timer]")).to_have_text(
        re.compile(r"^(29:[0-5]\d|30:00) left$")
    )
    # The code pad beside the chat, editable once the page has joined the session.
    pad = page.locator(".room-code")
    await expect(pad).to_have_attribute("data-editable", "true")

    # An answer over two lines: Shift+Enter breaks the line, Enter sends.
    answer = page.get_by_label("Your answer")
    await answer.fill("I would walk the list once")
    await answer.press("Shift+Enter")
    await answer.press_sequentially("and keep what I have seen.")
    await answer.press("Enter")
    mine = log.locator(".bubble-candidate").first
    await expect(mine.locator(".bubble-text")).to_have_text(
        "I would walk the list once\nand keep what I have seen."
    )
    await expect(answer).to_have_value("")
    await expect(log.locator(".bubble-interviewer[data-kind=reply]")).to_have_count(1)

    # A hint, counted.
    await page.get_by_role("button", name="Hint", exact=True).click()
    await expect(log.locator("[data-kind=hint]")).to_contain_text(
        "Hint 1 of 2: Remember the numbers you have seen."
    )
    await expect(page.locator(".practice-hints")).to_have_text("Hints used: 1 of 2")

    # The code pad: the interviewee, who conducts the session, chooses the language and writes.
    await page.get_by_label("Language").select_option("python")
    await expect(pad).to_have_attribute("data-language", "python")
    await page.get_by_role("textbox", name="Code", exact=True).click()
    await page.keyboard.type("def pair(nums, target):\nseen = {}", delay=5)
    await expect(pad).to_have_attribute("data-saved", "true")
    await expect(pad.locator(".tok-keyword").first).to_have_text("def")
    await page.evaluate("window.scrollTo(0, 0)")
    await screenshot(page, "practice")

    # The end: the closing, then the measured feedback.
    await page.get_by_role("button", name="End the session", exact=True).click()
    await page.get_by_role("button", name="End the session now").click()
    await expect(log.locator("[data-kind=closing]")).to_contain_text("The session has ended.")
    feedback = page.get_by_role("region", name="Feedback")
    await expect(feedback.locator(".feedback-source")).to_have_text(
        "Measured by the built-in interviewer"
    )
    for rating in ("Communication", "Problem solving", "Technical", "Overall"):
        value = feedback.locator(f"dt:text-is('{rating}') + dd")
        await expect(value).to_have_text(re.compile(r"^[1-5] / 5$"))
    await expect(feedback.locator(".feedback-basis")).not_to_be_empty()
    await expect(page.get_by_label("Your answer")).to_be_hidden()
    await expect(pad).to_have_attribute("data-editable", "false")
    await expect(page.locator(".practice-head .badge")).to_have_text("Completed")
    assert tab.unexpected_errors() == []
    await tab.context.close()


async def test_a_second_practice_session_while_one_is_live_is_refused_with_a_link_to_it(
    browser: Browser, served: Served, factory: Factory
) -> None:
    await bank_question(factory)
    interviewee = await factory.interviewee()
    body = {"category": CATEGORY, "difficulty": "MEDIUM", "type": "CODING"}
    started = await factory.client.post(
        "/api/practice-sessions", json=body, headers=interviewee.headers
    )
    assert started.status_code == 201, started.text
    session_id = started.json()["session"]["id"]

    tab = await signed_in(browser, served, interviewee, "/practice")
    page = tab.page
    past = page.get_by_role("region", name="Your practice sessions")
    await expect(past.locator("li[data-session-id]")).to_have_count(1)
    await expect(past.locator("li[data-session-id]")).to_contain_text("Live now")
    await start_from_the_form(page)
    alert = page.locator("form .form-alert")
    await expect(alert).to_have_attribute("data-code", "PRACTICE_IN_PROGRESS")
    await expect(alert).to_contain_text("You already have a practice session going")
    link = alert.get_by_role("link", name="Go to your practice session")
    await expect(link).to_have_attribute("href", f"#/practice/{session_id}")
    await link.click()
    await expect(
        page.get_by_role("heading", level=1, name=f"Practice: {QUESTION['title']}")
    ).to_be_visible()
    # The refused start is the 409 the browser logs; nothing else.
    assert tab.unexpected_errors("status of 409") == []
    await tab.context.close()
