"""Errors of feedback."""

from peerview.errors import Conflict


class SessionNotCompleted(Conflict):
    code = "SESSION_NOT_COMPLETED"
    title = "Feedback can be left only once the session is completed"


class FeedbackExists(Conflict):
    code = "FEEDBACK_EXISTS"
    title = "You have already left feedback for this session"
