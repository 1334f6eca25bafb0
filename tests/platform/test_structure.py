"""The module structure of docs/architecture.md holds: no import cycle, and each layer imports
only what is below it.

Imports are read from the source (every `import`, lazy ones inside functions and
`TYPE_CHECKING` blocks included), not from what happens to be loaded.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = "peerview"
FEATURES = (
    "analytics",
    "auth",
    "feedback",
    "interview_requests",
    "interview_sessions",
    "notifications",
    "questions",
    "setup",
    "users",
)
# What sits above the features and may import them; nothing below may import these.
TOP = ("main", "asgi", "cli", "admin", "http", "jobs", "realtime")


def _modules() -> dict[str, Path]:
    modules = {}
    for path in (SRC / PACKAGE).rglob("*.py"):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def import_graph() -> dict[str, set[str]]:
    """Module → the modules of the package it imports anywhere in its source."""
    modules = _modules()
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = module.split(".") if is_package else module.split(".")[:-1]
                    anchor = anchor[: len(anchor) - (node.level - 1)]
                    base = ".".join([*anchor, base] if base else anchor)
                targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
            for target in targets:
                if target.startswith(PACKAGE):
                    resolved = _resolve(target, modules)
                    if resolved not in (None, module, PACKAGE):
                        graph[module].add(resolved)  # type: ignore[arg-type]
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected sets of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def _layer(module: str) -> tuple[str, str | None]:
    """(layer, feature) of a module: 'top', a feature, or 'base'."""
    parts = module.split(".")
    first = parts[1] if len(parts) > 1 else ""
    if first in TOP:
        return "top", None
    if first in FEATURES:
        return "feature", first
    return "base", None


def test_no_module_imports_itself_back() -> None:
    assert cycles(import_graph()) == []


def test_the_cycle_check_sees_a_cycle() -> None:
    # The check itself: a graph with a loop through three modules is reported.
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]


def test_nothing_below_the_top_imports_the_top() -> None:
    wrong = [
        (module, target)
        for module, targets in import_graph().items()
        for target in targets
        if _layer(module)[0] != "top" and _layer(target)[0] == "top"
    ]
    assert wrong == []


@pytest.mark.parametrize("part", ["repository", "schemas", "errors"])
def test_a_features_lower_parts_import_no_service_or_routes(part: str) -> None:
    """SQL, shapes and errors depend on nothing that holds rules or HTTP."""
    wrong = [
        (module, target)
        for module, targets in import_graph().items()
        if module.endswith(f".{part}")
        for target in targets
        if target.rsplit(".", 1)[-1] in ("service", "routes")
    ]
    assert wrong == []


def test_features_reach_each_other_through_services_never_routes() -> None:
    wrong = [
        (module, target)
        for module, targets in import_graph().items()
        for target in targets
        if _layer(module)[0] == "feature"
        and _layer(target)[0] == "feature"
        and _layer(module)[1] != _layer(target)[1]
        and target.endswith(".routes")
    ]
    assert wrong == []
