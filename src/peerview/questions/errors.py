"""Errors of the question bank."""

from peerview.errors import Conflict, Forbidden, NotFound


class QuestionNotFound(NotFound):
    code = "QUESTION_NOT_FOUND"
    title = "Question not found"


class QuestionNotDeleted(Conflict):
    code = "QUESTION_NOT_DELETED"
    title = "The question is not deleted, so there is nothing to restore"


class HardDeleteGuarded(Conflict):
    code = "HARD_DELETE_GUARDED"
    title = "Only a soft-deleted question never used in a session can be deleted for good"


class DeletedQuestionsForbidden(Forbidden):
    """Listing deleted questions is for admins; the code stays the generic role refusal."""

    title = "Only admins may list deleted questions"
