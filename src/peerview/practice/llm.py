"""A client for OpenAI-compatible Chat Completions endpoints (OpenAI, Ollama, vLLM, llama.cpp)."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import random as _random
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal, TypeGuard

import httpx

logger = logging.getLogger(__name__)

Role = Literal["system", "user", "assistant"]

# No wait between two attempts is longer than this, whatever the backoff or Retry-After says.
MAX_WAIT_SECONDS = 8.0
# How much of an error response is read, and how much of its message an LLMError keeps.
ERROR_BODY_BYTES = 4096
ERROR_DETAIL_CHARS = 300
# The tokens each message costs besides its content, for estimates.
TOKENS_PER_MESSAGE = 4


@dataclass(frozen=True, slots=True)
class ChatMessage:
    role: Role
    content: str


@dataclass(frozen=True, slots=True)
class LLMConfig:
    # e.g. "http://127.0.0.1:11434/v1"; requests go to f"{base_url.rstrip('/')}/chat/completions"
    base_url: str
    model: str
    # Sent as "Authorization: Bearer <key>" when set; never shown by repr or str.
    api_key: str | None = field(default=None, repr=False)
    connect_timeout_seconds: float = 5.0
    # The longest wait for the first byte and between two chunks.
    read_timeout_seconds: float = 30.0
    # One whole attempt; the waits between retries are not counted.
    total_timeout_seconds: float = 120.0
    # Extra attempts after the first.
    max_retries: int = 2
    # The first wait; doubles each retry, with full jitter, capped at MAX_WAIT_SECONDS.
    backoff_seconds: float = 0.5
    temperature: float = 0.4


class LLMError(Exception):
    """The model could not answer. `reason`: "timeout", "connection", "http_<status>", "malformed".

    `partial` is True when some text had already been handed to `on_delta`: the caller has shown
    part of an answer and must fall back rather than ask again.
    """

    def __init__(self, reason: str, detail: str = "", *, partial: bool = False) -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
        self.partial = partial


@dataclass(frozen=True, slots=True)
class Completion:
    text: str
    prompt_tokens: int
    completion_tokens: int
    # True when the server sent no `usage` and the counts are estimates.
    estimated: bool

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


def estimate_tokens(text: str) -> int:
    """About four characters a token: ceil(len / 4), so 1 for any non-empty text, 0 for ""."""
    return math.ceil(len(text) / 4)


def estimate_prompt_tokens(messages: Sequence[ChatMessage]) -> int:
    return sum(estimate_tokens(message.content) + TOKENS_PER_MESSAGE for message in messages)


class _AttemptFailed(Exception):
    """One attempt failed; the retry loop decides whether another follows."""

    def __init__(
        self, reason: str, detail: str = "", *, retryable: bool, retry_after: float | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail
        self.retryable = retryable
        self.retry_after = retry_after


@contextmanager
def _transport_failures() -> Iterator[None]:
    """httpx's failures of one attempt as `_AttemptFailed`: timeouts and broken connections
    are retried, an undecodable body is not."""
    try:
        yield
    except httpx.TimeoutException as exc:
        raise _AttemptFailed("timeout", type(exc).__name__, retryable=True) from exc
    except httpx.TransportError as exc:
        raise _AttemptFailed("connection", type(exc).__name__, retryable=True) from exc
    except httpx.DecodingError as exc:
        raise _AttemptFailed("malformed", "undecodable body", retryable=False) from exc


class _StreamOptionsRejected(Exception):
    """A 400 that names `stream_options`: the server does not know it (llama.cpp, older vLLM)."""


@dataclass(slots=True)
class _Progress:
    """What the call has handed to the caller so far, across attempts."""

    delivered: bool = False


@dataclass(slots=True)
class _Answer:
    parts: list[str] = field(default_factory=list)
    usage: tuple[int, int] | None = None
    finished: bool = False


class ChatClient:
    """Chat requests with retries and timeouts; one per configuration, closed by aclose()."""

    def __init__(
        self,
        config: LLMConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        random: Callable[[], float] = _random.random,
    ) -> None:
        self._config = config
        self._url = f"{config.base_url.rstrip('/')}/chat/completions"
        self._sleep = sleep
        self._random = random
        # Cleared once the server rejects `stream_options`, so that later calls skip the 400.
        self._stream_options = True
        headers = {"Content-Type": "application/json"}
        if config.api_key:
            headers["Authorization"] = f"Bearer {config.api_key}"
        self._http = httpx.AsyncClient(
            transport=transport,
            headers=headers,
            timeout=httpx.Timeout(
                config.read_timeout_seconds,
                connect=config.connect_timeout_seconds,
                pool=config.connect_timeout_seconds,
            ),
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int,
        on_delta: Callable[[str], Awaitable[None]],
    ) -> Completion:
        """Streams the answer, handing each piece of text to `on_delta` as it arrives."""
        progress = _Progress()

        async def attempt() -> Completion:
            try:
                return await self._attempt_stream(
                    messages,
                    max_tokens=max_tokens,
                    on_delta=on_delta,
                    progress=progress,
                    stream_options=self._stream_options,
                )
            except _StreamOptionsRejected:
                # Not counted as a retry: the same request at once, without the option.
                self._stream_options = False
                return await self._attempt_stream(
                    messages,
                    max_tokens=max_tokens,
                    on_delta=on_delta,
                    progress=progress,
                    stream_options=False,
                )

        return await self._with_retries(attempt, progress)

    async def complete(
        self, messages: Sequence[ChatMessage], *, max_tokens: int, json_object: bool = False
    ) -> Completion:
        """The whole answer at once; `json_object` asks the server for a JSON object."""
        body = self._body(messages, max_tokens=max_tokens)
        if json_object:
            body["response_format"] = {"type": "json_object"}

        async def attempt() -> Completion:
            return await self._attempt_complete(body, messages)

        return await self._with_retries(attempt, _Progress())

    # The retry loop.

    async def _with_retries(
        self, attempt: Callable[[], Awaitable[Completion]], progress: _Progress
    ) -> Completion:
        retries = 0
        while True:
            try:
                async with asyncio.timeout(self._config.total_timeout_seconds):
                    return await attempt()
            except TimeoutError as exc:
                failure = _AttemptFailed("timeout", "the attempt took too long", retryable=True)
                failure.__cause__ = exc
            except _AttemptFailed as failed:
                failure = failed
            if progress.delivered:
                raise LLMError(failure.reason, failure.detail, partial=True) from failure.__cause__
            if not failure.retryable or retries >= self._config.max_retries:
                raise LLMError(failure.reason, failure.detail) from failure.__cause__
            wait = self._wait_before_retry(retries, failure.retry_after)
            retries += 1
            logger.info("model call failed (%s); retry %d in %.2f s", failure.reason, retries, wait)
            await self._sleep(wait)

    def _wait_before_retry(self, retries: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, MAX_WAIT_SECONDS)
        ceiling = min(self._config.backoff_seconds * 2.0**retries, MAX_WAIT_SECONDS)
        return self._random() * ceiling

    # One attempt.

    def _body(self, messages: Sequence[ChatMessage], *, max_tokens: int) -> dict[str, Any]:
        if max_tokens < 1:
            raise ValueError("max_tokens must be at least 1")
        return {
            "model": self._config.model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "max_tokens": max_tokens,
            "temperature": self._config.temperature,
        }

    async def _attempt_stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int,
        on_delta: Callable[[str], Awaitable[None]],
        progress: _Progress,
        stream_options: bool,
    ) -> Completion:
        body = self._body(messages, max_tokens=max_tokens)
        body["stream"] = True
        if stream_options:
            body["stream_options"] = {"include_usage": True}
        headers = {"Accept": "text/event-stream"}
        answer = _Answer()
        with _transport_failures():
            async with self._http.stream("POST", self._url, json=body, headers=headers) as response:
                await _check_status(response, stream_options=stream_options)
                content_type = response.headers.get("content-type", "")
                if content_type.startswith("application/json"):
                    # A server that ignores `stream` answers in one piece.
                    completion = _parse_completion(await response.aread(), messages)
                    progress.delivered = True
                    await on_delta(completion.text)
                    return completion
                async for data in _sse_data(response.aiter_lines()):
                    if data == "[DONE]":
                        answer.finished = True
                        break
                    for delta in _read_chunk(data, answer):
                        progress.delivered = True
                        await on_delta(delta)
        if not answer.finished:
            raise _AttemptFailed(
                "connection", "the stream ended before the answer did", retryable=True
            )
        text = "".join(answer.parts)
        if not text:
            raise _AttemptFailed("malformed", "the answer has no text", retryable=False)
        return _completion(text, answer.usage, messages)

    async def _attempt_complete(
        self, body: dict[str, Any], messages: Sequence[ChatMessage]
    ) -> Completion:
        with _transport_failures():
            async with self._http.stream("POST", self._url, json=body) as response:
                await _check_status(response, stream_options=False)
                content = await response.aread()
        return _parse_completion(content, messages)


async def _check_status(response: httpx.Response, *, stream_options: bool) -> None:
    """Raises for any answer but 200 (after reading a bounded part of its body)."""
    status = response.status_code
    if status == httpx.codes.OK:
        return
    body = await _read_some(response)
    if status == httpx.codes.BAD_REQUEST and stream_options and "stream_options" in body:
        raise _StreamOptionsRejected
    retryable = status == httpx.codes.TOO_MANY_REQUESTS or status >= 500
    raise _AttemptFailed(
        f"http_{status}",
        _error_message(body),
        retryable=retryable,
        retry_after=_retry_after(response.headers.get("retry-after")) if retryable else None,
    )


async def _read_some(response: httpx.Response) -> str:
    content = bytearray()
    async for piece in response.aiter_bytes():
        content += piece
        if len(content) >= ERROR_BODY_BYTES:
            break
    return content[:ERROR_BODY_BYTES].decode("utf-8", errors="replace")


def _error_message(body: str) -> str:
    """The server's own message when it sent OpenAI's error shape, else the start of the body."""
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    message: object = body
    if isinstance(parsed, dict):
        error = parsed.get("error")
        if isinstance(error, dict):
            message = error.get("message", body)
        elif isinstance(error, str):
            message = error
    return str(message).strip()[:ERROR_DETAIL_CHARS]


def _retry_after(value: str | None) -> float | None:
    """Retry-After in seconds; the HTTP-date form is ignored (the backoff applies)."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return seconds


