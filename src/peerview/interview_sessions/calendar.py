"""An RFC 5545 iCalendar event for a session."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from peerview.interview_sessions.schemas import SessionRead
from peerview.models.enums import SessionStatus

_PRODID = "-//Peerview//Mock interviews//EN"
# Fixed, so the file downloaded and the one mailed are the same event to a calendar.
UID_DOMAIN = "peerview"


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _text(value: str) -> str:
    """Escape a TEXT value (RFC 5545 §3.3.11)."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def _fold(line: str) -> str:
    """Fold a content line to at most 75 octets per physical line (RFC 5545 §3.1)."""
    encoded = line.encode()
    if len(encoded) <= 75:
        return line
    parts: list[str] = []
    current = b""
    limit = 75
    for char in line:
        piece = char.encode()
        if len(current) + len(piece) > limit:
            parts.append(current.decode())
            current = b""
            limit = 74  # continuation lines start with a space
        current += piece
    parts.append(current.decode())
    return "\r\n ".join(parts)


def session_event(session: SessionRead, *, version: int, stored_status: str, now: datetime) -> str:
    """The event for `session` as read at `now`; `version` and `stored_status` are its row's.

    A transition that time has made but the sweeper has not yet written is a change too:
    it counts now, as the sweeper's version bump will, so SEQUENCE never repeats for
    different content (a calendar ignores an update that does not raise it).
    """
    sequence = version + (1 if session.status != stored_status else 0)
    booked_end = session.scheduled_at + timedelta(minutes=session.duration_minutes)
    if session.started_at is None:
        # Not started (or cancelled before it was): the event keeps the slot it was booked
        # for, never the cancellation time, which would end it before it began.
        start, end = session.scheduled_at, booked_end
    else:
        start = session.started_at
        end = session.ended_at or session.planned_end_at or booked_end
    # DTEND must be later than DTSTART (RFC 5545 §3.8.2.2) at the format's one-second
    # resolution, even for a session ended the moment it started.
    start = start.replace(microsecond=0)
    end = max(end.replace(microsecond=0), start + timedelta(seconds=1))
    status = "CANCELLED" if session.status is SessionStatus.CANCELLED else "CONFIRMED"
    kind = session.type.value.replace("_", " ").lower()
    summary = f"Mock interview: {session.category} ({session.difficulty.value.lower()} {kind})"
    description = (
        f"Interviewer: {session.interviewer.name if session.interviewer else 'AI (practice)'}\n"
        f"Interviewee: {session.interviewee.name}\n"
        f"Status: {session.status.value}"
    )
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{_PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{session.id}@{UID_DOMAIN}",
        f"DTSTAMP:{_utc(now)}",
        f"DTSTART:{_utc(start)}",
        f"DTEND:{_utc(end)}",
        f"SUMMARY:{_text(summary)}",
        f"DESCRIPTION:{_text(description)}",
        f"STATUS:{status}",
        f"SEQUENCE:{sequence}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "".join(_fold(line) + "\r\n" for line in lines)
