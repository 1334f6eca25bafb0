"""Every figure of both analytics answers, checked against a history built through the API.

The history (sweeper off, so every time-made transition is read-time truth only):

    requests created Mon 7 Jan 09:00 (C: r1 r3 r5 r7 r9; D: r2 r4 r6 r8 r10); E's r11 on the 14th
    s1  A-C arrays         Tue 8  09:00  ended by A at 09:45; feedback A→C and C→A
    s2  A-D graphs         Tue 8  12:00  never ended: AUTO_TIMEOUT at 13:30; feedback A→D
    s3  B-C arrays         Wed 9  09:00  never started: NO_SHOW
    s4  B-D graphs         Wed 9  12:00  cancelled by D
    s10 A-D arrays         Sun 13 08:00  ended by A at 08:30; feedback D→A (sealed for A)
    s5  A-C system-design  Mon 14 09:45  LIVE at the reading time, Mon 14 10:00
    s6  B-D arrays         Tue 22 09:00  SCHEDULED
    r7 cancelled by C, r8 expired by time, r9 and r11 open

Sessions are created when their request is accepted: all of them on Mon 7 Jan, from T0 + 10 min.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from peerview.models.enums import Role
from tests.analytics.support import Driver, at
from tests.factories import Factory, TestUser

READ_AT = at(14, 10)


@dataclass
class History:
    a: TestUser
    b: TestUser
    c: TestUser
    d: TestUser
    e: TestUser
    admin: TestUser
    sessions: dict[str, str]
    requests: dict[str, str]


@pytest.fixture
async def history(factory: Factory) -> History:
    factory.clock.set(at(7, 9))
    a, b = await factory.interviewer(), await factory.interviewer()
    c, d, e = await factory.interviewee(), await factory.interviewee(), await factory.interviewee()
    admin = await factory.user(Role.ADMIN)
    drive = Driver(factory)
    t0 = at(7, 9)
    plan = {
        "r1": (c, at(8, 9), "arrays"),
        "r3": (c, at(9, 9), "arrays"),
        "r5": (c, at(14, 9, 45), "system-design"),
        "r7": (c, at(20, 9), "arrays"),
        "r9": (c, at(31, 9), "arrays"),
        "r2": (d, at(8, 12), "graphs"),
        "r4": (d, at(9, 12), "graphs"),
        "r6": (d, at(22, 9), "arrays"),
        "r8": (d, at(8, 8), "arrays"),
        "r10": (d, at(13, 8), "arrays"),
    }
    r = {
        name: await drive.request(t0, owner, scheduled_at=when, category=category)
        for name, (owner, when, category) in plan.items()
    }
    # Minutes from creation to acceptance: 10, 20, 30, 40, 45, 50, 60 → median 40.
    s: dict[str, str] = {}
    for name, interviewer, minutes in (
        ("1", a, 10),
        ("4", b, 20),
        ("2", a, 30),
        ("5", a, 40),
        ("10", a, 45),
        ("6", b, 50),
        ("3", b, 60),
    ):
        s[f"s{name}"] = await drive.accept(
            t0 + timedelta(minutes=minutes), interviewer, r[f"r{name}"]
        )
    await drive.cancel_request(t0 + timedelta(minutes=70), c, r["r7"])
    await drive.session_action(at(8, 8, 30), d, s["s4"], "cancel")
    await drive.session_action(at(8, 9), a, s["s1"], "start")
    await drive.session_action(at(8, 9, 45), a, s["s1"], "end")
    await drive.feedback(at(8, 9, 50), a, s["s1"], (4, 3, 5, 4))
    await drive.feedback(at(8, 9, 55), c, s["s1"], (5, 4, 4, 5))
    await drive.session_action(at(8, 12), a, s["s2"], "start")
    # Past its hard end (13:30) the session is COMPLETED, so feedback is accepted.
    await drive.feedback(at(8, 14), a, s["s2"], (3, 3, 3, 3))
    await drive.session_action(at(13, 8), a, s["s10"], "start")
    await drive.session_action(at(13, 8, 30), a, s["s10"], "end")
    await drive.feedback(at(13, 8, 40), d, s["s10"], (2, 2, 2, 2))
    r["r11"] = await drive.request(at(14, 9), e, scheduled_at=at(31, 12), category="arrays")
    await drive.session_action(at(14, 9, 45), a, s["s5"], "start")
    factory.clock.set(READ_AT)
    return History(a=a, b=b, c=c, d=d, e=e, admin=admin, sessions=s, requests=r)


def _sessions(
    completed: int, cancelled: int, live: int, scheduled: int, as_ivr: int, as_ive: int
) -> dict[str, int]:
    return {
        "completed": completed,
        "cancelled": cancelled,
        "live": live,
        "scheduled": scheduled,
        "as_interviewer": as_ivr,
        "as_interviewee": as_ive,
        "practice": 0,
    }


def _ratings(c: float | None, p: float | None, t: float | None, o: float | None, n: int) -> Any:
    return {"communication": c, "problem_solving": p, "technical": t, "overall": o, "count": n}


NO_RATINGS = _ratings(None, None, None, None, 0)


def _outcomes(
    completed: int, auto_timeout: int, no_show: int, cancelled: int, live: int, scheduled: int
) -> dict[str, int]:
    return {
        "completed": completed,
        "auto_timeout": auto_timeout,
        "no_show": no_show,
        "cancelled": cancelled,
        "live": live,
        "scheduled": scheduled,
    }


def _week(
    week_start: str,
    completed: int,
    auto_timeout: int,
    no_show: int,
    cancelled: int,
    live: int,
    scheduled: int,
) -> dict[str, Any]:
    counts = _outcomes(completed, auto_timeout, no_show, cancelled, live, scheduled)
    return {"week_start": week_start, "sessions": sum(counts.values()), **counts}


async def _me(factory: Factory, user: TestUser) -> Any:
    return await Driver(factory).get(user, "/api/analytics/me")


async def test_my_analytics_as_an_interviewer_with_sealed_feedback(
    factory: Factory, history: History
) -> None:
    # D's feedback on s10 is sealed for A: A gave none and 72 h have not passed.
    assert await _me(factory, history.a) == {
        "sessions": _sessions(3, 0, 1, 0, 4, 0),
        "minutes_practised": 165.0,
        "ratings_received": _ratings(5.0, 4.0, 4.0, 5.0, 1),
        "by_category": [
            {"category": "arrays", "sessions": 2, "average_overall": 5.0},
            {"category": "graphs", "sessions": 1, "average_overall": None},
            {"category": "system-design", "sessions": 1, "average_overall": None},
        ],
        "weekly": [
            {"week_start": "2030-01-07", "sessions": 3, "average_overall": 5.0},
            {"week_start": "2030-01-14", "sessions": 1, "average_overall": None},
        ],
    }


async def test_my_analytics_as_the_other_interviewer(factory: Factory, history: History) -> None:
    assert await _me(factory, history.b) == {
        "sessions": _sessions(0, 2, 0, 1, 3, 0),
        "minutes_practised": 0.0,
        "ratings_received": NO_RATINGS,
        "by_category": [
            {"category": "arrays", "sessions": 2, "average_overall": None},
            {"category": "graphs", "sessions": 1, "average_overall": None},
        ],
        "weekly": [
            {"week_start": "2030-01-07", "sessions": 2, "average_overall": None},
            {"week_start": "2030-01-21", "sessions": 1, "average_overall": None},
        ],
    }


async def test_my_analytics_as_an_interviewee(factory: Factory, history: History) -> None:
    assert await _me(factory, history.c) == {
        "sessions": _sessions(1, 1, 1, 0, 0, 3),
        "minutes_practised": 45.0,
        "ratings_received": _ratings(4.0, 3.0, 5.0, 4.0, 1),
        "by_category": [
            {"category": "arrays", "sessions": 2, "average_overall": 4.0},
            {"category": "system-design", "sessions": 1, "average_overall": None},
        ],
        "weekly": [
            {"week_start": "2030-01-07", "sessions": 2, "average_overall": 4.0},
            {"week_start": "2030-01-14", "sessions": 1, "average_overall": None},
        ],
    }


async def test_my_analytics_count_a_timed_out_session_as_completed_at_its_hard_end(
    factory: Factory, history: History
) -> None:
    # s2: 12:00 to its hard end 13:30 is 90 minutes; s10 adds 30. A's feedback on s2 is
    # visible to D without D's own, because more than 72 h passed since 13:30 on the 8th.
    assert await _me(factory, history.d) == {
        "sessions": _sessions(2, 1, 0, 1, 0, 4),
        "minutes_practised": 120.0,
        "ratings_received": _ratings(3.0, 3.0, 3.0, 3.0, 1),
        "by_category": [
            {"category": "arrays", "sessions": 2, "average_overall": None},
            {"category": "graphs", "sessions": 2, "average_overall": 3.0},
        ],
        "weekly": [
            {"week_start": "2030-01-07", "sessions": 3, "average_overall": 3.0},
            {"week_start": "2030-01-21", "sessions": 1, "average_overall": None},
        ],
    }


async def test_my_analytics_of_someone_without_sessions_are_zeros_and_nulls(
    factory: Factory, history: History
) -> None:
    assert await _me(factory, history.e) == {
        "sessions": _sessions(0, 0, 0, 0, 0, 0),
        "minutes_practised": 0.0,
        "ratings_received": NO_RATINGS,
        "by_category": [],
        "weekly": [],
    }


async def test_platform_analytics_of_the_whole_history(factory: Factory, history: History) -> None:
    assert await Driver(factory).get(history.admin, "/api/analytics/platform") == {
        "funnel": {"created": 11, "accepted": 7, "expired": 1, "cancelled": 1, "open": 2},
        "median_minutes_to_accept": 40.0,
        "sessions": {
            "completed": 2,
            "auto_timeout": 1,
            "no_show": 1,
            "cancelled": 1,
            "live": 1,
            "scheduled": 1,
        },
        # arrays: 4 and 5 on s1, 2 on s10 → 11/3; sealed or not, admins count everything.
        "ratings_by_category": [
            {"category": "arrays", "count": 3, "average_overall": 3.67},
            {"category": "graphs", "count": 1, "average_overall": 3.0},
        ],
        # Week of the 7th: C and D posted, A, B, C, D met; the 14th: s5 (A, C) and E's
        # request; the 21st: s6 (B, D).
        "active_users_weekly": [
            {"week_start": "2030-01-07", "users": 4},
            {"week_start": "2030-01-14", "users": 3},
            {"week_start": "2030-01-21", "users": 2},
        ],
        # Every session was created on the 7th, when its request was accepted.
        "sessions_weekly": [_week("2030-01-07", 2, 1, 1, 1, 1, 1)],
    }


async def test_platform_analytics_filter_on_created_at(factory: Factory, history: History) -> None:
    # Sessions are created when accepted (T0 + minutes); requests all at T0 except r11.
    t0 = at(7, 9)
    window = {
        "from": (t0 + timedelta(minutes=25)).isoformat(),
        "to": (t0 + timedelta(minutes=50)).isoformat(),
    }
    # s2 (+30), s5 (+40), s10 (+45); +50 (s6) is excluded: `to` is exclusive.
    assert await Driver(factory).get(history.admin, "/api/analytics/platform", **window) == {
        "funnel": {"created": 0, "accepted": 0, "expired": 0, "cancelled": 0, "open": 0},
        "median_minutes_to_accept": None,
        "sessions": {
            "completed": 1,
            "auto_timeout": 1,
            "no_show": 0,
            "cancelled": 0,
            "live": 1,
            "scheduled": 0,
        },
        "ratings_by_category": [
            {"category": "arrays", "count": 1, "average_overall": 2.0},
            {"category": "graphs", "count": 1, "average_overall": 3.0},
        ],
        "active_users_weekly": [
            {"week_start": "2030-01-07", "users": 2},
            {"week_start": "2030-01-14", "users": 2},
        ],
        "sessions_weekly": [_week("2030-01-07", 1, 1, 0, 0, 1, 0)],
    }
    since_r11 = {"from": at(14, 9).isoformat()}
    body = await Driver(factory).get(history.admin, "/api/analytics/platform", **since_r11)
    assert body["funnel"] == {"created": 1, "accepted": 0, "expired": 0, "cancelled": 0, "open": 1}
    assert body["active_users_weekly"] == [{"week_start": "2030-01-14", "users": 1}]
    until_t0 = {"to": (t0 + timedelta(minutes=1)).isoformat()}
    body = await Driver(factory).get(history.admin, "/api/analytics/platform", **until_t0)
    assert body["funnel"] == {"created": 10, "accepted": 7, "expired": 1, "cancelled": 1, "open": 1}
    assert body["median_minutes_to_accept"] == 40.0
    assert sum(body["sessions"].values()) == 0
    assert body["sessions_weekly"] == []


async def test_my_analytics_filter_on_session_created_at(
    factory: Factory, history: History
) -> None:
    t0 = at(7, 9)
    window = {"from": (t0 + timedelta(minutes=40)).isoformat()}
    # A's sessions created from +40: s5 (live) and s10 (completed, its feedback sealed).
    assert await Driver(factory).get(history.a, "/api/analytics/me", **window) == {
        "sessions": _sessions(1, 0, 1, 0, 2, 0),
        "minutes_practised": 30.0,
        "ratings_received": NO_RATINGS,
        "by_category": [
            {"category": "arrays", "sessions": 1, "average_overall": None},
            {"category": "system-design", "sessions": 1, "average_overall": None},
        ],
        "weekly": [
            {"week_start": "2030-01-07", "sessions": 1, "average_overall": None},
            {"week_start": "2030-01-14", "sessions": 1, "average_overall": None},
        ],
    }


async def test_sealed_feedback_counts_once_the_caller_gives_theirs(
    factory: Factory, history: History
) -> None:
    await Driver(factory).feedback(READ_AT, history.a, history.sessions["s10"], (4, 4, 4, 4))
    body = await _me(factory, history.a)
    assert body["ratings_received"] == _ratings(3.5, 3.0, 3.0, 3.5, 2)
    assert body["by_category"][0] == {"category": "arrays", "sessions": 2, "average_overall": 3.5}
    assert body["weekly"][0] == {"week_start": "2030-01-07", "sessions": 3, "average_overall": 3.5}


async def test_sealed_feedback_counts_72_hours_after_the_session_ended(
    factory: Factory, history: History
) -> None:
    # s10 ended at 08:30 on the 13th.
    factory.clock.set(at(16, 8, 29))
    assert (await _me(factory, history.a))["ratings_received"]["count"] == 1
    factory.clock.set(at(16, 8, 30))
    assert (await _me(factory, history.a))["ratings_received"] == _ratings(3.5, 3.0, 3.0, 3.5, 2)


async def test_platform_sessions_weekly_count_each_session_in_the_week_it_was_created(
    factory: Factory, history: History
) -> None:
    drive = Driver(factory)
    admin = history.admin
    platform = "/api/analytics/platform"
    # r11 and r9 (both open) become s11 and s9 on Monday the 14th; C cancels s9.
    await drive.accept(at(14, 10), history.b, history.requests["r11"])
    s9 = await drive.accept(at(14, 10, 5), history.a, history.requests["r9"])
    await drive.session_action(at(14, 10, 10), history.c, s9, "cancel")
    factory.clock.set(at(14, 10, 30))
    week_7 = _week("2030-01-07", 2, 1, 1, 1, 1, 1)
    body = await drive.get(admin, platform)
    assert body["sessions_weekly"] == [week_7, _week("2030-01-14", 0, 0, 0, 1, 0, 1)]
    assert body["sessions"] == _outcomes(2, 1, 1, 2, 1, 2)
    # Whole days from the 7th (the rollup), then the 14th up to 10:03 from the rows: s11
    # only, not s9 (created 10:05), though its cancellation is in the rollup of the 14th.
    body = await drive.get(
        admin, platform, **{"from": at(7, 0).isoformat(), "to": at(14, 10, 3).isoformat()}
    )
    assert body["sessions_weekly"] == [week_7, _week("2030-01-14", 0, 0, 0, 0, 0, 1)]
    # From T0 + 35 min: s5, s10, s6 and s3 of the 7th from the rows, the days after from the
    # rollup (s9) and the rows not yet over (s11).
    body = await drive.get(admin, platform, **{"from": at(7, 9, 35).isoformat()})
    assert body["sessions_weekly"] == [
        _week("2030-01-07", 1, 0, 1, 0, 1, 1),
        _week("2030-01-14", 0, 0, 0, 1, 0, 1),
    ]
    # Two weeks on: s12 is created on the 28th; nothing was created in the week of the 21st,
    # which is left out. Outcomes are as they are now: s5 timed out, s6 was missed.
    r12 = await drive.request(at(28, 9), history.c, scheduled_at=at(29, 18), category="graphs")
    await drive.accept(at(28, 9, 30), history.a, r12)
    factory.clock.set(at(28, 10))
    body = await drive.get(admin, platform)
    assert body["sessions_weekly"] == [
        _week("2030-01-07", 2, 2, 2, 1, 0, 0),
        _week("2030-01-14", 0, 0, 0, 1, 0, 1),
        _week("2030-01-28", 0, 0, 0, 0, 0, 1),
    ]
    assert body["sessions"] == _outcomes(2, 2, 2, 2, 0, 2)
