"""The lifecycle of requests and sessions, declared as data, and the read-time rules of time.

Pure: no I/O. Services apply these transitions with conditional UPDATEs; the sweeper only
persists what `session_at` and `request_status_at` already say.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

from peerview.config import Settings
from peerview.models.enums import EndReason, RequestStatus, SessionStatus

Who = Literal["interviewer", "participant", "system"]


class Action(StrEnum):
    START = "start"
    EXTEND = "extend"
    END = "end"
    CANCEL = "cancel"
    AUTO_TIMEOUT = "auto_timeout"
    NO_SHOW = "no_show"


@dataclass(frozen=True, slots=True)
class Transition:
    action: Action
    source: SessionStatus
    target: SessionStatus
    who: Who
    event: Literal["started", "extended", "ended", "cancelled"]


TRANSITIONS: dict[Action, Transition] = {
    t.action: t
    for t in (
        Transition(
            Action.START, SessionStatus.SCHEDULED, SessionStatus.LIVE, "interviewer", "started"
        ),
        Transition(
            Action.EXTEND, SessionStatus.LIVE, SessionStatus.LIVE, "interviewer", "extended"
        ),
        Transition(Action.END, SessionStatus.LIVE, SessionStatus.COMPLETED, "interviewer", "ended"),
        Transition(
            Action.CANCEL,
            SessionStatus.SCHEDULED,
            SessionStatus.CANCELLED,
            "participant",
            "cancelled",
        ),
        Transition(
            Action.AUTO_TIMEOUT, SessionStatus.LIVE, SessionStatus.COMPLETED, "system", "ended"
        ),
        Transition(
            Action.NO_SHOW, SessionStatus.SCHEDULED, SessionStatus.CANCELLED, "system", "cancelled"
        ),
    )
}

# Every (from, to) pair the lifecycle allows; anything else is a defect.
ALLOWED_MOVES: frozenset[tuple[SessionStatus, SessionStatus]] = frozenset(
    (t.source, t.target) for t in TRANSITIONS.values()
)
JOINABLE = frozenset({SessionStatus.SCHEDULED, SessionStatus.LIVE})
MAX_EXTENSION_MINUTES = 60


@dataclass(frozen=True, slots=True)
class TimeRules:
    no_show: timedelta
    hard_buffer: timedelta
    early_start: timedelta
    request_expiry_buffer: timedelta


@dataclass(frozen=True, slots=True)
class SessionTimes:
    """The part of a session row the lifecycle reads."""

    status: SessionStatus
    scheduled_at: datetime
    hard_end_at: datetime | None
    ended_at: datetime | None
    end_reason: EndReason | None


def due_action(state: SessionTimes, now: datetime, rules: TimeRules) -> Action | None:
    """The system transition that time has already made, if any."""
    live_overdue = (
        state.status is SessionStatus.LIVE
        and state.hard_end_at is not None
        and state.hard_end_at <= now
    )
    if live_overdue:
        return Action.AUTO_TIMEOUT
    if state.status is SessionStatus.SCHEDULED and no_show_deadline(state, rules) <= now:
        return Action.NO_SHOW
    return None


def no_show_deadline(state: SessionTimes, rules: TimeRules) -> datetime:
    return state.scheduled_at + rules.no_show


def session_at(state: SessionTimes, now: datetime, rules: TimeRules) -> SessionTimes:
    """What the session *is* at `now`, whether or not the sweeper has written it yet."""
    action = due_action(state, now, rules)
    if action is Action.AUTO_TIMEOUT:
        return SessionTimes(
            status=SessionStatus.COMPLETED,
            scheduled_at=state.scheduled_at,
            hard_end_at=state.hard_end_at,
            ended_at=state.hard_end_at,
            end_reason=EndReason.AUTO_TIMEOUT,
        )
    if action is Action.NO_SHOW:
        return SessionTimes(
            status=SessionStatus.CANCELLED,
            scheduled_at=state.scheduled_at,
            hard_end_at=state.hard_end_at,
            ended_at=no_show_deadline(state, rules),
            end_reason=EndReason.NO_SHOW,
        )
    return state


def request_status_at(status: RequestStatus, expires_at: datetime, now: datetime) -> RequestStatus:
    """An OPEN request whose `expires_at` has passed is EXPIRED, on every read."""
    if status is RequestStatus.OPEN and expires_at <= now:
        return RequestStatus.EXPIRED
    return status


def can_start_at(scheduled_at: datetime, now: datetime, rules: TimeRules) -> bool:
    return now >= scheduled_at - rules.early_start


def end_times(
    *, started_at: datetime, duration_minutes: int, extended_minutes: int, rules: TimeRules
) -> tuple[datetime, datetime]:
    """(planned_end_at, hard_end_at) for a session started at `started_at`."""
    planned = started_at + timedelta(minutes=duration_minutes + extended_minutes)
    return planned, planned + rules.hard_buffer


def rules_from(
    *,
    no_show_minutes: float,
    hard_buffer_minutes: float,
    early_start_minutes: float,
    request_expiry_buffer_hours: float,
) -> TimeRules:
    return TimeRules(
        no_show=timedelta(minutes=no_show_minutes),
        hard_buffer=timedelta(minutes=hard_buffer_minutes),
        early_start=timedelta(minutes=early_start_minutes),
        request_expiry_buffer=timedelta(hours=request_expiry_buffer_hours),
    )


def time_rules(settings: Settings) -> TimeRules:
    return rules_from(
        no_show_minutes=settings.no_show_minutes,
        hard_buffer_minutes=settings.session_hard_buffer_minutes,
        early_start_minutes=settings.session_early_start_minutes,
        request_expiry_buffer_hours=settings.request_expiry_buffer_hours,
    )
