"""Rewrite the route tables of docs/api.md from the application's OpenAPI schema.

    python docs/generate_api_tables.py           # rewrite docs/api.md in place
    python docs/generate_api_tables.py --check   # exit 1 if docs/api.md is out of date

Each table of docs/api.md sits between two markers:

    <!-- routes:begin tags="interview requests" -->
    …generated…
    <!-- routes:end -->

and lists, in the schema's order, every operation whose OpenAPI tag is one of those named
(comma-separated). Every tag of the schema must be named by exactly one block, so a new
router is a failure here until the contract gives it a place.

One row per operation: method, path, the roles the route is open to, the success status and
body, and every error code the schema documents for it, by status. The roles are not in the
schema (it only says that a bearer token is needed): they are read from the same place
`peerview.openapi` reads them, the route's `Authenticated` dependency.

tests/platform/test_api_docs.py fails when the blocks differ from what this script writes.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import secrets
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

DOC = Path(__file__).resolve().parent / "api.md"

BLOCK = re.compile(
    r'(?P<begin><!-- routes:begin tags="(?P<tags>[^"]*)" -->\n)'
    r"(?P<body>.*?)"
    r"(?P<end><!-- routes:end -->)",
    re.DOTALL,
)
CODE = re.compile(r"`([A-Z][A-Z0-9_]*)`")
PAGE = re.compile(r"^Page_(?P<item>\w+)_$")
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    path: str
    tag: str
    roles: str
    success: str
    errors: dict[int, list[str]]


def route_roles(app: FastAPI) -> dict[tuple[str, str], str]:
    """(METHOD, path) → who the route is open to, from its `Authenticated` dependency."""
    from peerview.context import Authenticated

    out: dict[tuple[str, str], str] = {}
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute) or not context.path_format:
            continue
        auth = next(
            (d.call for d in route.dependant.dependencies if isinstance(d.call, Authenticated)),
            None,
        )
        if auth is None:
            label = "anyone"
        elif not auth.roles:
            label = "any user"
        else:
            label = ", ".join(sorted(role.value for role in auth.roles))
        for method in context.methods or ():
            out[(method.upper(), context.path_format)] = label
    return out


def _body_name(schema: dict[str, Any]) -> str:
    ref = schema.get("$ref")
    if isinstance(ref, str):
        name = ref.rsplit("/", 1)[-1]
        page = PAGE.match(name)
        return f"page of `{page['item']}`" if page else f"`{name}`"
    if "anyOf" in schema:
        return " or ".join(_body_name(option) for option in schema["anyOf"])
    return "JSON"


def _success(responses: dict[str, Any]) -> str:
    statuses = sorted(s for s in responses if s.startswith("2"))
    if not statuses:
        raise ValueError("expected a success status, found none")
    # A route with several success statuses answers the same body with each (the question
    # import: 201 when it created something, 200 when not).
    bodies = {repr(responses[s].get("content")) for s in statuses}
    if len(bodies) != 1:
        raise ValueError(f"success statuses {statuses} answer different bodies")
    status = " or ".join(statuses)
    content: dict[str, Any] = responses[statuses[0]].get("content") or {}
    json_schema = (content.get("application/json") or {}).get("schema")
    others = [media for media in content if media != "application/json"]
    if json_schema:
        body = _body_name(json_schema)
    elif others:
        body = f"`{others[0].split(';')[0]}`"
    else:
        body = "no body"
    return f"{status} {body}"


def _errors(operation: dict[str, Any]) -> dict[int, list[str]]:
    errors: dict[int, list[str]] = {}
    for status, response in operation["responses"].items():
        if status[0] not in "45":
            continue
        codes = CODE.findall(response.get("description", ""))
        if not codes:
            raise ValueError(f"status {status} names no error code")
        errors[int(status)] = list(dict.fromkeys(codes))
    return dict(sorted(errors.items()))


def operations(app: FastAPI) -> list[Operation]:
    """Every documented operation of `app`, in the schema's order."""
    roles = route_roles(app)
    out: list[Operation] = []
    for path, item in app.openapi()["paths"].items():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            where = f"{method.upper()} {path}"
            tags = operation.get("tags") or []
            if len(tags) != 1:
                raise ValueError(f"{where}: expected one OpenAPI tag, found {tags}")
            try:
                out.append(
                    Operation(
                        method=method.upper(),
                        path=path,
                        tag=tags[0],
                        roles=roles[(method.upper(), path)],
                        success=_success(operation["responses"]),
                        errors=_errors(operation),
                    )
                )
            except (KeyError, ValueError) as exc:
                raise ValueError(f"{where}: {exc}") from exc
    return out


