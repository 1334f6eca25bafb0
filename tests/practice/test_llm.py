"""The OpenAI-compatible chat client, over real HTTP against the fake model server."""

from __future__ import annotations

import json
import math
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from peerview.practice.llm import (
    ChatClient,
    ChatMessage,
    Completion,
    LLMConfig,
    LLMError,
    estimate_tokens,
)
from tests.practice.fake_llm import Failure, FakeLLM, Hang, Reply
from tests.support.servers import free_port

MESSAGES = [
    ChatMessage("system", "You are an interviewer."),
    ChatMessage("user", "Ask me about hash maps."),
]
API_KEY = "sk-test-0123456789"


@dataclass
class Made:
    """A client made by the `make_client` fixture, with the waits it asked for."""

    client: ChatClient
    waits: list[float] = field(default_factory=list)
    deltas: list[str] = field(default_factory=list)

    async def on_delta(self, text: str) -> None:
        self.deltas.append(text)

    async def stream(self, max_tokens: int = 64) -> Completion:
        return await self.client.stream(MESSAGES, max_tokens=max_tokens, on_delta=self.on_delta)


MakeClient = Callable[..., Made]


@pytest.fixture
async def make_client(fake_llm: FakeLLM) -> AsyncIterator[MakeClient]:
    """Clients of the fake server; `random` defaults to 1.0 so that waits are the ceilings."""
    made: list[Made] = []

    def make(*, random: Callable[[], float] = lambda: 1.0, **config: Any) -> Made:
        settings: dict[str, Any] = {"base_url": fake_llm.url, "model": "fake-model"}
        settings.update(config)
        waits: list[float] = []

        async def sleep(seconds: float) -> None:
            waits.append(seconds)

        result = Made(ChatClient(LLMConfig(**settings), sleep=sleep, random=random), waits)
        made.append(result)
        return result

    yield make
    for result in made:
        await result.client.aclose()


def sent_bodies(fake_llm: FakeLLM) -> list[dict[str, Any]]:
    return [{k: v for k, v in body.items() if k != "_headers"} for body in fake_llm.requests]


@pytest.mark.parametrize(
    ("text", "tokens"), [("", 0), ("a", 1), ("abcd", 1), ("abcde", 2), ("x" * 400, 100)]
)
def test_estimate_tokens_is_a_quarter_of_the_characters_rounded_up(text: str, tokens: int) -> None:
    assert estimate_tokens(text) == tokens


async def test_stream_hands_the_deltas_in_order_and_they_join_to_the_text(
    fake_llm: FakeLLM, make_client: MakeClient
) -> None:
    fake_llm.script(Reply("Tell me how a hash map resolves collisions.", chunks=5))
    made = make_client(temperature=0.2)

    completion = await made.stream(max_tokens=80)

    assert len(made.deltas) == 5
    assert "".join(made.deltas) == completion.text
    assert completion.text == "Tell me how a hash map resolves collisions."
    [body] = sent_bodies(fake_llm)
    assert body == {
        "model": "fake-model",
        "messages": [
            {"role": "system", "content": "You are an interviewer."},
            {"role": "user", "content": "Ask me about hash maps."},
        ],
        "stream": True,
        "max_tokens": 80,
        "temperature": 0.2,
        "stream_options": {"include_usage": True},
    }


async def test_stream_reads_the_usage_the_server_sends(
    fake_llm: FakeLLM, make_client: MakeClient
) -> None:
    fake_llm.script(Reply("Good answer.", usage=(31, 3)))

    completion = await make_client().stream()

    assert (completion.prompt_tokens, completion.completion_tokens) == (31, 3)
    assert completion.total_tokens == 34
    assert not completion.estimated


async def test_stream_estimates_the_usage_when_the_server_sends_none(
    fake_llm: FakeLLM, make_client: MakeClient
) -> None:
    fake_llm.script(Reply("Good answer, go on.", usage=None))

    completion = await make_client().stream()

    assert completion.estimated
    prompt = sum(math.ceil(len(m.content) / 4) + 4 for m in MESSAGES)
    assert completion.prompt_tokens == prompt
    assert completion.completion_tokens == math.ceil(len("Good answer, go on.") / 4)


async def test_a_500_is_retried_with_waits_that_double(
    fake_llm: FakeLLM, make_client: MakeClient
) -> None:
    fake_llm.script(Failure(500), Failure(502), Reply("Third time lucky."))
    made = make_client(max_retries=2, backoff_seconds=0.5)

    completion = await made.stream()

    assert completion.text == "Third time lucky."
    assert made.waits == [0.5, 1.0]
    assert len(fake_llm.requests) == 3


