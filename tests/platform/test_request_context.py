"""The request context's transaction: a writer's on PostgreSQL opens with the token check, which
locks the user's row (one user's writes run one at a time, as all writers do on SQLite); a
reader's token check and a SQLite writer's run before any transaction or write lock. An
admin's change of a user locks the active admins' rows instead, in one order."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from peerview.users import repository as users
from tests.factories import Factory
from tests.support.statements import counting_statements

URL = "/api/interview-requests"


def _request(factory: Factory, hours: int = 24) -> dict[str, Any]:
    return {
        "category": "arrays",
        "difficulty": "MEDIUM",
        "scheduled_at": (factory.clock.now() + timedelta(hours=hours)).isoformat(),
    }


async def test_a_writers_token_check_opens_its_transaction_on_postgresql_only(
    factory: Factory,
) -> None:
    user = await factory.interviewee()
    with counting_statements(factory.app) as statements:
        response = await factory.client.post(URL, json=_request(factory), headers=user.headers)
    assert response.status_code == 201, response.text
    first, second = statements[0], statements[1]
    if factory.app.services.database.dialect == "postgresql":
        assert first == "BEGIN"
        assert second.startswith("SELECT users.id")
        assert "FOR NO KEY UPDATE OF users" in second
    else:
        assert first.startswith("SELECT users.id")
        assert "FOR" not in first
        assert second == "BEGIN IMMEDIATE"


async def test_a_readers_token_check_locks_nothing(factory: Factory) -> None:
    user = await factory.interviewer()
    with counting_statements(factory.app) as statements:
        response = await factory.client.get(f"{URL}/open", headers=user.headers)
    assert response.status_code == 200, response.text
    assert statements[0].startswith("SELECT users.id")
    assert not [s for s in statements if " FOR " in s]


async def test_one_users_writes_wait_for_each_other_and_reads_never_wait(
    factory: Factory,
) -> None:
    """While a write of one user holds its transaction open, another write of theirs waits
    for it and a read of theirs does not. Another user's write waits too on SQLite (its one
    write lock), not on PostgreSQL (a row per user)."""
    user, other = await factory.interviewee(), await factory.interviewee()
    database = factory.app.services.database
    holding, release = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with database.transaction() as db:
            # What a writer of `user` holds from its first statement: its token check's lock.
            assert await users.token_holder(db, user_id=user.id, jti="-", lock=True)
            holding.set()
            await release.wait()

    holder = asyncio.create_task(hold())
    await holding.wait()
    mine = asyncio.create_task(
        factory.client.post(URL, json=_request(factory), headers=user.headers)
    )
    theirs = asyncio.create_task(
        factory.client.post(URL, json=_request(factory), headers=other.headers)
    )
    read = await factory.client.get(f"{URL}/mine", headers=user.headers)
    assert read.status_code == 200
    await asyncio.sleep(0.2)
    assert not mine.done(), "the user's write did not wait for their earlier one"
    if database.dialect == "postgresql":
        assert theirs.done()
        assert theirs.result().status_code == 201
    else:
        assert not theirs.done()
    release.set()
    await holder
    assert (await mine).status_code == 201
    assert (await theirs).status_code == 201


async def test_an_admins_change_of_a_user_locks_every_active_admin_in_order_instead(
    factory: Factory,
) -> None:
    # The one writer whose token check locks nothing (docs/api.md §3.2, users.service): its
    # transaction opens with the rows of all active admins, the caller's among them, locked in
    # the order of their ids.
    admin, user = await factory.admin(), await factory.interviewee()
    with counting_statements(factory.app) as statements:
        response = await factory.client.patch(
            f"/api/users/{user.id}", json={"role": "INTERVIEWER"}, headers=admin.headers
        )
    assert response.status_code == 200, response.text
    check, begin, admins = statements[0], statements[1], statements[2]
    assert check.startswith("SELECT users.id")
    assert " FOR " not in check
    assert admins.startswith("SELECT users.id")
    assert "ORDER BY users.id" in admins
    if factory.app.services.database.dialect == "postgresql":
        assert begin == "BEGIN"
        assert admins.endswith("FOR NO KEY UPDATE")
    else:
        assert begin == "BEGIN IMMEDIATE"
