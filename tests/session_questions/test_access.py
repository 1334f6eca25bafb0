"""Who may touch a session's questions: its interviewer only; outsiders cannot even see it."""

from __future__ import annotations

import httpx

from peerview.models.enums import Role
from tests import factories
from tests.factories import Factory
from tests.flow import Flow, accepted, completed
from tests.platform.apps import assert_problem
from tests.session_questions.support import add, bank_question, remove, stored_rows, suggest


async def _every_route(
    factory: Factory, user: factories.TestUser, flow: Flow, question_id: str
) -> list[httpx.Response]:
    client = factory.client
    return [
        await add(client, user, flow.id, question_id),
        await suggest(client, user, flow.id, 3),
        await remove(client, user, flow.id, question_id),
    ]


async def test_third_user_gets_404_on_every_session_question_route(factory: Factory) -> None:
    flow = await accepted(factory)
    question = await bank_question(factory)
    assert (await add(factory.client, flow.interviewer, flow.id, question["id"])).status_code == 201
    for role in (Role.INTERVIEWER, Role.INTERVIEWEE):
        outsider = await factory.user(role)
        for response in await _every_route(factory, outsider, flow, question["id"]):
            assert_problem(response, 404, "SESSION_NOT_FOUND")
    assert len(await stored_rows(factory, flow.id)) == 1


async def test_admin_outside_the_session_gets_404_on_every_session_question_route(
    factory: Factory,
) -> None:
    # Admins may view a session, but acting in it is for its interviewer, as for start or end.
    flow = await accepted(factory)
    question = await bank_question(factory)
    admin = await factory.admin()
    for response in await _every_route(factory, admin, flow, question["id"]):
        assert_problem(response, 404, "SESSION_NOT_FOUND")


async def test_third_user_gets_404_even_once_the_session_is_over(factory: Factory) -> None:
    flow = await completed(factory)
    question = await bank_question(factory)
    outsider = await factory.interviewer()
    for response in await _every_route(factory, outsider, flow, question["id"]):
        assert_problem(response, 404, "SESSION_NOT_FOUND")


async def test_interviewee_gets_403_on_every_session_question_route(factory: Factory) -> None:
    flow = await accepted(factory)
    question = await bank_question(factory)
    assert (await add(factory.client, flow.interviewer, flow.id, question["id"])).status_code == 201
    for response in await _every_route(factory, flow.interviewee, flow, question["id"]):
        assert_problem(response, 403, "NOT_SESSION_INTERVIEWER")
    assert len(await stored_rows(factory, flow.id)) == 1
