"""Errors of the users feature."""

from peerview.errors import AppError, Conflict, NotFound


class UserNotFound(NotFound):
    code = "USER_NOT_FOUND"
    title = "User not found"


class WrongCurrentPassword(AppError):
    status = 422
    code = "INVALID_CURRENT_PASSWORD"
    title = "The current password is not correct"
    field = "current_password"


class EmailTaken(Conflict):
    code = "EMAIL_TAKEN"
    title = "An account with this e-mail already exists"


class LastAdmin(Conflict):
    code = "LAST_ADMIN"
    title = "The last active admin cannot be demoted or deactivated"
