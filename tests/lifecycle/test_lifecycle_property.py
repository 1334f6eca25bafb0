"""Random sequences of actions, actors and clock moves never break the session lifecycle.

A Hypothesis state machine drives one session per example through the API: start, extend,
end, cancel and join by any of five actors, clock advances and sweeps. After every step:
no 500, every answer is the one docs/api.md §5 gives for the state the session was in, the status
moved only along lifecycle.ALLOWED_MOVES, and the read equals lifecycle.session_at applied
to the stored row. Hypothesis runs synchronously, so the app lives on an event loop in a
thread of its own and each step hands it a coroutine.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from peerview.clock import FakeClock
from peerview.config import Settings
from peerview.interview_sessions.lifecycle import ALLOWED_MOVES, MAX_EXTENSION_MINUTES
from peerview.main import create_app
from peerview.models.enums import SessionStatus
from tests import factories
from tests.factories import Factory
from tests.flow import accepted
from tests.lifecycle.support import expected_read, rules_of, session_row, sweep
from tests.support.loop_thread import LoopThread

STRANGERS = ("other_interviewer", "other_interviewee", "admin")
# The interviewer drives most of the lifecycle: draw them more often than the others.
ACTOR_DRAWS = st.sampled_from(("interviewer",) * 4 + ("interviewee",) * 2 + STRANGERS)


@dataclass
class Env:
    runner: LoopThread
    factory: Factory
    users: dict[str, factories.TestUser]


async def open_env(runner: LoopThread, app_settings: Settings) -> Env:
    clock = FakeClock()
    app = create_app(app_settings, clock)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
    factory = Factory(app=app, client=client, clock=clock)
    users = {
        "interviewer": await factory.interviewer(),
        "interviewee": await factory.interviewee(),
        "other_interviewer": await factory.interviewer(),
        "other_interviewee": await factory.interviewee(),
        "admin": await factory.admin(),
    }
    return Env(runner=runner, factory=factory, users=users)


async def close_env(env: Env) -> None:
    app = env.factory.app
    await env.factory.client.aclose()
    app.services.passwords.close()
    await app.services.database.close()


def expected_answer(
    action: str, actor: str, status: str, *, now: datetime, session: dict[str, Any], minutes: int
) -> tuple[int, str | None]:
    """What docs/api.md §5 answers to `actor` doing `action` on a session that is `status` now."""
    if action == "extend" and not 1 <= minutes <= 60:
        return 422, "VALIDATION_ERROR"  # input is checked before visibility
    if actor in STRANGERS:
        return 404, "SESSION_NOT_FOUND"
    if actor == "interviewee" and action in ("start", "extend", "end"):
        return 403, "NOT_SESSION_INTERVIEWER"
    needs = {
        "start": {"SCHEDULED"},
        "extend": {"LIVE"},
        "end": {"LIVE"},
        "cancel": {"SCHEDULED"},
        "join": {"SCHEDULED", "LIVE"},
    }[action]
    if status not in needs:
        return 409, "INVALID_SESSION_STATE"
    if action == "start":
        early = timedelta(minutes=15)
        if now < datetime.fromisoformat(session["scheduled_at"]) - early:
            return 409, "TOO_EARLY"
    if action == "extend" and session["extended_minutes"] + minutes > MAX_EXTENSION_MINUTES:
        return 409, "EXTENSION_LIMIT"
    return 200, None


def machine_for(env: Env) -> type[RuleBasedStateMachine]:
    factory = env.factory
    run = env.runner.run

    class SessionLifecycle(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.session_id = ""
            self.last: dict[str, Any] = {}
            self.history: list[str] = []

        @initialize(
            duration=st.sampled_from([15, 30, 60]),
            lead=st.sampled_from([0, 10, 16]),
        )
        def book(self, duration: int, lead: int) -> None:
            # Each example moves the clock well past the last one's sessions.
            factory.clock.advance(days=3)
            flow = run(
                accepted(
                    factory,
                    interviewer=env.users["interviewer"],
                    interviewee=env.users["interviewee"],
                    duration_minutes=duration,
                )
            )
            self.session_id = flow.id
            factory.clock.set(flow.scheduled_at - timedelta(minutes=lead))
            self.last = self.read()
            self.history = [self.last["status"]]

        def read(self) -> dict[str, Any]:
            response = run(
                factory.client.get(
                    f"/api/interview-sessions/{self.session_id}",
                    headers=env.users["admin"].headers,
                )
            )
            assert response.status_code == 200, response.text
            body: dict[str, Any] = response.json()
            return body

        def act(self, action: str, actor: str, minutes: int = 5) -> None:
            before = self.last  # read by the invariant after the previous step, at this time
            expected = expected_answer(
                action,
                actor,
                before["status"],
                now=factory.clock.now(),
                session=before,
                minutes=minutes,
            )
            response = run(
                factory.client.post(
                    f"/api/interview-sessions/{self.session_id}/{action}",
                    json={"minutes": minutes} if action == "extend" else None,
                    headers=env.users[actor].headers,
                )
            )
            assert response.status_code < 500, response.text
            code = response.json().get("code") if response.status_code >= 400 else None
            assert (response.status_code, code) == expected, (action, actor, before, response.text)

        @precondition(lambda self: self.session_id)
        @rule(actor=ACTOR_DRAWS)
        def start(self, actor: str) -> None:
            self.act("start", actor)

        @precondition(lambda self: self.session_id)
        @rule(actor=ACTOR_DRAWS, minutes=st.sampled_from([-1, 0, 1, 10, 30, 59, 60, 61]))
        def extend(self, actor: str, minutes: int) -> None:
            self.act("extend", actor, minutes)

        @precondition(lambda self: self.session_id)
        @rule(actor=ACTOR_DRAWS)
        def end(self, actor: str) -> None:
            self.act("end", actor)

        @precondition(lambda self: self.session_id)
        @rule(actor=ACTOR_DRAWS)
        def cancel(self, actor: str) -> None:
            self.act("cancel", actor)

        @precondition(lambda self: self.session_id)
        @rule(actor=ACTOR_DRAWS)
        def join(self, actor: str) -> None:
            self.act("join", actor)

        # The interviewer's own moves where they matter, so runs get deep into LIVE.
        @precondition(lambda self: self.last.get("status") == "SCHEDULED")
        @rule()
        def interviewer_starts(self) -> None:
            self.act("start", "interviewer")

        @precondition(lambda self: self.last.get("status") == "LIVE")
        @rule(minutes=st.integers(1, 60))
        def interviewer_extends(self, minutes: int) -> None:
            self.act("extend", "interviewer", minutes)

        @precondition(lambda self: self.session_id)
        @rule(minutes=st.sampled_from([1, 5, 10, 14, 16, 29, 31, 60]))
        def advance(self, minutes: int) -> None:
            factory.clock.advance(minutes=minutes)

        @precondition(lambda self: self.session_id)
        @rule()
        def sweep(self) -> None:
            result = run(sweep(factory.app, factory.clock))
            mine = [r for r in result.auto_timed_out + result.no_shows if r.id == self.session_id]
            assert len(mine) <= 1
            row = run(session_row(factory.app, self.session_id))
            assert row["status"] == self.read()["status"]  # the sweep only persisted the read

        @invariant()
        def moves_are_allowed_and_reads_match_the_row(self) -> None:
            if not self.session_id:
                return
            now = self.read()
            previous, current = SessionStatus(self.last["status"]), SessionStatus(now["status"])
            assert previous == current or (previous, current) in ALLOWED_MOVES, self.history
            if previous == current and current in (
                SessionStatus.COMPLETED,
                SessionStatus.CANCELLED,
            ):
                assert now == self.last  # a finished session never changes again
            row = run(session_row(factory.app, self.session_id))
            status, ended_at, end_reason = expected_read(
                row, factory.clock.now(), rules_of(factory.app)
            )
            assert now["status"] == status
            assert (
                datetime.fromisoformat(now["ended_at"]) if now["ended_at"] else None
            ) == ended_at
            assert now["end_reason"] == (end_reason.value if end_reason else None)
            assert now["extended_minutes"] <= MAX_EXTENSION_MINUTES
            if now["status"] != self.history[-1]:
                self.history.append(now["status"])
            self.last = now

    return SessionLifecycle


def test_random_lifecycles_stay_within_the_allowed_moves(settings: Settings) -> None:
    runner = LoopThread()
    try:
        env = runner.run(open_env(runner, settings))
        try:
            run_state_machine_as_test(
                machine_for(env),
                settings=settings_for_machine(),
            )
        finally:
            runner.run(close_env(env))
    finally:
        runner.close()


def settings_for_machine() -> hypothesis_settings:
    return hypothesis_settings(
        max_examples=25,
        stateful_step_count=20,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