async def _sse_data(lines: AsyncIterator[str]) -> AsyncIterator[str]:
    """The data of each server-sent event; comments and other fields are skipped."""
    data: list[str] = []
    async for line in lines:
        if not line:
            if data:
                yield "\n".join(data)
                data = []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        if name == "data":
            data.append(value.removeprefix(" "))
    # An event not closed by a blank line counts when it is whole: [DONE] or a parsable chunk.
    # Anything else is what a cut connection leaves.
    if data:
        pending = "\n".join(data)
        if pending == "[DONE]" or _parses(pending):
            yield pending


def _parses(data: str) -> bool:
    try:
        json.loads(data)
    except ValueError:
        return False
    return True


def _read_chunk(data: str, answer: _Answer) -> list[str]:
    """Records one `chat.completion.chunk` in `answer`; returns its text, if any."""
    try:
        chunk = json.loads(data)
    except ValueError:
        raise _AttemptFailed("malformed", "a chunk is not JSON", retryable=False) from None
    if not isinstance(chunk, dict):
        raise _AttemptFailed("malformed", "a chunk is not an object", retryable=False)
    if "error" in chunk:
        raise _AttemptFailed("malformed", _error_message(data), retryable=False)
    usage = _usage(chunk.get("usage"))
    if usage is not None:
        answer.usage = usage
    choices = chunk.get("choices")
    if choices is None or choices == []:
        return []
    if not isinstance(choices, list) or not isinstance(choices[0], dict):
        raise _AttemptFailed("malformed", "a chunk's choices are not a list", retryable=False)
    choice = choices[0]
    if choice.get("finish_reason") is not None:
        answer.finished = True
    delta = choice.get("delta")
    if delta is None:
        return []
    if not isinstance(delta, dict):
        raise _AttemptFailed("malformed", "a chunk's delta is not an object", retryable=False)
    content = delta.get("content")
    if content is None or content == "":
        return []
    if not isinstance(content, str):
        raise _AttemptFailed("malformed", "a chunk's content is not text", retryable=False)
    answer.parts.append(content)
    return [content]


