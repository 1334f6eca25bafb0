"""GET /api/interview-sessions/{id}/calendar.ics: an RFC 5545 event that follows the session."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from peerview.interview_sessions import calendar
from peerview.models.enums import Role
from tests import factories
from tests.factories import Factory
from tests.flow import Flow, accepted, live
from tests.lifecycle.support import sweep
from tests.platform.apps import assert_problem


async def fetch(factory: Factory, flow: Flow, user: factories.TestUser) -> httpx.Response:
    return await factory.client.get(
        f"/api/interview-sessions/{flow.id}/calendar.ics", headers=user.headers
    )


def unfold(text: str) -> list[str]:
    """Content lines of an iCalendar text (RFC 5545 §3.1), after checking its line breaks."""
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", ""), "every line must end in CRLF"
    for physical in text.split("\r\n")[:-1]:
        assert len(physical.encode()) <= 75, physical
    return text.replace("\r\n ", "").split("\r\n")[:-1]


def props(lines: list[str]) -> dict[str, str]:
    """Properties of the (single) VEVENT."""
    start, end = lines.index("BEGIN:VEVENT"), lines.index("END:VEVENT")
    out: dict[str, str] = {}
    for line in lines[start + 1 : end]:
        name, _, value = line.partition(":")
        out[name] = value
    return out


def utc(value: str) -> datetime:
    assert value.endswith("Z"), value
    return datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


async def event_of(factory: Factory, flow: Flow, user: factories.TestUser) -> dict[str, str]:
    response = await fetch(factory, flow, user)
    assert response.status_code == 200, response.text
    return props(unfold(response.text))


async def test_calendar_is_an_rfc5545_event(factory: Factory) -> None:
    flow = await accepted(factory, duration_minutes=45)
    response = await fetch(factory, flow, flow.interviewee)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/calendar")
    lines = unfold(response.text)
    assert lines[0] == "BEGIN:VCALENDAR"
    assert lines[-1] == "END:VCALENDAR"
    assert "VERSION:2.0" in lines
    assert any(line.startswith("PRODID:") for line in lines)
    assert lines.count("BEGIN:VEVENT") == lines.count("END:VEVENT") == 1
    event = props(lines)
    # The same UID as the .ics mailed with reminders: one event to a calendar.
    assert event["UID"] == f"{flow.id}@{calendar.UID_DOMAIN}"
    assert utc(event["DTSTAMP"]) == factory.clock.now()
    assert utc(event["DTSTART"]) == flow.scheduled_at
    assert utc(event["DTEND"]) == flow.scheduled_at + timedelta(minutes=45)
    assert event["SUMMARY"]
    assert event["STATUS"] == "CONFIRMED"
    assert int(event["SEQUENCE"]) >= 0


async def test_calendar_is_the_same_event_for_both_participants(factory: Factory) -> None:
    flow = await accepted(factory)
    mine = await event_of(factory, flow, flow.interviewer)
    theirs = await event_of(factory, flow, flow.interviewee)
    assert mine == theirs


async def test_calendar_sequence_grows_with_each_change(factory: Factory) -> None:
    flow = await accepted(factory)
    sequences = [int((await event_of(factory, flow, flow.interviewer))["SEQUENCE"])]
    factory.clock.set(flow.scheduled_at)
    for action, body in (("start", None), ("extend", {"minutes": 10}), ("end", None)):
        r = await factory.client.post(
            f"/api/interview-sessions/{flow.id}/{action}",
            json=body,
            headers=flow.interviewer.headers,
        )
        assert r.status_code == 200, r.text
        sequences.append(int((await event_of(factory, flow, flow.interviewer))["SEQUENCE"]))
    assert sequences == sorted(set(sequences)), sequences


async def test_calendar_of_live_session_follows_its_extended_end(factory: Factory) -> None:
    flow = await live(factory)
    r = await factory.client.post(
        f"/api/interview-sessions/{flow.id}/extend",
        json={"minutes": 15},
        headers=flow.interviewer.headers,
    )
    event = await event_of(factory, flow, flow.interviewee)
    assert utc(event["DTSTART"]) == datetime.fromisoformat(r.json()["started_at"])
    assert utc(event["DTEND"]) == datetime.fromisoformat(r.json()["planned_end_at"])


async def test_calendar_of_cancelled_session_says_cancelled(factory: Factory) -> None:
    flow = await accepted(factory)
    before = await event_of(factory, flow, flow.interviewee)
    r = await factory.client.post(
        f"/api/interview-sessions/{flow.id}/cancel", headers=flow.interviewee.headers
    )
    assert r.status_code == 200, r.text
    event = await event_of(factory, flow, flow.interviewee)
    assert event["STATUS"] == "CANCELLED"
    assert event["UID"] == before["UID"]
    assert int(event["SEQUENCE"]) > int(before["SEQUENCE"])


async def test_calendar_of_cancelled_session_keeps_its_slot(factory: Factory) -> None:
    # RFC 5545 §3.8.2.2: DTEND must be later than DTSTART; a cancelled event keeps its time.
    flow = await accepted(factory, duration_minutes=30)
    await factory.client.post(
        f"/api/interview-sessions/{flow.id}/cancel", headers=flow.interviewer.headers
    )
    event = await event_of(factory, flow, flow.interviewer)
    assert utc(event["DTSTART"]) == flow.scheduled_at
    assert utc(event["DTEND"]) == flow.scheduled_at + timedelta(minutes=30)


async def test_calendar_end_is_after_start_even_for_an_instant_session(factory: Factory) -> None:
    flow = await live(factory)
    r = await factory.client.post(
        f"/api/interview-sessions/{flow.id}/end", headers=flow.interviewer.headers
    )
    assert r.status_code == 200, r.text
    event = await event_of(factory, flow, flow.interviewer)
    assert utc(event["DTEND"]) > utc(event["DTSTART"])


async def test_calendar_of_no_show_by_time_says_cancelled_with_a_new_sequence(
    factory: Factory,
) -> None:
    flow = await accepted(factory)
    before = await event_of(factory, flow, flow.interviewer)
    no_show = timedelta(minutes=factory.app.services.settings.no_show_minutes)
    factory.clock.set(flow.scheduled_at + no_show)
    unswept = await event_of(factory, flow, flow.interviewer)
    assert unswept["STATUS"] == "CANCELLED"
    # A calendar that already holds the CONFIRMED copy only takes a higher SEQUENCE.
    assert int(unswept["SEQUENCE"]) > int(before["SEQUENCE"])
    await sweep(factory.app, factory.clock)
    swept = await event_of(factory, flow, flow.interviewer)
    assert swept["SEQUENCE"] == unswept["SEQUENCE"]
    assert swept["STATUS"] == "CANCELLED"


async def test_calendar_text_values_are_escaped(factory: Factory) -> None:
    flow = await accepted(factory, category="graphs, trees; heaps")
    event = await event_of(factory, flow, flow.interviewer)
    assert "graphs\\, trees\\; heaps" in event["SUMMARY"]


@pytest.mark.parametrize("role", [Role.INTERVIEWER, Role.INTERVIEWEE])
async def test_calendar_for_a_third_user_is_404(factory: Factory, role: Role) -> None:
    flow = await accepted(factory)
    assert_problem(await fetch(factory, flow, await factory.user(role)), 404, "SESSION_NOT_FOUND")
