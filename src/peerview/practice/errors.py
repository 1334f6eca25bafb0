"""Errors of practice sessions (docs/api.md §13)."""

from peerview.errors import Conflict, TooManyRequests


class NoQuestionAvailable(Conflict):
    code = "NO_QUESTION_AVAILABLE"
    title = "The bank has no question of this kind that you have not had yet"


class PracticeInProgress(Conflict):
    code = "PRACTICE_IN_PROGRESS"
    title = "You already have a live practice session: end it first"


class PracticeLimitReached(TooManyRequests):
    code = "PRACTICE_LIMIT_REACHED"
    title = "You have started as many practice sessions today as allowed"


class ReplyInProgress(Conflict):
    """A `practice_message` while the interviewer is still answering the last one."""

    code = "REPLY_IN_PROGRESS"
    title = "The interviewer is still answering your last message"
