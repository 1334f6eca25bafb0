"""Shapes of the analytics answers (docs/api.md §10)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from msgspec import Meta

from peerview.schemas import Output

Average = Annotated[
    float | None,
    Meta(description="Mean rounded half-up to 2 decimals; null when there is nothing to average."),
]


class MySessionCounts(Output):
    completed: Annotated[
        int, Meta(description="COMPLETED, including those ended by the hard time limit.")
    ]
    cancelled: Annotated[int, Meta(description="CANCELLED, including no-shows.")]
    live: int
    scheduled: int
    as_interviewer: Annotated[int, Meta(description="Sessions of any status where I interview.")]
    as_interviewee: Annotated[
        int, Meta(description="Sessions of any status where I am interviewed.")
    ]
    practice: Annotated[
        int,
        Meta(
            description=(
                "Of those where I am interviewed, the practice sessions with the AI "
                "interviewer (any status)."
            )
        ),
    ]


class RatingsReceived(Output):
    communication: Average
    problem_solving: Average
    technical: Average
    overall: Average
    count: Annotated[
        int, Meta(description="Feedback about me that I may see (sealed feedback is not).")
    ]


class CategoryActivity(Output):
    category: str
    sessions: int
    average_overall: Average


class WeeklyActivity(Output):
    week_start: Annotated[date, Meta(description="Monday (UTC) of the ISO week of `scheduled_at`.")]
    sessions: int
    average_overall: Average


class MyAnalytics(Output):
    sessions: MySessionCounts
    minutes_practised: Annotated[
        float,
        Meta(description="Sum of `ended_at - started_at` over my COMPLETED sessions, 2 decimals."),
    ]
    ratings_received: RatingsReceived
    by_category: Annotated[
        list[CategoryActivity], Meta(description="One entry per category, A to Z.")
    ]
    weekly: Annotated[list[WeeklyActivity], Meta(description="Weeks with sessions, oldest first.")]


class Funnel(Output):
    """Requests by status at read time: `created = accepted + expired + cancelled + open`."""

    created: int
    accepted: int
    expired: int
    cancelled: int
    open: int


class PlatformSessionCounts(Output):
    """Sessions by outcome; the six counts partition all sessions."""

    completed: Annotated[int, Meta(description="COMPLETED, ended by the interviewer.")]
    auto_timeout: Annotated[int, Meta(description="COMPLETED by the hard time limit.")]
    no_show: Annotated[int, Meta(description="CANCELLED because nobody started it in time.")]
    cancelled: Annotated[int, Meta(description="CANCELLED by a participant.")]
    live: int
    scheduled: int


class CategoryRatings(Output):
    category: str
    count: Annotated[int, Meta(description="Feedback rows of both directions.")]
    average_overall: Average


class WeeklyActiveUsers(Output):
    week_start: Annotated[date, Meta(description="Monday (UTC) of the ISO week.")]
    users: Annotated[
        int,
        Meta(
            description=(
                "People who created a request that week, or took part (in either role, "
                "whatever the outcome) in a session scheduled that week."
            )
        ),
    ]


class WeeklySessions(Output):
    """The sessions created in one week, by outcome now, as in `sessions`."""

    week_start: Annotated[
        date, Meta(description="Monday (UTC) of the ISO week of the sessions' `created_at`.")
    ]
    sessions: Annotated[int, Meta(description="All of them: the sum of the six outcomes.")]
    completed: int
    auto_timeout: int
    no_show: int
    cancelled: int
    live: int
    scheduled: int


class PlatformAnalytics(Output):
    funnel: Funnel
    median_minutes_to_accept: Annotated[
        float | None,
        Meta(
            description="Median of `accepted_at - created_at` over accepted requests, 2 decimals."
        ),
    ]
    sessions: PlatformSessionCounts
    ratings_by_category: Annotated[
        list[CategoryRatings], Meta(description="One entry per category, A to Z.")
    ]
    active_users_weekly: Annotated[list[WeeklyActiveUsers], Meta(description="Oldest week first.")]
    sessions_weekly: Annotated[
        list[WeeklySessions],
        Meta(description="Weeks with sessions, oldest first; they add up to `sessions`."),
    ]