def _parse_completion(content: bytes, messages: Sequence[ChatMessage]) -> Completion:
    """A non-streamed `chat.completion`."""
    try:
        parsed = json.loads(content)
    except ValueError:
        raise _AttemptFailed("malformed", "the answer is not JSON", retryable=False) from None
    text: object = None
    if isinstance(parsed, dict):
        choices = parsed.get("choices")
        if isinstance(choices, list) and choices and isinstance(choices[0], dict):
            message = choices[0].get("message")
            if isinstance(message, dict):
                text = message.get("content")
    if not isinstance(text, str) or not text:
        raise _AttemptFailed("malformed", "the answer has no text", retryable=False)
    usage = _usage(parsed.get("usage")) if isinstance(parsed, dict) else None
    return _completion(text, usage, messages)


def _usage(value: object) -> tuple[int, int] | None:
    if not isinstance(value, dict):
        return None
    prompt = value.get("prompt_tokens")
    completion = value.get("completion_tokens")
    if _is_count(prompt) and _is_count(completion):
        return prompt, completion
    return None


def _is_count(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _completion(
    text: str, usage: tuple[int, int] | None, messages: Sequence[ChatMessage]
) -> Completion:
    if usage is not None:
        return Completion(text, usage[0], usage[1], estimated=False)
    return Completion(text, estimate_prompt_tokens(messages), estimate_tokens(text), estimated=True)
