"""The access log: one JSON-ready line per request, and no secret in any log record."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from peerview.logging import JsonFormatter, note_user, redact
from tests.factories import Factory

ACCESS = "peerview.access"


def _access(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == ACCESS]


def _texts(record: logging.LogRecord) -> Iterator[str]:
    """Everything a handler could write out of `record`."""
    yield record.getMessage()
    yield repr(record.args)
    yield repr(vars(record))
    yield JsonFormatter().format(record)


async def test_each_request_gives_one_access_line_with_its_fields(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    missing = "00000000-0000-0000-0000-000000000000"
    await client.get(f"/api/users/{missing}", headers={"X-Request-ID": "line-1"})
    (record,) = _access(caplog)
    assert record.levelno == logging.INFO
    line = json.loads(JsonFormatter().format(record))
    assert line["logger"] == ACCESS
    assert line["method"] == "GET"
    assert line["route"] == "/api/users/{user_id}"
    assert line["status"] == 401
    assert line["request_id"] == "line-1"
    assert isinstance(line["duration_ms"], float)
    assert line["duration_ms"] >= 0
    assert "user_id" not in line, "anonymous"
    assert missing not in json.dumps(line)


async def test_the_access_log_never_has_the_query_string(
    factory: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    user = await factory.interviewer()
    caplog.set_level(logging.INFO)
    await factory.client.get(
        "/api/interview-requests/open",
        params={"category": "token-abc123", "access_token": user.token},
        headers=user.headers,
    )
    (record,) = _access(caplog)
    assert record.route == "/api/interview-requests/open"  # type: ignore[attr-defined]
    for text in _texts(record):
        assert "token-abc123" not in text
        assert user.token not in text


async def test_no_log_record_holds_a_password_token_or_email(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    email, password, new_password = "Secret.Person@example.com", "first pass 123", "second pass 456"
    registered = await client.post(
        "/api/auth/register",
        json={"name": "Sam", "email": email, "password": password, "role": "INTERVIEWEE"},
    )
    assert registered.status_code == 201, registered.text
    tokens = [registered.json()["access_token"]]
    wrong = await client.post("/api/auth/login", json={"email": email, "password": "nope nope"})
    assert wrong.status_code == 401
    login = await client.post("/api/auth/login", json={"email": email, "password": password})
    tokens.append(login.json()["access_token"])
    auth = {"Authorization": f"Bearer {tokens[-1]}"}
    assert (await client.get("/api/auth/me", headers=auth)).status_code == 200
    changed = await client.patch(
        "/api/users/me",
        json={"password": new_password, "current_password": password},
        headers=auth,
    )
    assert changed.status_code == 200, changed.text
    wrong_current = await client.patch(
        "/api/users/me",
        json={"password": "third pass 789", "current_password": password},
        headers=auth,
    )
    assert wrong_current.status_code in (401, 403, 422), wrong_current.text
    form = await client.post("/api/auth/token", data={"username": email, "password": new_password})
    tokens.append(form.json()["access_token"])
    assert len(_access(caplog)) == 7
    secrets = [email, email.lower(), password, new_password, "third pass 789", *tokens]
    for record in caplog.records:
        for text in _texts(record):
            for secret in secrets:
                assert secret not in text, (record.name, record.getMessage())


async def test_the_access_line_names_the_caller_noted_by_authentication(
    app: FastAPI, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    async def who() -> dict[str, str]:
        note_user("user-7")
        return {}

    app.add_api_route("/api/test-who", who)
    caplog.set_level(logging.INFO)
    await client.get("/api/test-who")
    (record,) = _access(caplog)
    assert record.user_id == "user-7"  # type: ignore[attr-defined]


async def test_the_access_line_names_the_authenticated_user(
    factory: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    user = await factory.interviewee()
    caplog.set_level(logging.INFO)
    await factory.client.get("/api/auth/me", headers=user.headers)
    (record,) = _access(caplog)
    assert record.user_id == user.id  # type: ignore[attr-defined]


def test_free_text_is_redacted_before_it_is_written() -> None:
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"
    text = redact(f"user a.b+c@example.co.uk sent Bearer abc.def and {jwt} password=hunter22")
    assert "example.co.uk" not in text
    assert "abc.def" not in text
    assert jwt not in text
    assert "hunter22" not in text


def test_a_log_line_is_one_json_object_with_the_current_request_id() -> None:
    record = logging.LogRecord("peerview.x", logging.WARNING, __file__, 1, "hello %s", ("x",), None)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "hello x"
    assert line["level"] == "WARNING"
    assert line["logger"] == "peerview.x"
    assert line["time"].endswith("+00:00")
