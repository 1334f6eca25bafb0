"""What /openapi.json says each route answers, derived from what the route is made of.

A route declares its success body and its own errors once, with `answers(...)`. Everything
that follows from its request context is added here, for every route alike: a bearer token
means 401 `NOT_AUTHENTICATED`/`INVALID_TOKEN`, a role means 403 `FORBIDDEN`, an authenticated
write under /api means 429 `TOO_MANY_REQUESTS`. Errors are application/problem+json, a 422 a
`ValidationProblem`; success bodies are the msgspec structs the routes encode, their JSON
Schema made by msgspec.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import msgspec
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel

from peerview.context import WRITE_METHODS, WriteRateLimited, authentication_of
from peerview.errors import PROBLEM_JSON, AppError, Forbidden, InvalidToken, NotAuthenticated
from peerview.schemas import REF, documented_outputs, include


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


def _schema_ref(output: Any) -> dict[str, Any]:
    (ref,), _ = msgspec.json.schema_components([output], ref_template=REF)
    include(output)
    return ref


def problems(*errors: type[AppError]) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries naming each error a route may answer, by status."""
    out: dict[int | str, dict[str, Any]] = {}
    for err in errors:
        entry = out.setdefault(err.status, {"description": "", "content": {PROBLEM_JSON: {}}})
        codes = [entry["description"], f"`{err.code}`"]
        entry["description"] = ", ".join(filter(None, codes))
    return out


def answers(
    output: Any = None,
    *errors: type[AppError],
    status: int = 200,
    description: str = "Success",
    content_type: str = "application/json",
    also: Mapping[int, str] | None = None,
) -> dict[str, Any]:
    """Route-decorator arguments: the success body `output` (a msgspec type; None for none)
    at `status`, and the route's own errors. `also` gives other success statuses the route
    may answer with the same body, each with its description."""
    responses: dict[int | str, dict[str, Any]] = {}
    for code, meaning in {status: description, **(also or {})}.items():
        success: dict[str, Any] = {"description": meaning}
        if output is not None:
            success["content"] = {content_type: {"schema": _schema_ref(output)}}
        elif content_type != "application/json":
            success["content"] = {content_type: {}}
        responses[code] = success
    responses.update(problems(*errors))
    return {"status_code": status, "responses": responses, "response_model": None}


def _context_errors(route: APIRoute, path: str, method: str) -> list[type[AppError]]:
    auth = authentication_of(route)
    if auth is None:
        return []
    errors: list[type[AppError]] = [NotAuthenticated, InvalidToken]
    if auth.roles:
        errors.append(Forbidden)
    if method.upper() in WRITE_METHODS and path.startswith("/api/"):
        errors.append(WriteRateLimited)
    return errors


def _merge(responses: dict[str, Any], extra: dict[int | str, dict[str, Any]]) -> None:
    for status, entry in extra.items():
        existing = responses.setdefault(str(status), {"description": ""})
        for code in entry["description"].split(", "):
            if code and code not in existing.get("description", ""):
                parts = [existing.get("description", ""), code]
                existing["description"] = ", ".join(filter(None, parts))


def _routes(app: FastAPI) -> Iterable[tuple[APIRoute, str, set[str]]]:
    """Every documented route with its full path template and its methods."""
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and route.include_in_schema and context.path_format:
            yield route, context.path_format, set(context.methods or ())


def install(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        paths = schema.get("paths", {})
        for route, path, methods in _routes(app):
            for method in methods:
                operation = paths.get(path, {}).get(method.lower())
                if operation is not None:
                    extra = problems(*_context_errors(route, path, method))
                    _merge(operation.setdefault("responses", {}), extra)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        _, outputs = msgspec.json.schema_components(documented_outputs(), ref_template=REF)
        for name, definition in outputs.items():
            # An enum that input models share keeps Pydantic's (equivalent) definition.
            components.setdefault(name, definition)
        for model in (ProblemDetails, ValidationProblem):
            components[model.__name__] = model.model_json_schema(
                ref_template="#/components/schemas/{model}"
            )
        for operations in paths.values():
            for operation in operations.values():
                for status, response in operation.get("responses", {}).items():
                    if not str(status).startswith(("4", "5")):
                        continue
                    name = "ValidationProblem" if str(status) == "422" else "ProblemDetails"
                    takes_input = "requestBody" in operation or operation.get("parameters")
                    described = response.get("description", "")
                    if (
                        str(status) == "422"
                        and takes_input
                        and "`VALIDATION_ERROR`" not in described
                    ):
                        # Any input may be refused by its own rules, besides the route's codes.
                        codes = ["`VALIDATION_ERROR`", described if "`" in described else ""]
                        response["description"] = ", ".join(filter(None, codes))
                    response["content"] = {
                        PROBLEM_JSON: {"schema": {"$ref": REF.format(name=name)}}
                    }
        for unused in ("HTTPValidationError", "ValidationError"):
            components.pop(unused, None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
