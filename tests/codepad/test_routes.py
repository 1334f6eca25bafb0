"""GET and PATCH /api/interview-sessions/{id}/code (docs/api.md §5.7)."""

from __future__ import annotations

import httpx
import pytest

from tests.codepad.support import Pad
from tests.factories import Factory
from tests.flow import accepted, completed, live
from tests.realtime.support import joined, peers


def path(session_id: str) -> str:
    return f"/api/interview-sessions/{session_id}/code"


async def test_an_untouched_pad_is_empty_plain_text(
    factory: Factory, client: httpx.AsyncClient
) -> None:
    flow = await accepted(factory)
    response = await client.get(path(flow.id), headers=flow.interviewee.headers)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "session_id": flow.id,
        "language": "plaintext",
        "text": "",
        "updated_at": None,
    }


async def test_after_the_session_both_participants_and_admins_read_the_final_code(
    live_url: str, factory: Factory, client: httpx.AsyncClient
) -> None:
    flow = await live(factory)
    caller, callee = await joined(live_url, flow)
    try:
        pad = Pad(callee, flow.id)
        await pad.sync()
        assert (await pad.edit(0, "def solve():\n    return 42\n"))["ok"]
    finally:
        await caller.close()
        await callee.close()
    response = await client.post(
        f"/api/interview-sessions/{flow.id}/end", headers=flow.interviewer.headers
    )
    assert response.status_code == 200, response.text
    admin = await factory.admin()
    for user in (flow.interviewer, flow.interviewee, admin):
        response = await client.get(path(flow.id), headers=user.headers)
        assert response.status_code == 200, response.text
        assert response.json()["text"] == "def solve():\n    return 42\n"
    for outsider in (await factory.interviewer(), await factory.interviewee()):
        response = await client.get(path(flow.id), headers=outsider.headers)
        assert response.status_code == 404
        assert response.json()["code"] == "SESSION_NOT_FOUND"


async def test_the_interviewer_sets_the_language_and_both_participants_hear_it(
    live_url: str, factory: Factory, client: httpx.AsyncClient
) -> None:
    flow = await accepted(factory)
    async with peers(live_url, flow.interviewer.token, flow.interviewee.token) as sockets:
        response = await client.patch(
            path(flow.id), json={"language": "python"}, headers=flow.interviewer.headers
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["language"] == "python"
        assert body["updated_at"] is not None
        for socket_ in sockets:
            [pushed] = await socket_.wait_for("code_language")
            assert pushed == {"session_id": flow.id, "language": "python"}
        # A sync tells it too.
        assert (await sockets[1].join(flow.id))["ok"]
        ack = await Pad(sockets[1], flow.id).sync()
        assert ack["language"] == "python"


@pytest.mark.parametrize("language", ["cobol", "Python", "", None])
async def test_an_unknown_language_is_422(
    factory: Factory, client: httpx.AsyncClient, language: object
) -> None:
    flow = await accepted(factory)
    response = await client.patch(
        path(flow.id), json={"language": language}, headers=flow.interviewer.headers
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "VALIDATION_ERROR"


async def test_only_the_interviewer_of_a_session_not_over_may_set_the_language(
    factory: Factory, client: httpx.AsyncClient
) -> None:
    flow = await accepted(factory)
    body = {"language": "go"}
    response = await client.patch(path(flow.id), json=body, headers=flow.interviewee.headers)
    assert (response.status_code, response.json()["code"]) == (403, "NOT_SESSION_INTERVIEWER")
    for other in (await factory.admin(), await factory.interviewer()):
        response = await client.patch(path(flow.id), json=body, headers=other.headers)
        assert (response.status_code, response.json()["code"]) == (404, "SESSION_NOT_FOUND")
    done = await completed(factory)
    response = await client.patch(path(done.id), json=body, headers=done.interviewer.headers)
    assert (response.status_code, response.json()["code"]) == (409, "INVALID_SESSION_STATE")
    response = await client.get(path(flow.id), headers=flow.interviewer.headers)
    assert response.json()["language"] == "plaintext"
