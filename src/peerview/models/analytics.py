"""Analytics rollups: counts kept up to date in the transaction of each change.

Derived data only: `peerview analytics rebuild` recomputes every row from the requests,
sessions and feedback. They count what can no longer change (a request once ACCEPTED,
CANCELLED or EXPIRED, a session once COMPLETED or CANCELLED, a feedback row, someone's
activity in a week); what time may still move (OPEN requests, SCHEDULED and LIVE sessions)
is read from its own table at read time. One module for all of them: they are one feature's
tables, written together by one subscriber and read together by one query.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Date, String
from sqlalchemy.orm import Mapped, mapped_column

from peerview.models.base import Base


class AnalyticsRequestDay(Base):
    """Requests in a final status (ACCEPTED, CANCELLED, EXPIRED) by the UTC day of creation."""

    __tablename__ = "analytics_request_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    requests: Mapped[int] = mapped_column(BigInteger)


class AnalyticsAcceptWaitDay(Base):
    """Accepted requests by the UTC day of creation and the bucket of their wait for acceptance
    (`peerview.analytics.buckets`): the histogram a period's median is found in."""

    __tablename__ = "analytics_accept_wait_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    bucket: Mapped[int] = mapped_column(primary_key=True)
    requests: Mapped[int] = mapped_column(BigInteger)


class AnalyticsAcceptWait(Base):
    """The same histogram over all time: what the unfiltered median reads."""

    __tablename__ = "analytics_accept_waits"

    bucket: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    requests: Mapped[int] = mapped_column(BigInteger)


class AnalyticsSessionDay(Base):
    """Finished sessions by the UTC day of creation and outcome (completed, auto_timeout,
    no_show, cancelled)."""

    __tablename__ = "analytics_session_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    outcome: Mapped[str] = mapped_column(String(16), primary_key=True)
    sessions: Mapped[int] = mapped_column(BigInteger)


class AnalyticsRatingDay(Base):
    """Feedback rows (both directions) by their session's UTC day of creation and category."""

    __tablename__ = "analytics_rating_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    category: Mapped[str] = mapped_column(String(64), primary_key=True)
    feedback: Mapped[int] = mapped_column(BigInteger)
    overall_sum: Mapped[int] = mapped_column(BigInteger)


class AnalyticsActivityDay(Base):
    """Who was active in which ISO week, by the UTC day of creation of what made them active
    (their request, or the session they take part in): the weekly count of a period."""

    __tablename__ = "analytics_activity_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    week_start: Mapped[date] = mapped_column(Date, primary_key=True)
    user_id: Mapped[str] = mapped_column(String(36), primary_key=True)


class AnalyticsWeekUser(Base):
    """Who was active in which ISO week (created a request, or took part in a session
    scheduled that week): one row per person and week, whenever that was recorded."""

    __tablename__ = "analytics_week_users"

    week_start: Mapped[date] = mapped_column(Date, primary_key=True)
    user_id: Mapped[str] = mapped_column(String(36), primary_key=True)


class AnalyticsWeek(Base):
    """How many rows `analytics_week_users` holds for each week: the unfiltered weekly count."""

    __tablename__ = "analytics_weeks"

    week_start: Mapped[date] = mapped_column(Date, primary_key=True)
    users: Mapped[int] = mapped_column(BigInteger)
