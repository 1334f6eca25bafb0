"""Shapes of the analytics answers (SPEC §10)."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from peerview.schemas import OutputModel

AVERAGE = "Mean rounded half-up to 2 decimals; null when there is nothing to average."


class MySessionCounts(OutputModel):
    completed: int = Field(description="COMPLETED, including those ended by the hard time limit.")
    cancelled: int = Field(description="CANCELLED, including no-shows.")
    live: int
    scheduled: int
    as_interviewer: int = Field(description="Sessions of any status where I interview.")
    as_interviewee: int = Field(description="Sessions of any status where I am interviewed.")


class RatingsReceived(OutputModel):
    communication: float | None = Field(description=AVERAGE)
    problem_solving: float | None = Field(description=AVERAGE)
    technical: float | None = Field(description=AVERAGE)
    overall: float | None = Field(description=AVERAGE)
    count: int = Field(description="Feedback about me that I may see (sealed feedback is not).")


class CategoryActivity(OutputModel):
    category: str
    sessions: int
    average_overall: float | None = Field(description=AVERAGE)


class WeeklyActivity(OutputModel):
    week_start: date = Field(description="Monday (UTC) of the ISO week of `scheduled_at`.")
    sessions: int
    average_overall: float | None = Field(description=AVERAGE)


class MyAnalytics(OutputModel):
    sessions: MySessionCounts
    minutes_practised: float = Field(
        description="Sum of `ended_at - started_at` over my COMPLETED sessions, 2 decimals."
    )
    ratings_received: RatingsReceived
    by_category: list[CategoryActivity] = Field(description="One entry per category, A to Z.")
    weekly: list[WeeklyActivity] = Field(description="Weeks with sessions, oldest first.")


class Funnel(OutputModel):
    """Requests by status at read time: `created = accepted + expired + cancelled + open`."""

    created: int
    accepted: int
    expired: int
    cancelled: int
    open: int


class PlatformSessionCounts(OutputModel):
    """Sessions by outcome; the six counts partition all sessions."""

    completed: int = Field(description="COMPLETED, ended by the interviewer.")
    auto_timeout: int = Field(description="COMPLETED by the hard time limit.")
    no_show: int = Field(description="CANCELLED because nobody started it in time.")
    cancelled: int = Field(description="CANCELLED by a participant.")
    live: int
    scheduled: int


class CategoryRatings(OutputModel):
    category: str
    count: int = Field(description="Feedback rows of both directions.")
    average_overall: float | None = Field(description=AVERAGE)


class WeeklyActiveUsers(OutputModel):
    week_start: date = Field(description="Monday (UTC) of the ISO week.")
    users: int = Field(
        description=(
            "People who created a request that week, or took part (in either role, whatever "
            "the outcome) in a session scheduled that week."
        )
    )


class PlatformAnalytics(OutputModel):
    funnel: Funnel
    median_minutes_to_accept: float | None = Field(
        description="Median of `accepted_at - created_at` over accepted requests, 2 decimals."
    )
    sessions: PlatformSessionCounts
    ratings_by_category: list[CategoryRatings] = Field(
        description="One entry per category, A to Z."
    )
    active_users_weekly: list[WeeklyActiveUsers] = Field(description="Oldest week first.")
