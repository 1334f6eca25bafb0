"""The double-blind rule on its own, without a database (docs/api.md §7)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from peerview.feedback.service import REVEAL_AFTER, is_revealed

ENDED_AT = datetime(2030, 1, 7, 10, 0, tzinfo=UTC)


def revealed(
    *, now: datetime, ended_at: datetime | None = ENDED_AT, who: str | None = None
) -> bool:
    return is_revealed(
        viewer_is_admin=who == "viewer_is_admin",
        viewer_is_author=who == "viewer_is_author",
        viewer_has_authored=who == "viewer_has_authored",
        ended_at=ended_at,
        now=now,
    )


def test_the_seal_lasts_72_hours() -> None:
    assert timedelta(hours=72) == REVEAL_AFTER


def test_sealed_before_72_hours_without_own_feedback() -> None:
    assert not revealed(now=ENDED_AT + REVEAL_AFTER - timedelta(microseconds=1))


def test_revealed_at_exactly_72_hours() -> None:
    assert revealed(now=ENDED_AT + REVEAL_AFTER)


@pytest.mark.parametrize("who", ["viewer_is_admin", "viewer_is_author", "viewer_has_authored"])
def test_admins_authors_and_those_who_gave_their_own_see_it_at_once(who: str) -> None:
    assert revealed(now=ENDED_AT, who=who)


def test_without_an_end_the_clock_never_reveals() -> None:
    assert not revealed(now=ENDED_AT + timedelta(days=365), ended_at=None)


async def test_openapi_documents_the_feedback_item_union(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    for path in ("/api/feedback/received", "/api/feedback/session/{session_id}"):
        ok = schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
        assert ok["schema"] == {"$ref": "#/components/schemas/FeedbackPage"}
    items = schema["components"]["schemas"]["FeedbackPage"]["properties"]["items"]["items"]
    assert items == {
        "anyOf": [
            {"$ref": "#/components/schemas/FeedbackRead"},
            {"$ref": "#/components/schemas/SealedFeedback"},
        ]
    }
    sealed = schema["components"]["schemas"]["SealedFeedback"]
    assert set(sealed["required"]) == {"id", "author_role", "hidden"}
