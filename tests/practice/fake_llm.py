"""A fake OpenAI-compatible Chat Completions server on the loopback, answering from a script.

It runs in a thread with its own event loop, so tests in any loop (and server processes that
tests start) can reach it over real HTTP.
"""

from __future__ import annotations

import asyncio
import collections
import json
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from aiohttp import web

MODEL_ID = "fake-model"


@dataclass
class Reply:
    """One scripted answer."""

    text: str
    # Split the text into this many deltas (streaming).
    chunks: int = 4
    # Before anything is sent, headers included.
    delay_seconds: float = 0.0
    chunk_delay_seconds: float = 0.0
    # (prompt_tokens, completion_tokens); None: no usage is sent.
    usage: tuple[int, int] | None = None
    # Close the connection after this many content chunks, without a finish or [DONE]
    # (0: after the headers and the role chunk). Non-streamed: close without answering.
    cut_after_chunks: int | None = None


@dataclass
class Failure:
    status: int = 500
    body: str = '{"error": {"message": "scripted failure"}}'
    retry_after: float | None = None


@dataclass
class Hang:
    """Accept the request, then send nothing for `seconds`, then close the connection."""

    seconds: float


Script = Reply | Failure | Hang


def split_text(text: str, parts: int) -> list[str]:
    """`text` in `parts` pieces as even as can be, none empty (no pieces for "")."""
    if not text:
        return []
    parts = max(1, min(parts, len(text)))
    size, extra = divmod(len(text), parts)
    pieces = []
    start = 0
    for index in range(parts):
        end = start + size + (1 if index < extra else 0)
        pieces.append(text[start:end])
        start = end
    return pieces


class FakeLLM:
    """`with FakeLLM() as llm:` serves at `llm.url` until the block ends."""

    def __init__(self) -> None:
        self.url = ""
        # Every chat request body, parsed, in order, with "_headers" (names in lower case).
        self.requests: list[dict[str, Any]] = []
        # Answers the queue's turn when the queue is empty.
        self.default: Script | None = Reply("OK.")
        self._queue: collections.deque[Script] = collections.deque()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    def script(self, *items: Script) -> None:
        with self._lock:
            self._queue.extend(items)

    def start(self) -> None:
        if self._loop is not None:
            raise RuntimeError("already started")
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="fake-llm", daemon=True)
        self._thread.start()
        try:
            port = asyncio.run_coroutine_threadsafe(self._serve(), loop).result(timeout=10)
        except BaseException:
            self.stop()
            raise
        self.url = f"http://127.0.0.1:{port}/v1"

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), loop).result(timeout=10)
            self._runner = None
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()
        self._loop = self._thread = None

    def __enter__(self) -> FakeLLM:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # The server, in its own loop.

    async def _serve(self) -> int:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_get("/v1/models", self._models)
        # A handler stops when its client goes (a Hang outlives the client's timeout), and
        # whatever is still running when the server stops is ended at once.
        self._runner = web.AppRunner(
            app, handler_cancellation=True, access_log=None, shutdown_timeout=0.1
        )
        await self._runner.setup()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        return port

    def _next(self) -> Script | None:
        with self._lock:
            return self._queue.popleft() if self._queue else self.default

    async def _models(self, request: web.Request) -> web.Response:
        model = {"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "peerview-tests"}
        return web.json_response({"object": "list", "data": [model]})

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        raw = await request.text()
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        headers = {name.lower(): value for name, value in request.headers.items()}
        if not isinstance(body, dict):
            self.requests.append({"_raw": raw, "_headers": headers})
            return _error(400, "the body is not a JSON object")
        self.requests.append({**body, "_headers": headers})
        if not isinstance(body.get("messages"), list) or not body.get("model"):
            return _error(400, "model and messages are required")
        item = self._next()
        if item is None:
            return _error(500, "nothing scripted")
        if isinstance(item, Failure):
            failure = web.Response(
                status=item.status, text=item.body, content_type="application/json"
            )
            if item.retry_after is not None:
                failure.headers["Retry-After"] = _seconds(item.retry_after)
            return failure
        if isinstance(item, Hang):
            await asyncio.sleep(item.seconds)
            return _cut(request)
        await asyncio.sleep(item.delay_seconds)
        if body.get("stream"):
            return await _stream(request, body, item)
        if item.cut_after_chunks is not None:
            return _cut(request)
        return web.json_response(_completion(body, item))


def _error(status: int, message: str) -> web.Response:
    return web.json_response(
        {"error": {"message": message, "type": "invalid_request_error"}}, status=status
    )


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _cut(request: web.Request, response: web.StreamResponse | None = None) -> web.StreamResponse:
    """Closes the connection under the handler: the client sees it cut, not an answer.

    aiohttp's writing of the response then fails with a ConnectionError, which it takes quietly
    for a client that went away."""
    if request.transport is not None:
        request.transport.close()
    return response if response is not None else web.Response()


def _completion(body: dict[str, Any], reply: Reply) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body["model"],
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": reply.text},
                "finish_reason": "stop",
            }
        ],
    }
    if reply.usage is not None:
        answer["usage"] = _usage(reply.usage)
    return answer


def _usage(usage: tuple[int, int]) -> dict[str, int]:
    prompt, completion = usage
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


async def _stream(request: web.Request, body: dict[str, Any], reply: Reply) -> web.StreamResponse:
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    await response.prepare(request)
    base = {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": body["model"],
    }

    async def send(payload: dict[str, Any] | str) -> None:
        data = payload if isinstance(payload, str) else json.dumps(payload)
        await response.write(f"data: {data}\n\n".encode())

    def choice(delta: dict[str, str], finish_reason: str | None = None) -> dict[str, Any]:
        return {
            **base,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
        }

    await send(choice({"role": "assistant"}))
    for index, piece in enumerate(split_text(reply.text, reply.chunks)):
        if reply.cut_after_chunks is not None and index >= reply.cut_after_chunks:
            return _cut(request, response)
        if index and reply.chunk_delay_seconds:
            await asyncio.sleep(reply.chunk_delay_seconds)
        await send(choice({"content": piece}))
    if reply.cut_after_chunks is not None:
        return _cut(request, response)
    await send(choice({}, "stop"))
    options = body.get("stream_options")
    if reply.usage is not None and isinstance(options, dict) and options.get("include_usage"):
        await send({**base, "choices": [], "usage": _usage(reply.usage)})
    await send("[DONE]")
    await response.write_eof()
    return response
