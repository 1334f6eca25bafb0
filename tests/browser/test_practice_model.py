"""Practice with a language model in Chromium: the fake OpenAI-compatible server of
tests/practice/fake_llm.py answers, slowly enough that the streamed draft is seen growing in
the chat before the stored reply replaces it; then the model fails and the page shows the
hand-over and the built-in interviewer's answer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.async_api import Browser, expect

from peerview.config import Settings
from peerview.practice import builtin
from tests.browser.conftest import Served
from tests.browser.pages_support import signed_in
from tests.browser.test_practice import CATEGORY, bank_question
from tests.factories import Factory
from tests.practice.fake_llm import Failure, FakeLLM, Reply
from tests.support.environment import test_settings

STREAMED = "Good. Now, what happens when the list is empty, and what does your loop return?"


@pytest.fixture
def fake_llm() -> Iterator[FakeLLM]:
    with FakeLLM() as server:
        yield server


@pytest.fixture
def settings(database_url: str, fake_llm: FakeLLM) -> Settings:
    return test_settings(
        database_url,
        cors_origins="",
        llm_base_url=fake_llm.url,
        llm_model="fake-model",
        llm_max_retries=0,
    )


async def test_a_streamed_reply_grows_in_a_draft_then_a_failure_hands_over(
    browser: Browser, served: Served, factory: Factory, fake_llm: FakeLLM
) -> None:
    fake_llm.script(Reply(STREAMED, chunks=8, chunk_delay_seconds=0.15), Failure(500))
    await bank_question(factory)
    interviewee = await factory.interviewee()
    body = {"category": CATEGORY, "difficulty": "MEDIUM", "type": "CODING"}
    started = await factory.client.post(
        "/api/practice-sessions", json=body, headers=interviewee.headers
    )
    assert started.status_code == 201, started.text
    session_id = started.json()["session"]["id"]
    tab = await signed_in(browser, served, interviewee, f"/practice/{session_id}")
    page = tab.page
    await expect(page.locator(".practice-engine")).to_contain_text("fake-model")
    log = page.get_by_role("log", name="Conversation")
    answer = page.get_by_label("Your answer")
    await answer.fill("I would keep a set of what I have seen.")
    await answer.press("Enter")
    # The draft shows the first pieces before the reply is complete ...
    draft = log.locator("li.bubble-draft")
    await expect(draft).to_have_count(1)
    await expect(draft).to_contain_text("Good.")
    # ... and the stored reply takes its place.
    reply = log.locator(".bubble-interviewer[data-kind=reply]")
    await expect(reply).to_have_count(1)
    await expect(reply).to_contain_text(STREAMED)
    await expect(draft).to_have_count(0)
    # The model fails: the page says so, and the built-in interviewer answers.
    await answer.fill("Empty returns an empty list.")
    await answer.press("Enter")
    await expect(log.locator(".chat-notice")).to_contain_text(
        builtin.fallback_notice(reason="model_failed")
    )
    await expect(reply).to_have_count(2)
    await expect(page.locator(".practice-engine")).to_contain_text("Built-in interviewer")
    assert tab.unexpected_errors() == []
    await tab.context.close()
