"""Errors of authentication."""

from peerview.errors import AppError, Forbidden, TooManyRequests


class InvalidCredentials(AppError):
    status = 401
    code = "INVALID_CREDENTIALS"
    title = "The e-mail or password is not correct"
    default_headers = {"WWW-Authenticate": "Bearer"}


class RoleNotAllowed(Forbidden):
    code = "ROLE_NOT_ALLOWED"
    title = "This role cannot be chosen at registration"


class LoginThrottled(TooManyRequests):
    code = "TOO_MANY_LOGIN_ATTEMPTS"
    title = "Too many failed logins; try again later"