def render_table(rows: list[Operation]) -> str:
    lines = [
        "| method | path | roles | success | errors by status |",
        "|---|---|---|---|---|",
    ]
    for op in rows:
        errors = "; ".join(
            f"{status} {', '.join(f'`{code}`' for code in codes)}"
            for status, codes in op.errors.items()
        )
        lines.append(f"| {op.method} | `{op.path}` | {op.roles} | {op.success} | {errors or '—'} |")
    return "\n".join(lines) + "\n"


def _block_tags(raw: str) -> list[str]:
    return [tag.strip() for tag in raw.split(",") if tag.strip()]


def rewrite(text: str, app: FastAPI) -> str:
    """`text` (docs/api.md) with every routes block regenerated from `app`'s schema."""
    ops = operations(app)
    schema_tags = list(dict.fromkeys(op.tag for op in ops))
    placed: dict[str, int] = {}
    blocks = list(BLOCK.finditer(text))
    for number, block in enumerate(blocks):
        for tag in _block_tags(block["tags"]):
            if tag in placed:
                raise ValueError(f'tag "{tag}" is named by two routes blocks')
            if tag not in schema_tags:
                raise ValueError(f'routes block names tag "{tag}", which no operation has')
            placed[tag] = number
    missing = [tag for tag in schema_tags if tag not in placed]
    if missing:
        raise ValueError(
            "no routes block of docs/api.md names the OpenAPI tag(s) "
            + ", ".join(f'"{tag}"' for tag in missing)
        )

    def replace(match: re.Match[str]) -> str:
        tags = _block_tags(match["tags"])
        rows = [op for op in ops if op.tag in tags]
        return match["begin"] + render_table(rows) + match["end"]

    return BLOCK.sub(replace, text)


def generated_blocks(text: str) -> dict[str, str]:
    """The body of each routes block of `text`, by its tags: what a comparison looks at."""
    return {block["tags"]: block["body"] for block in BLOCK.finditer(text)}


@contextmanager
def documentation_app() -> Iterator[FastAPI]:
    """A Peerview application that serves its schema; it never opens its (scratch) database."""
    from peerview.config import Settings
    from peerview.main import close_services, create_app

    with tempfile.TemporaryDirectory() as scratch:
        settings = Settings(
            peerview_env="development",
            database_url=f"sqlite+aiosqlite:///{scratch}/unused.db",
            jwt_secret=secrets.token_urlsafe(48),
            docs_enabled=True,
            sweeper_enabled=False,
            redis_url=None,
            smtp_url=None,
            _env_file=None,  # type: ignore[call-arg]
        )
        app = create_app(settings)
        try:
            yield app
        finally:
            asyncio.run(close_services(app.services))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--check", action="store_true", help="fail if docs/api.md is stale")
    args = parser.parse_args(argv)
    current = DOC.read_text(encoding="utf-8")
    with documentation_app() as app:
        updated = rewrite(current, app)
    if args.check:
        if updated != current:
            print("docs/api.md is out of date: run python docs/generate_api_tables.py")
            return 1
        return 0
    if updated != current:
        DOC.write_text(updated, encoding="utf-8")
        print("docs/api.md: route tables rewritten")
    else:
        print("docs/api.md: route tables already up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
