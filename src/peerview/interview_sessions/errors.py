"""Errors of interview sessions."""

from peerview.errors import Conflict, Forbidden, NotFound


class SessionNotFound(NotFound):
    code = "SESSION_NOT_FOUND"
    title = "Interview session not found"


class NotSessionInterviewer(Forbidden):
    code = "NOT_SESSION_INTERVIEWER"
    title = "Only the session's interviewer may do this"


class InvalidSessionState(Conflict):
    code = "INVALID_SESSION_STATE"
    title = "The session is not in a state that allows this"


class TooEarly(Conflict):
    code = "TOO_EARLY"
    title = "The session cannot be started this long before its scheduled time"


class ExtensionLimit(Conflict):
    code = "EXTENSION_LIMIT"
    title = "A session can be extended by at most 60 minutes in total"