async def test_the_backoff_has_full_jitter_and_is_capped_at_8_seconds(
    fake_llm: FakeLLM, make_client: MakeClient
) -> None:
    fake_llm.script(Failure(503), Failure(503), Failure(503), Reply("At last."))
    ceilings = make_client(max_retries=3, backoff_seconds=3.0)
    jittered = make_client(max_retries=3, backoff_seconds=3.0, random=lambda: 0.25)

    await ceilings.stream()
    fake_llm.script(Failure(503), Failure(503), Failure(503), Reply("At last."))
    await jittered.stream()

    assert ceilings.waits == [3.0, 6.0, 8.0]
    assert jittered.waits == [0.75, 1.5, 2.0]


async def test_a_429_is_retried_after_its_retry_after_capped_at_8_seconds(
    fake_llm: FakeLLM, make_client: MakeClient
) -> None:
    fake_llm.script(
        Failure(429, retry_after=1.5), Failure(503, retry_after=30), Reply("Your turn.")
    )
    made = make_client(max_retries=2, backoff_seconds=0.1)

    completion = await made.stream()

    assert completion.text == "Your turn."
    assert made.waits == [1.5, 8.0]


async def test_the_last_failure_is_raised_once_the_retries_are_spent(
    fake_llm: FakeLLM, make_client: MakeClient
) -> None:
    fake_llm.default = Failure(500)
    made = make_client(max_retries=2)

    with pytest.raises(LLMError) as raised:
        await made.stream()

    assert raised.value.reason == "http_500"
    assert raised.value.detail == "scripted failure"
    assert not raised.value.partial
    assert len(fake_llm.requests) == 3
    assert len(made.waits) == 2


async def test_a_400_is_not_retried(fake_llm: FakeLLM, make_client: MakeClient) -> None:
    fake_llm.script(Failure(400, body='{"error": {"message": "max_tokens is too large"}}'))
    made = make_client(max_retries=2)

    with pytest.raises(LLMError) as raised:
        await made.stream()

    assert raised.value.reason == "http_400"
    assert raised.value.detail == "max_tokens is too large"
    assert len(fake_llm.requests) == 1
    assert made.waits == []


async def test_a_stream_cut_after_a_delta_fails_at_once_as_partial(
    fake_llm: FakeLLM, make_client: MakeClient
) -> None:
    fake_llm.script(Reply("AAA BBB CCC DDD ", chunks=4, cut_after_chunks=2), Reply("Again."))
    made = make_client(max_retries=2)

    with pytest.raises(LLMError) as raised:
        await made.stream()

    assert raised.value.reason == "connection"
    assert raised.value.partial
    assert made.deltas == ["AAA ", "BBB "]
    assert made.waits == []
    assert len(fake_llm.requests) == 1


async def test_a_stream_cut_before_any_delta_is_retried(
    fake_llm: FakeLLM, make_client: MakeClient
) -> None:
    fake_llm.script(Reply("Lost.", cut_after_chunks=0), Reply("Found."))
    made = make_client(max_retries=1)

    completion = await made.stream()

    assert completion.text == "Found."
    assert "".join(made.deltas) == "Found."
    assert len(made.waits) == 1


async def test_a_refused_connection_is_a_connection_failure(make_client: MakeClient) -> None:
    made = make_client(base_url=f"http://127.0.0.1:{free_port()}/v1", max_retries=1)

    with pytest.raises(LLMError) as raised:
        await made.stream()

    assert raised.value.reason == "connection"
    assert not raised.value.partial
    assert len(made.waits) == 1


async def test_a_server_silent_beyond_the_read_timeout_is_a_timeout(
    fake_llm: FakeLLM, make_client: MakeClient
) -> None:
    fake_llm.script(Hang(5.0))
    made = make_client(read_timeout_seconds=0.3, max_retries=0)

    started = time.monotonic()
    with pytest.raises(LLMError) as raised:
        await made.stream()

    assert raised.value.reason == "timeout"
    assert not raised.value.partial
    assert time.monotonic() - started < 2.0


async def test_an_attempt_over_the_total_timeout_is_retried(
    fake_llm: FakeLLM, make_client: MakeClient
) -> None:
    fake_llm.script(Reply("Too slow.", delay_seconds=3.0), Reply("In time."))
    made = make_client(read_timeout_seconds=5.0, total_timeout_seconds=0.2, max_retries=1)

    completion = await made.stream()

    assert completion.text == "In time."
    assert len(made.waits) == 1


async def test_the_total_timeout_after_a_delta_fails_as_partial(
    fake_llm: FakeLLM, make_client: MakeClient
) -> None:
    fake_llm.script(Reply("a b c d e f g h i j", chunks=10, chunk_delay_seconds=0.1))
    made = make_client(read_timeout_seconds=5.0, total_timeout_seconds=0.25, max_retries=2)

    with pytest.raises(LLMError) as raised:
        await made.stream()

    assert raised.value.reason == "timeout"
    assert raised.value.partial
    assert 1 <= len(made.deltas) < 10
    assert made.waits == []


