"""Enumerations stored as strings; their values are the API's values."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "ADMIN"
    INTERVIEWER = "INTERVIEWER"
    INTERVIEWEE = "INTERVIEWEE"


class Difficulty(StrEnum):
    EASY = "EASY"
    MEDIUM = "MEDIUM"
    HARD = "HARD"


class QuestionType(StrEnum):
    CODING = "CODING"
    SYSTEM_DESIGN = "SYSTEM_DESIGN"
    BEHAVIORAL = "BEHAVIORAL"
    CONCEPTUAL = "CONCEPTUAL"


class RequestStatus(StrEnum):
    OPEN = "OPEN"
    ACCEPTED = "ACCEPTED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"


class SessionStatus(StrEnum):
    SCHEDULED = "SCHEDULED"
    LIVE = "LIVE"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


class SessionKind(StrEnum):
    """A session between two people, or a practice session with the AI interviewer."""

    PEER = "PEER"
    PRACTICE = "PRACTICE"


class EndReason(StrEnum):
    ENDED_BY_INTERVIEWER = "ENDED_BY_INTERVIEWER"
    # A practice session ended by the interviewee who conducts it (docs/api.md §13).
    ENDED_BY_INTERVIEWEE = "ENDED_BY_INTERVIEWEE"
    AUTO_TIMEOUT = "AUTO_TIMEOUT"
    CANCELLED_BY_INTERVIEWER = "CANCELLED_BY_INTERVIEWER"
    CANCELLED_BY_INTERVIEWEE = "CANCELLED_BY_INTERVIEWEE"
    NO_SHOW = "NO_SHOW"


class NotificationKind(StrEnum):
    REQUEST_ACCEPTED = "REQUEST_ACCEPTED"
    REQUEST_EXPIRED = "REQUEST_EXPIRED"
    SESSION_REMINDER = "SESSION_REMINDER"
    SESSION_STARTED = "SESSION_STARTED"
    SESSION_CANCELLED = "SESSION_CANCELLED"
    SESSION_ENDED = "SESSION_ENDED"
    FEEDBACK_RECEIVED = "FEEDBACK_RECEIVED"


class EmailStatus(StrEnum):
    NONE = "NONE"
    PENDING = "PENDING"
    SENT = "SENT"
    FAILED = "FAILED"


class CodeLanguage(StrEnum):
    """The code pad's languages: what the editor highlights (docs/api.md §5.7)."""

    PYTHON = "python"
    JAVASCRIPT = "javascript"
    TYPESCRIPT = "typescript"
    JAVA = "java"
    CPP = "cpp"
    GO = "go"
    PLAINTEXT = "plaintext"


class PracticeEngine(StrEnum):
    """Who answers in a practice session: a language model, or the built-in interviewer."""

    MODEL = "MODEL"
    BUILTIN = "BUILTIN"
