"""Errors of the analytics endpoints."""

from peerview.errors import InvalidInput


class InvalidPeriod(InvalidInput):
    code = "INVALID_PERIOD"
    title = "`from` must not be later than `to`"
    field = "from"
    location = "query"
