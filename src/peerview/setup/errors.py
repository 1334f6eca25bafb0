"""Errors of first-run setup."""

from peerview.errors import Forbidden


class SetupClosed(Forbidden):
    code = "SETUP_CLOSED"
    title = "Setup is closed: an administrator exists"


class InvalidSetupCode(Forbidden):
    code = "INVALID_SETUP_CODE"
    title = "The setup code is not correct"
