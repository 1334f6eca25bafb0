"""Random sequences of API operations keep the analytics rollups equal to a recount.

A Hypothesis state machine drives requests and sessions of several people through the API
(create, accept and cancel requests; start, extend, end and cancel sessions; feedback), moves
the clock and sweeps. After every step the rollup tables (and each request's stored wait)
equal a recount of the rows from scratch (tests/analytics/recount.py), and the platform's
answer equals the old whole-table SQL (tests/analytics/oracle.py) on the same data, its
sessions by week adding up to its sessions; other steps compare a period's answer (the same
checks), a person's own answer, and rebuild the rollups (which must then still equal the
recount). The clock moves in steps of 30 seconds, so the oracle's floating-point durations
are exact to the cent too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
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

from peerview.analytics.rebuild import rebuild
from peerview.clock import FakeClock
from peerview.config import Settings
from peerview.main import create_app
from peerview.models.enums import Role
from tests.analytics import oracle, recount
from tests.factories import Factory, TestUser
from tests.lifecycle.support import rules_of, sweep
from tests.support.loop_thread import LoopThread

INTERVIEWEES, INTERVIEWERS = 3, 3
CATEGORIES = ("arrays", "graphs", "system-design")
# Ahead of now: under 5 h the request is refused (SCHEDULE_TOO_SOON), the rest are accepted.
LEADS = [timedelta(hours=h) for h in (4, 5.5, 6, 7, 26, 50, 24 * 9)]
# Multiples of 30 seconds only (see above).
ADVANCES = [timedelta(seconds=s) for s in (30, 90, 600, 1800, 3600, 4 * 3600, 86_400, 3 * 86_400)]
BOUNDS = st.one_of(
    st.none(),
    st.tuples(st.sampled_from(["now", "midnight"]), st.integers(-4 * 86_400, 86_400)),
)


# A session: its id, interviewer, interviewee and scheduled time.
Session = tuple[str, TestUser, TestUser, datetime]


@dataclass
class Env:
    runner: LoopThread
    factory: Factory
    interviewees: list[TestUser]
    interviewers: list[TestUser]
    admin: TestUser


async def open_env(runner: LoopThread, app_settings: Settings) -> Env:
    clock = FakeClock()
    app = create_app(app_settings, clock)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
    factory = Factory(app=app, client=client, clock=clock)
    return Env(
        runner=runner,
        factory=factory,
        interviewees=[await factory.interviewee() for _ in range(INTERVIEWEES)],
        interviewers=[await factory.interviewer() for _ in range(INTERVIEWERS)],
        admin=await factory.user(Role.ADMIN),
    )


async def close_env(env: Env) -> None:
    app = env.factory.app
    await env.factory.client.aclose()
    app.services.passwords.close()
    await app.services.database.close()


def _bound(now: datetime, drawn: tuple[str, int] | None) -> datetime | None:
    if drawn is None:
        return None
    anchor, seconds = drawn
    if anchor == "midnight":
        # Whole days: a bound exactly at midnight (the rollups alone) or days around it.
        day = now.astimezone(UTC).date() + timedelta(days=seconds // 86_400)
        return datetime(day.year, day.month, day.day, tzinfo=UTC)
    return now + timedelta(seconds=seconds)


def weeks_add_up(platform: dict[str, Any]) -> None:
    """The sessions by week partition the period's sessions: each week's outcomes add up to
    its `sessions`, and the weeks' outcomes to the period's; weeks are listed once, in order,
    and only with sessions."""
    weekly, totals = platform["sessions_weekly"], platform["sessions"]
    starts = [week["week_start"] for week in weekly]
    assert starts == sorted(set(starts)), starts
    for week in weekly:
        assert date.fromisoformat(week["week_start"]).weekday() == 0, week
        assert week["sessions"] == sum(week[name] for name in totals) > 0, week
    assert {name: sum(week[name] for week in weekly) for name in totals} == totals


def machine_for(env: Env) -> type[RuleBasedStateMachine]:
    factory = env.factory
    run = env.runner.run
    app = factory.app

    class AnalyticsRollups(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.requests: list[tuple[str, TestUser]] = []
            self.sessions: list[Session] = []
            self.started: list[Session] = []

        @initialize()
        def later(self) -> None:
            # Each example starts a few days after the last: new days and weeks, with the
            # previous examples' rows still there.
            factory.clock.advance(days=2, hours=7)

        def post(self, user: TestUser, path: str, body: Any = None) -> httpx.Response:
            response = run(factory.client.post(path, json=body, headers=user.headers))
            assert response.status_code < 500, response.text
            return response

        @rule(
            who=st.integers(0, INTERVIEWEES - 1),
            posts=st.lists(
                st.tuples(st.sampled_from(LEADS), st.sampled_from(CATEGORIES)),
                min_size=1,
                max_size=3,
            ),
        )
        def create(self, who: int, posts: list[tuple[timedelta, str]]) -> None:
            user = env.interviewees[who]
            for lead, category in posts:
                body = {
                    "category": category,
                    "difficulty": "MEDIUM",
                    "type": "CODING",
                    "scheduled_at": (factory.clock.now() + lead).isoformat(),
                    "duration_minutes": 30,
                }
                response = self.post(user, "/api/interview-requests", body)
                if response.status_code == 201:
                    self.requests.append((response.json()["id"], user))

        @precondition(lambda self: self.requests)
        @rule(
            who=st.integers(0, INTERVIEWERS - 1),
            which=st.integers(0, 10**6),
            wait=st.sampled_from([0, 30, 300, 2850, 7200]),
        )
        def accept(self, who: int, which: int, wait: int) -> None:
            interviewer = env.interviewers[who]
            factory.clock.advance(seconds=wait)
            # Up to three requests from `which` on, until one is accepted.
            for n in range(which, which + 3):
                request_id, owner = self.requests[n % len(self.requests)]
                response = self.post(interviewer, f"/api/interview-requests/{request_id}/accept")
                if response.status_code == 201:
                    session = response.json()
                    scheduled_at = datetime.fromisoformat(session["scheduled_at"])
                    self.sessions.append((session["id"], interviewer, owner, scheduled_at))
                    return

        @precondition(lambda self: self.requests)
        @rule(which=st.integers(0, 10**6))
        def cancel_request(self, which: int) -> None:
            request_id, owner = self.requests[which % len(self.requests)]
            self.post(owner, f"/api/interview-requests/{request_id}/cancel")

        @precondition(lambda self: self.sessions)
        @rule(
            action=st.sampled_from(["start", "extend", "end", "cancel"]),
            by_interviewee=st.booleans(),
            which=st.integers(0, 10**6),
        )
        def act(self, action: str, by_interviewee: bool, which: int) -> None:
            session_id, interviewer, interviewee, _ = self.sessions[which % len(self.sessions)]
            user = interviewee if by_interviewee and action == "cancel" else interviewer
            body = {"minutes": 10} if action == "extend" else {} if action == "cancel" else None
            self.post(user, f"/api/interview-sessions/{session_id}/{action}", body)

        @precondition(lambda self: any(s[3] > factory.clock.now() for s in self.sessions))
        @rule(which=st.integers(0, 10**6), late=st.sampled_from([-10, -1, 0, 5, 29]))
        def meet(self, which: int, late: int) -> None:
            """Go to an upcoming session's time (give or take) and start it."""
            now = factory.clock.now()
            upcoming = [s for s in self.sessions if s[3] > now]
            session = upcoming[which % len(upcoming)]
            factory.clock.set(session[3] + timedelta(minutes=late))
            if self.post(session[1], f"/api/interview-sessions/{session[0]}/start").is_success:
                self.started.append(session)

        @precondition(lambda self: self.started)
        @rule(which=st.integers(0, 10**6), minutes=st.sampled_from([0.5, 20, 45, 90]))
        def finish(self, which: int, minutes: float) -> None:
            """Let a started session run a while, then end it (it may have timed out)."""
            session = self.started[which % len(self.started)]
            factory.clock.advance(minutes=minutes)
            self.post(session[1], f"/api/interview-sessions/{session[0]}/end")

        @precondition(lambda self: self.sessions)
        @rule(
            by_interviewee=st.booleans(),
            which=st.integers(0, 10**6),
            ratings=st.tuples(*[st.integers(1, 5)] * 4),
        )
        def feedback(
            self, by_interviewee: bool, which: int, ratings: tuple[int, int, int, int]
        ) -> None:
            among = self.started or self.sessions
            session_id, interviewer, interviewee, _ = among[which % len(among)]
            names = ("communication", "problem_solving", "technical", "overall")
            body = {"session_id": session_id, "ratings": dict(zip(names, ratings, strict=True))}
            self.post(interviewee if by_interviewee else interviewer, "/api/feedback", body)

        @rule(step=st.sampled_from(ADVANCES))
        def advance(self, step: timedelta) -> None:
            factory.clock.advance(seconds=step.total_seconds())

        @rule()
        def sweeper_runs(self) -> None:
            run(sweep(app, factory.clock))

        @rule()
        def rollups_rebuilt(self) -> None:
            async def rebuilt() -> None:
                async with app.services.database.transaction() as db:
                    await rebuild(db)

            run(rebuilt())

        @rule(start=BOUNDS, end=BOUNDS)
        def platform_of_a_period(
            self, start: tuple[str, int] | None, end: tuple[str, int] | None
        ) -> None:
            self.compare_platform(start, end)

        @rule(
            who=st.sampled_from(["interviewee", "interviewer", "admin"]),
            index=st.integers(0, 2),
            start=BOUNDS,
            end=BOUNDS,
        )
        def mine(
            self,
            who: str,
            index: int,
            start: tuple[str, int] | None,
            end: tuple[str, int] | None,
        ) -> None:
            user = {
                "interviewee": env.interviewees[index],
                "interviewer": env.interviewers[index],
                "admin": env.admin,
            }[who]
            since, until = self.period(start, end)
            params = {name: v.isoformat() for name, v in (("from", since), ("to", until)) if v}
            response = run(
                factory.client.get("/api/analytics/me", params=params, headers=user.headers)
            )
            assert response.status_code == 200, response.text

            async def old() -> dict[str, Any]:
                async with app.services.database.transaction(write=False) as db:
                    return await oracle.mine(
                        db,
                        user_id=user.id,
                        is_admin=user.role is Role.ADMIN,
                        now=factory.clock.now(),
                        rules=rules_of(app),
                        start=since,
                        end=until,
                    )

            assert response.json() == run(old())

        def period(
            self, start: tuple[str, int] | None, end: tuple[str, int] | None
        ) -> tuple[datetime | None, datetime | None]:
            now = factory.clock.now()
            since, until = _bound(now, start), _bound(now, end)
            if since is not None and until is not None and since > until:
                since, until = until, since
            return since, until

        def compare_platform(
            self, start: tuple[str, int] | None, end: tuple[str, int] | None
        ) -> None:
            since, until = self.period(start, end)
            params = {name: v.isoformat() for name, v in (("from", since), ("to", until)) if v}
            response = run(
                factory.client.get(
                    "/api/analytics/platform", params=params, headers=env.admin.headers
                )
            )
            assert response.status_code == 200, response.text
            weeks_add_up(response.json())

            async def old() -> dict[str, Any]:
                async with app.services.database.transaction(write=False) as db:
                    return await oracle.platform(
                        db, now=factory.clock.now(), rules=rules_of(app), start=since, end=until
                    )

            assert response.json() == run(old()), (since, until)

        @invariant()
        def rollups_equal_a_recount(self) -> None:
            async def check() -> None:
                async with app.services.database.transaction(write=False) as db:
                    await recount.check(db)

            run(check())

        @invariant()
        def platform_equals_the_whole_table_sql(self) -> None:
            self.compare_platform(None, None)

    return AnalyticsRollups


def test_random_operations_keep_the_rollups_equal_to_a_recount(settings: Settings) -> None:
    runner = LoopThread()
    try:
        env = runner.run(open_env(runner, settings))
        try:
            run_state_machine_as_test(
                machine_for(env),
                settings=hypothesis_settings(
                    max_examples=20,
                    stateful_step_count=50,
                    deadline=None,
                    database=None,
                    suppress_health_check=[HealthCheck.too_slow],
                ),
            )
        finally:
            runner.run(close_env(env))
    finally:
        runner.close()
