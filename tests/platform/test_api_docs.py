"""docs/api.md is the contract (docs/api.md §1): it keeps up with the code.

Its route tables are what docs/generate_api_tables.py makes of the OpenAPI schema now, so a
new route, role or error code fails here until the document is regenerated; every error code
the code can answer is named in it; and what the code cites of it exists.
"""

from __future__ import annotations

import ast
import copy
import importlib
import importlib.util
import os
import pkgutil
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from fastapi import FastAPI

import peerview
from peerview.errors import AppError

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "api.md"
GENERATOR = ROOT / "docs" / "generate_api_tables.py"
SOURCES = ROOT / "src" / "peerview"
CITATION = re.compile(r"docs/api\.md §(\d+)(?:\.(\d+))?")
HEADING = re.compile(r"^#{2,3} (\d+)(?:\.(\d+))?\.? ", re.MULTILINE)
CODE_LIKE = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")
SKIPPED_DIRECTORIES = {"node_modules", "__pycache__", ".venv"}


def generator() -> ModuleType:
    """docs/generate_api_tables.py, which is a script, not part of a package."""
    name = "generate_api_tables"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, GENERATOR)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def contract() -> str:
    return DOC.read_text(encoding="utf-8")


def documented(code: str, text: str) -> bool:
    return f"`{code}`" in text


# -- the route tables ------------------------------------------------------------------------


def test_route_tables_are_what_the_openapi_schema_gives_now(app: FastAPI) -> None:
    docs = generator()
    current = contract()
    expected = docs.rewrite(current, app)
    if expected != current:
        now, then = docs.generated_blocks(expected), docs.generated_blocks(current)
        stale = [tags for tags, body in now.items() if then.get(tags) != body]
        pytest.fail(
            f"docs/api.md's route tables ({', '.join(stale)}) differ from the OpenAPI schema: "
            "run `python docs/generate_api_tables.py`, then say in the prose what changed"
        )


def test_every_operation_is_a_row_of_a_route_table(app: FastAPI) -> None:
    text = contract()
    for operation in generator().operations(app):
        assert f"| {operation.method} | `{operation.path}` |" in text, operation


def _schema_copy(app: FastAPI) -> dict[str, Any]:
    return copy.deepcopy(app.openapi())


def test_a_new_error_code_makes_the_tables_stale(app: FastAPI) -> None:
    schema = _schema_copy(app)
    responses = schema["paths"]["/api/feedback"]["post"]["responses"]
    responses["409"]["description"] += ", `FEEDBACK_CLOSED`"
    app.openapi_schema = schema
    assert generator().rewrite(contract(), app) != contract()


def test_a_route_under_a_new_tag_has_no_place_until_the_contract_gives_it_one(
    app: FastAPI,
) -> None:
    schema = _schema_copy(app)
    schema["paths"]["/api/auth/me"]["get"]["tags"] = ["status"]
    app.openapi_schema = schema
    with pytest.raises(ValueError, match='"status"'):
        generator().rewrite(contract(), app)


# -- error codes -----------------------------------------------------------------------------


def _all_modules() -> None:
    for module in pkgutil.walk_packages(peerview.__path__, "peerview."):
        importlib.import_module(module.name)


def _error_classes() -> list[type[AppError]]:
    found: list[type[AppError]] = [AppError]
    for cls in found:
        found.extend(sub for sub in cls.__subclasses__() if sub not in found)
    return [cls for cls in found if cls.__module__.startswith("peerview.")]


def test_every_code_of_an_app_error_is_in_the_contract() -> None:
    _all_modules()
    classes = _error_classes()
    assert len(classes) > 30, "the error classes of src/peerview were not all found"
    text = contract()
    missing = sorted(
        f"{cls.code} ({cls.__module__}.{cls.__qualname__})"
        for cls in classes
        if not documented(cls.code, text)
    )
    assert not missing, f"error codes missing from docs/api.md: {', '.join(missing)}"


def _codes_answered_without_a_class() -> set[str]:
    """Codes written out where they are answered: `refused("X")` (Socket.IO acks),
    `problem(status, "X", …)`, and `{"code": "X"}` (Socket.IO handshake refusals)."""
    codes: set[str] = set()
    for path in SOURCES.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            candidates: list[ast.expr] = []
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                if name == "refused":
                    candidates = node.args[:1]
                elif name == "problem":
                    candidates = node.args[1:2]
            elif isinstance(node, ast.Dict):
                candidates = [
                    value
                    for key, value in zip(node.keys, node.values, strict=True)
                    if isinstance(key, ast.Constant) and key.value == "code"
                ]
            for candidate in candidates:
                value = candidate.value if isinstance(candidate, ast.Constant) else None
                if isinstance(value, str) and CODE_LIKE.fullmatch(value):
                    codes.add(value)
    return codes


def test_every_code_answered_outside_the_error_classes_is_in_the_contract() -> None:
    codes = _codes_answered_without_a_class()
    assert {"NOT_JOINED", "CORS_PREFLIGHT_REFUSED"} <= codes, codes
    text = contract()
    missing = sorted(code for code in codes if not documented(code, text))
    assert not missing, f"codes missing from docs/api.md: {', '.join(missing)}"


# -- citations -------------------------------------------------------------------------------


def _sections(text: str) -> set[tuple[int, int | None]]:
    out: set[tuple[int, int | None]] = set()
    for match in HEADING.finditer(text):
        out.add((int(match[1]), int(match[2]) if match[2] else None))
    return out


def _text_files(*folders: str) -> list[Path]:
    """The Python, Markdown and JavaScript files of `folders`, installed packages aside."""
    out: list[Path] = []
    for folder in folders:
        for directory, subdirectories, files in os.walk(ROOT / folder):
            subdirectories[:] = [d for d in subdirectories if d not in SKIPPED_DIRECTORIES]
            out.extend(
                Path(directory, name)
                for name in files
                if Path(name).suffix in {".py", ".md", ".js"}
            )
    return sorted(out)


def test_what_the_code_cites_of_the_contract_exists() -> None:
    sections = _sections(contract())
    assert {(n, None) for n in range(1, 14)} <= sections, "§1 to §13 must all be present"
    wrong = []
    for path in _text_files("src", "tests", "soak", "bench", "docs"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for match in CITATION.finditer(line):
                major, minor = int(match[1]), int(match[2]) if match[2] else None
                if (major, minor) not in sections:
                    wrong.append(f"{path.relative_to(ROOT)}:{number}: {match[0]}")
    assert not wrong, "citations of sections docs/api.md does not have:\n" + "\n".join(wrong)


def test_the_code_cites_no_contract_outside_the_repository() -> None:
    outside = re.compile(r"\b" + "SP" + r"EC\b")  # split, so this file does not match itself
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in _text_files("src", "tests")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if outside.search(line)
    ]
    assert not found, f"cite docs/api.md instead: {', '.join(found)}"