async def test_a_200_without_text_is_malformed_and_not_retried(
    fake_llm: FakeLLM, make_client: MakeClient
) -> None:
    fake_llm.script(Reply(""), Failure(200, body="<html>busy</html>"))
    made = make_client(max_retries=2)

    with pytest.raises(LLMError) as empty:
        await made.stream()
    with pytest.raises(LLMError) as not_json:
        await made.client.complete(MESSAGES, max_tokens=10)

    assert empty.value.reason == "malformed"
    assert not_json.value.reason == "malformed"
    assert len(fake_llm.requests) == 2
    assert made.waits == []


async def test_a_server_that_rejects_stream_options_is_asked_again_without_them(
    fake_llm: FakeLLM, make_client: MakeClient
) -> None:
    rejected = '{"error": {"message": "Unrecognized request argument supplied: stream_options"}}'
    fake_llm.script(Failure(400, body=rejected), Reply("Fine.", usage=(9, 2)), Reply("Again."))
    made = make_client(max_retries=0)

    first = await made.stream()
    second = await made.stream()

    assert (first.text, second.text) == ("Fine.", "Again.")
    # Without stream_options the server sends no usage: the counts are estimates.
    assert first.estimated
    assert made.waits == []
    with_options, *without = sent_bodies(fake_llm)
    assert with_options["stream_options"] == {"include_usage": True}
    assert [("stream_options" in body, body["stream"]) for body in without] == [
        (False, True),
        (False, True),
    ]


async def test_complete_asks_for_a_json_object_and_reads_the_message(
    fake_llm: FakeLLM, make_client: MakeClient
) -> None:
    fake_llm.script(Reply('{"score": 3, "notes": "clear"}', usage=(50, 12)))
    made = make_client()

    completion = await made.client.complete(MESSAGES, max_tokens=200, json_object=True)

    assert json.loads(completion.text) == {"score": 3, "notes": "clear"}
    assert (completion.prompt_tokens, completion.completion_tokens) == (50, 12)
    assert not completion.estimated
    [body] = sent_bodies(fake_llm)
    assert body["response_format"] == {"type": "json_object"}
    assert "stream" not in body
    assert body["max_tokens"] == 200


async def test_complete_retries_a_5xx_and_estimates_missing_usage(
    fake_llm: FakeLLM, make_client: MakeClient
) -> None:
    fake_llm.script(Failure(500), Reply("Plain text."))
    made = make_client(max_retries=1, backoff_seconds=0.25)

    completion = await made.client.complete(MESSAGES, max_tokens=20)

    assert completion.text == "Plain text."
    assert completion.estimated
    assert "response_format" not in sent_bodies(fake_llm)[-1]
    assert made.waits == [0.25]


async def test_the_api_key_is_sent_as_bearer_and_never_shown(
    fake_llm: FakeLLM, make_client: MakeClient
) -> None:
    with_key = make_client(api_key=API_KEY)
    without_key = make_client()

    await with_key.stream()
    await without_key.stream()

    first, second = (body["_headers"] for body in fake_llm.requests)
    assert first["authorization"] == f"Bearer {API_KEY}"
    assert "authorization" not in second
    config = LLMConfig(base_url=fake_llm.url, model="fake-model", api_key=API_KEY)
    assert API_KEY not in repr(config)
    assert API_KEY not in str(config)


async def test_the_fake_server_streams_in_openai_format(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply("Hi there", chunks=2, usage=(7, 2)))
    body = {
        "model": "fake-model",
        "messages": [{"role": "user", "content": "hello"}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }

    async with (
        httpx.AsyncClient() as http,
        http.stream("POST", f"{fake_llm.url}/chat/completions", json=body) as response,
    ):
        content_type = response.headers["content-type"]
        events = [line async for line in response.aiter_lines() if line]
        models = (await http.get(f"{fake_llm.url}/models")).json()

    assert content_type.startswith("text/event-stream")
    assert events[-1] == "data: [DONE]"
    chunks = [json.loads(line.removeprefix("data: ")) for line in events[:-1]]
    assert {chunk["object"] for chunk in chunks} == {"chat.completion.chunk"}
    assert [chunk["choices"] for chunk in chunks] == [
        [{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}],
        [{"index": 0, "delta": {"content": "Hi t"}, "finish_reason": None}],
        [{"index": 0, "delta": {"content": "here"}, "finish_reason": None}],
        [{"index": 0, "delta": {}, "finish_reason": "stop"}],
        [],
    ]
    assert chunks[-1]["usage"] == {"prompt_tokens": 7, "completion_tokens": 2, "total_tokens": 9}
    assert [model["id"] for model in models["data"]] == ["fake-model"]
