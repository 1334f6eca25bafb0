"""Errors of interview requests."""

from peerview.errors import Conflict, Forbidden, InvalidInput, NotFound


class RequestNotFound(NotFound):
    code = "REQUEST_NOT_FOUND"
    title = "Interview request not found"


class ScheduleTooSoon(InvalidInput):
    code = "SCHEDULE_TOO_SOON"
    title = "The request would expire before anyone could accept it"
    field = "scheduled_at"


class ScheduleTooFar(InvalidInput):
    code = "SCHEDULE_TOO_FAR"
    title = "Requests can be scheduled at most 60 days ahead"
    field = "scheduled_at"


class TooManyOpenRequests(Conflict):
    code = "TOO_MANY_OPEN_REQUESTS"
    title = "You already have 5 open requests"


class SelfAccept(Forbidden):
    code = "SELF_ACCEPT"
    title = "You cannot accept your own request"


class RequestNotOpen(Conflict):
    code = "REQUEST_NOT_OPEN"
    title = "The request is no longer open"


class RequestExpired(Conflict):
    code = "REQUEST_EXPIRED"
    title = "The request has expired"


class ScheduleConflict(Conflict):
    code = "SCHEDULE_CONFLICT"
    title = "You already have a session at that time"
