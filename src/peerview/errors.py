"""Application errors carrying their HTTP status and stable code, rendered as RFC 9457.

Every error is a class: its status, `code` and title are declared on it once, and everything
else (the handlers, the statuses Starlette raises by number, the OpenAPI documentation of
each route) reads them from there.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

import msgspec
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from peerview.db import Unavailable, UnstorableText
from peerview.logging import current_request_id

logger = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
REQUEST_ID_HEADER = "X-Request-ID"
_encoder = msgspec.json.Encoder()


class AppError(Exception):
    """Base of every expected failure: subclasses set `status`, `code` and `title`."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "BAD_REQUEST"
    title: ClassVar[str] = "Bad request"
    # Headers every instance sends (401 needs its challenge, RFC 9110 §15.5.2).
    default_headers: ClassVar[dict[str, str]] = {}
    # What a 422 names in its `errors` list: the input at fault and where it was sent.
    field: ClassVar[str] = "body"
    location: ClassVar[str] = "body"

    def __init__(self, detail: str | None = None, *, headers: dict[str, str] | None = None):
        self.detail = detail or self.title
        self.headers = {**self.default_headers, **(headers or {})} or None
        super().__init__(self.detail)


class NotAuthenticated(AppError):
    status = 401
    code = "NOT_AUTHENTICATED"
    title = "Authentication required"
    default_headers = {"WWW-Authenticate": "Bearer"}


class InvalidToken(AppError):
    status = 401
    code = "INVALID_TOKEN"
    title = "The access token is invalid, expired or revoked"
    default_headers = {"WWW-Authenticate": "Bearer"}


class Forbidden(AppError):
    status = 403
    code = "FORBIDDEN"
    title = "Your role does not allow this action"


class NotFound(AppError):
    status = 404
    code = "NOT_FOUND"
    title = "Not found"


class MethodNotAllowed(AppError):
    status = 405
    code = "METHOD_NOT_ALLOWED"
    title = "Method not allowed"


class Conflict(AppError):
    status = 409
    code = "CONFLICT"
    title = "Conflict with the current state"


class PayloadTooLarge(AppError):
    status = 413
    code = "PAYLOAD_TOO_LARGE"
    title = "The request body is larger than 1 MiB"


class UnsupportedMediaType(AppError):
    status = 415
    code = "UNSUPPORTED_MEDIA_TYPE"
    title = "Unsupported media type"


class InvalidInput(AppError):
    status = 422
    code = "VALIDATION_ERROR"
    title = "The request is invalid"


class TooManyRequests(AppError):
    status = 429
    code = "TOO_MANY_REQUESTS"
    title = "Too many requests"

    def __init__(self, detail: str | None = None, *, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(max(1, retry_after))})


class InternalError(AppError):
    status = 500
    code = "INTERNAL_ERROR"
    title = "Internal server error"


class ServiceUnavailable(AppError):
    status = 503
    code = "SERVICE_UNAVAILABLE"
    title = "The service is temporarily unavailable"


# What a status raised by number (Starlette's routing, FastAPI's body parsing) answers as.
_BY_STATUS: dict[int, type[AppError]] = {
    cls.status: cls
    for cls in (
        AppError,
        NotAuthenticated,
        Forbidden,
        NotFound,
        MethodNotAllowed,
        PayloadTooLarge,
        UnsupportedMediaType,
        TooManyRequests,
        InternalError,
        ServiceUnavailable,
    )
}


def problem(
    status: int,
    code: str,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    body: dict[str, Any] = {
        "type": f"https://peerview.dev/problems/{code.lower().replace('_', '-')}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }
    request_id = current_request_id()
    if request_id is not None:
        # In the body and the header alike, even for the 500 rendered outside the middleware.
        body["request_id"] = request_id
        headers = {**(headers or {}), REQUEST_ID_HEADER: request_id}
    return Response(_encoder.encode(body), status, headers=headers, media_type=PROBLEM_JSON)


def render(err: AppError) -> Response:
    extra: dict[str, Any] = {}
    if err.status == 422:
        # Every 422 is documented as a ValidationProblem, whose `errors` names the input.
        error = {"field": err.field, "location": err.location, "message": err.detail}
        extra["errors"] = [{**error, "type": err.code.lower()}]
    return problem(err.status, err.code, err.title, err.detail, headers=err.headers, **extra)


def internal_error() -> Response:
    """The 500 answer: nothing about what went wrong leaves the server."""
    return render(InternalError("An unexpected error occurred."))


def _location(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(p) for p in loc)


async def _app_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    return render(exc)


async def _validation_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = []
    for err in exc.errors():
        loc = list(err.get("loc", ()))
        errors.append(
            {
                "field": _location(loc[1:] if len(loc) > 1 else loc),
                "location": str(loc[0]) if loc else "body",
                "message": str(err.get("msg", "invalid")),
                "type": str(err.get("type", "value_error")),
            }
        )
    fields = ", ".join(sorted({e["field"] for e in errors})) or "body"
    return problem(
        InvalidInput.status,
        InvalidInput.code,
        InvalidInput.title,
        f"Invalid input: {fields}",
        errors=errors,
    )


def _invalid_input(field: str, location: str, message: str, kind: str) -> Response:
    error = {"field": field, "location": location, "message": message, "type": kind}
    return problem(
        InvalidInput.status,
        InvalidInput.code,
        InvalidInput.title,
        f"Invalid input: {field}",
        errors=[error],
    )


async def _http_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and isinstance(exc.__cause__, ValueError):
        # FastAPI answers a body that is not JSON with 422, but one that is not even text
        # (not UTF-8) with a bare 400; both are invalid input, so both are 422.
        return _invalid_input("body", "body", "The body is not UTF-8 encoded JSON", "json_invalid")
    known = _BY_STATUS.get(exc.status_code)
    code, title = (known.code, known.title) if known else ("HTTP_ERROR", "HTTP error")
    detail = exc.detail if isinstance(exc.detail, str) else title
    headers = dict(exc.headers) if exc.headers else None
    return problem(exc.status_code, code, title, detail, headers=headers)


async def _unstorable_text(_: Request, exc: Exception) -> Response:
    # A path, query or form value PostgreSQL cannot store (U+0000): invalid input, not a
    # broken server. Bodies never get this far (InputModel refuses it, naming the field).
    message = "Text must not contain the NUL character (U+0000)"
    return _invalid_input("request", "request", message, "string_nul")


async def _database_unavailable(_: Request, exc: Exception) -> Response:
    logger.warning("database unavailable: %s", exc)
    detail = "The database could not be reached; try again shortly."
    return render(ServiceUnavailable(detail, headers={"Retry-After": "1"}))


async def _unexpected(_: Request, exc: Exception) -> Response:
    logger.error("unhandled error", exc_info=exc)
    return internal_error()


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Unavailable, _database_unavailable)
    app.add_exception_handler(UnstorableText, _unstorable_text)
    app.add_exception_handler(Exception, _unexpected)
