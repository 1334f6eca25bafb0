"""Security headers on every operation, CORS for the configured origins only, docs that go away.

tests/platform/test_headers.py checks a handful of responses; here every operation of the
OpenAPI schema is asked, anonymously and as an admin, from a foreign and an allowed origin,
and so is the Socket.IO handshake. The contract fuzzing checks the same headers on every
fuzzed answer (tests/contract/support.py).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import aiohttp
import httpx
import pytest
from fastapi import FastAPI

from peerview.asgi import wrap
from peerview.clock import FakeClock
from peerview.config import Settings
from tests.factories import Factory
from tests.platform.apps import assert_problem, client_for, extra_app
from tests.realtime.support import serve

ALLOWED_ORIGIN = "https://app.peerview.test"  # the test settings' CORS_ORIGINS
FOREIGN_ORIGIN = "https://evil.example"
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "cache-control": "no-store",
    "content-security-policy": "frame-ancestors 'none'",
}
CORS_HEADERS = ("access-control-allow-origin", "access-control-allow-credentials")
HANDSHAKE = "/socket.io/?EIO=4&transport=polling"
ID_PARAMETERS = ("user_id", "question_id", "request_id", "session_id", "notification_id")


def assert_security_headers(response: httpx.Response) -> None:
    # Cache-Control: no-store is for API answers; pages such as /docs may be cached.
    api = response.request.url.path.startswith("/api")
    for name, value in SECURITY_HEADERS.items():
        if name == "cache-control" and not api:
            continue
        assert response.headers.get_list(name) == [value], (
            name,
            response.request.method,
            response.request.url.path,
            response.status_code,
        )


async def _requests(client: httpx.AsyncClient) -> list[tuple[str, str]]:
    """(method, url) of every operation, unknown ids filled in."""
    schema = (await client.get("/openapi.json")).json()
    ids = dict.fromkeys(ID_PARAMETERS, "unknown-id")
    return [
        (method.upper(), path.format(**ids))
        for path, operations in schema["paths"].items()
        for method in operations
    ]


async def test_every_operation_answers_with_the_security_headers(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    admin = await factory.admin()
    for method, url in await _requests(client):
        for headers in ({}, admin.headers):
            response = await client.request(method, url, headers=headers)
            assert_security_headers(response)


async def test_a_throttled_login_carries_the_security_headers(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    user = await factory.user()
    wrong = {"email": user.email, "password": "not the password"}
    for _ in range(10):
        assert (await client.post("/api/auth/login", json=wrong)).status_code == 401
    response = await client.post("/api/auth/login", json=wrong)
    assert_problem(response, 429)
    assert int(response.headers["retry-after"]) >= 1
    assert_security_headers(response)


async def test_cors_preflights_carry_the_security_headers(client: httpx.AsyncClient) -> None:
    for origin, status in ((ALLOWED_ORIGIN, 200), (FOREIGN_ORIGIN, 400)):
        response = await client.options(
            "/api/interview-requests",
            headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
        )
        assert response.status_code == status
        assert_security_headers(response)


async def test_a_foreign_origin_gets_no_cors_header_from_any_operation(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    admin = await factory.admin()
    for method, url in await _requests(client):
        response = await client.request(
            method, url, headers={**admin.headers, "Origin": FOREIGN_ORIGIN}
        )
        for name in CORS_HEADERS:
            assert name not in response.headers, (method, url, name)
        preflight = await client.options(
            url, headers={"Origin": FOREIGN_ORIGIN, "Access-Control-Request-Method": method}
        )
        assert preflight.status_code == 400, (method, url)
        for name in CORS_HEADERS:
            assert name not in preflight.headers, (method, url, name)


async def test_the_allowed_origin_gets_its_cors_header_from_every_operation(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    # Errors included: a browser app must be able to read the problem document.
    admin = await factory.admin()
    for method, url in await _requests(client):
        response = await client.request(
            method, url, headers={**admin.headers, "Origin": ALLOWED_ORIGIN}
        )
        assert response.headers.get("access-control-allow-origin") == ALLOWED_ORIGIN, (method, url)


@pytest.fixture
async def realtime(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The app as servers run it: Socket.IO in front, reached over the polling transport."""
    transport = httpx.ASGITransport(app=wrap(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def test_the_socket_handshake_from_a_foreign_origin_gets_no_cors_header(
    realtime: httpx.AsyncClient,
) -> None:
    # (Engine.IO sends Access-Control-Allow-Credentials on every answer; without an allowed
    # origin a browser reads nothing, so only Access-Control-Allow-Origin matters.)
    response = await realtime.get(HANDSHAKE, headers={"Origin": FOREIGN_ORIGIN})
    assert response.status_code >= 400
    assert "access-control-allow-origin" not in response.headers
    preflight = await realtime.options(
        HANDSHAKE, headers={"Origin": FOREIGN_ORIGIN, "Access-Control-Request-Method": "GET"}
    )
    assert "access-control-allow-origin" not in preflight.headers


async def test_the_socket_handshake_from_the_allowed_origin_is_answered_for_it(
    realtime: httpx.AsyncClient,
) -> None:
    response = await realtime.get(HANDSHAKE, headers={"Origin": ALLOWED_ORIGIN})
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert response.text.startswith("0{")  # the Engine.IO open packet


# Every answer of Socket.IO carries what every API answer does (docs/api.md §1.8).
SOCKET_HEADERS = {
    **SECURITY_HEADERS,
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


def assert_socket_headers(response: httpx.Response) -> None:
    for name, value in SOCKET_HEADERS.items():
        assert response.headers.get_list(name) == [value], (
            name,
            response.request.method,
            str(response.request.url),
            response.status_code,
        )


async def test_every_answer_of_the_polling_transport_carries_the_security_headers(
    realtime: httpx.AsyncClient, factory: Factory
) -> None:
    user = await factory.interviewee()
    allowed = {"Origin": ALLOWED_ORIGIN}
    answers: list[httpx.Response] = []

    handshake = await realtime.get(HANDSHAKE, headers=allowed)
    assert handshake.status_code == 200, handshake.text
    answers.append(handshake)
    sid = json.loads(handshake.text[1:])["sid"]
    polling = f"{HANDSHAKE}&sid={sid}"
    # Socket.IO's connect packet with the token, then its answer, then an event and its ack.
    connect = await realtime.post(polling, content=f'40{{"token":"{user.token}"}}', headers=allowed)
    assert connect.text == "OK", connect.text
    answers.append(connect)
    connected = await realtime.get(polling, headers=allowed)
    assert connected.text.startswith("40{"), connected.text
    answers.append(connected)
    event = await realtime.post(polling, content='421["leave",{"session_id":"s"}]')
    assert event.status_code == 200, event.text
    answers.append(event)
    ack = await realtime.get(polling)
    assert ack.text == '431[{"ok":true}]', ack.text
    answers.append(ack)
    answers.append(await realtime.options(HANDSHAKE, headers=allowed))
    # Refusals: an unknown session, a foreign origin, a websocket upgrade without its headers,
    # an unsupported protocol version.
    for refused in (
        await realtime.get(f"{HANDSHAKE}&sid=unknown"),
        await realtime.post(f"{HANDSHAKE}&sid=unknown", content="40"),
        await realtime.get(HANDSHAKE, headers={"Origin": FOREIGN_ORIGIN}),
        await realtime.get("/socket.io/?EIO=4&transport=websocket"),
        await realtime.get("/socket.io/?EIO=3&transport=polling"),
    ):
        assert refused.status_code == 400, refused.text
        answers.append(refused)
    for response in answers:
        assert_socket_headers(response)


async def test_a_websocket_refused_before_it_opens_carries_the_security_headers(
    app: FastAPI,
) -> None:
    """Over a real server (granian, as `peerview serve` runs): a websocket from a foreign
    origin is answered with an HTTP 403 that carries the headers, not the server's bare one."""
    async with serve(app) as url, aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(
                f"{url}/socket.io/?EIO=4&transport=websocket", headers={"Origin": FOREIGN_ORIGIN}
            )
    assert refused.value.status == 403
    headers = refused.value.headers
    assert headers is not None
    for name, value in SOCKET_HEADERS.items():
        assert headers.getall(name) == [value], name


async def test_without_cors_origins_only_the_same_origin_may_open_a_socket(
    settings: Settings, clock: FakeClock
) -> None:
    closed = settings.model_copy(update={"cors_origins": None})
    async with extra_app(closed, clock) as application:
        transport = httpx.ASGITransport(app=wrap(application))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            foreign = await c.get(HANDSHAKE, headers={"Origin": FOREIGN_ORIGIN})
            same = await c.get(HANDSHAKE, headers={"Origin": "http://testserver"})
            rest = await c.get("/api/health", headers={"Origin": FOREIGN_ORIGIN})
    assert foreign.status_code >= 400
    assert "access-control-allow-origin" not in foreign.headers
    for name in CORS_HEADERS:
        assert name not in rest.headers
    assert same.status_code == 200


DOCS_PATHS = ("/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json")


async def test_docs_enabled_false_in_the_environment_hides_every_docs_page(
    settings: Settings, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCS_ENABLED", "false")
    from_env = Settings(
        **settings.model_dump(exclude={"docs_enabled"}),
        _env_file=None,  # type: ignore[call-arg]
    )
    assert from_env.docs_enabled is False
    async with extra_app(from_env, clock) as application, client_for(application) as c:
        for path in DOCS_PATHS:
            response = await c.get(path)
            assert_problem(response, 404)
            assert_security_headers(response)
        assert (await c.get("/api/health")).status_code == 200


async def test_docs_enabled_serves_every_docs_page(client: httpx.AsyncClient) -> None:
    for path in DOCS_PATHS:
        response = await client.get(path)
        assert response.status_code == 200, path
