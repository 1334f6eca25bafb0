"""Application errors carrying their HTTP status and stable code, rendered as RFC 9457."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from peerview.db import Unavailable, UnstorableText

logger = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


class ProblemDetails(BaseModel):
    """RFC 9457 problem details, with Peerview's stable `code`."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    request_id: str | None = None


class ValidationProblem(ProblemDetails):
    errors: list[dict[str, str]]


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


class Conflict(AppError):
    status = 409
    code = "CONFLICT"
    title = "Conflict with the current state"


class InvalidInput(AppError):
    status = 422
    code = "VALIDATION_ERROR"
    title = "The request is invalid"


class PayloadTooLarge(AppError):
    status = 413
    code = "PAYLOAD_TOO_LARGE"
    title = "The request body is larger than 1 MiB"


class TooManyRequests(AppError):
    status = 429
    code = "TOO_MANY_REQUESTS"
    title = "Too many requests"

    def __init__(self, detail: str | None = None, *, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(max(1, retry_after))})


class ServiceUnavailable(AppError):
    status = 503
    code = "SERVICE_UNAVAILABLE"
    title = "The service is temporarily unavailable"


_STATUS_CODES = {
    400: ("BAD_REQUEST", "Bad request"),
    401: ("NOT_AUTHENTICATED", "Authentication required"),
    403: ("FORBIDDEN", "Forbidden"),
    404: ("NOT_FOUND", "Not found"),
    405: ("METHOD_NOT_ALLOWED", "Method not allowed"),
    413: ("PAYLOAD_TOO_LARGE", "The request body is larger than 1 MiB"),
    415: ("UNSUPPORTED_MEDIA_TYPE", "Unsupported media type"),
    429: ("TOO_MANY_REQUESTS", "Too many requests"),
    500: ("INTERNAL_ERROR", "Internal server error"),
    503: ("SERVICE_UNAVAILABLE", "The service is temporarily unavailable"),
}


def problem(
    status: int,
    code: str,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    # Imported here: observability imports this module (its errors) at import time.
    from peerview.observability import REQUEST_ID_HEADER, current_request_id

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
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def problem_schema(*errors: type[AppError]) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries for a route, so OpenAPI lists each error it may answer."""
    out: dict[int | str, dict[str, Any]] = {}
    for err in errors:
        entry = out.setdefault(
            err.status, {"model": ProblemDetails, "description": "", "content": {PROBLEM_JSON: {}}}
        )
        entry["description"] = ", ".join(filter(None, [entry["description"], f"`{err.code}`"]))
    return out


def document_problems(app: FastAPI) -> None:
    """Make the OpenAPI schema say what the API answers: errors as application/problem+json.

    FastAPI documents a route's error models under application/json, and its own 422 as
    HTTPValidationError; every error here is a problem document, a 422 a ValidationProblem.
    """
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in (ProblemDetails, ValidationProblem):
            components[model.__name__] = model.model_json_schema(
                ref_template="#/components/schemas/{model}"
            )
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                for status, response in operation.get("responses", {}).items():
                    if not str(status).startswith(("4", "5")):
                        continue
                    name = "ValidationProblem" if str(status) == "422" else "ProblemDetails"
                    if str(status) == "422" and not response.get("description", "").count("`"):
                        response["description"] = "`VALIDATION_ERROR`"
                    response["content"] = {
                        PROBLEM_JSON: {"schema": {"$ref": f"#/components/schemas/{name}"}}
                    }
        for unused in ("HTTPValidationError", "ValidationError"):
            components.pop(unused, None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _location(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(p) for p in loc)


async def _app_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    extra: dict[str, Any] = {}
    if exc.status == 422:
        # Every 422 is documented as a ValidationProblem, whose `errors` names the input.
        error = {"field": exc.field, "location": exc.location, "message": exc.detail}
        extra["errors"] = [{**error, "type": exc.code.lower()}]
    return problem(exc.status, exc.code, exc.title, exc.detail, headers=exc.headers, **extra)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
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
        422,
        "VALIDATION_ERROR",
        "The request is invalid",
        f"Invalid input: {fields}",
        errors=errors,
    )


def _invalid_input(field: str, location: str, message: str, kind: str) -> JSONResponse:
    error = {"field": field, "location": location, "message": message, "type": kind}
    return problem(
        422, "VALIDATION_ERROR", "The request is invalid", f"Invalid input: {field}", errors=[error]
    )


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and isinstance(exc.__cause__, ValueError):
        # FastAPI answers a body that is not JSON with 422, but one that is not even text
        # (not UTF-8) with a bare 400; both are invalid input, so both are 422.
        return _invalid_input("body", "body", "The body is not UTF-8 encoded JSON", "json_invalid")
    code, title = _STATUS_CODES.get(exc.status_code, ("HTTP_ERROR", "HTTP error"))
    detail = exc.detail if isinstance(exc.detail, str) else title
    headers = dict(exc.headers) if exc.headers else None
    return problem(exc.status_code, code, title, detail, headers=headers)


async def _unstorable_text(_: Request, exc: Exception) -> JSONResponse:
    # A path, query or form value PostgreSQL cannot store (U+0000): invalid input, not a
    # broken server. Bodies never get this far (InputModel refuses it, naming the field).
    message = "Text must not contain the NUL character (U+0000)"
    return _invalid_input("request", "request", message, "string_nul")


async def _database_unavailable(_: Request, exc: Exception) -> JSONResponse:
    logger.warning("database unavailable: %s", exc)
    return problem(
        503,
        "SERVICE_UNAVAILABLE",
        "The service is temporarily unavailable",
        "The database could not be reached; try again shortly.",
        headers={"Retry-After": "1"},
    )


def internal_error() -> JSONResponse:
    """The 500 answer: nothing about what went wrong leaves the server."""
    return problem(500, "INTERNAL_ERROR", "Internal server error", "An unexpected error occurred.")


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    logger.error("unhandled error", exc_info=exc)
    return internal_error()


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Unavailable, _database_unavailable)
    app.add_exception_handler(UnstorableText, _unstorable_text)
    app.add_exception_handler(Exception, _unexpected)
