"""Every operation of the OpenAPI schema, fuzzed as every role: no 5xx, answers as documented.

Valid and invalid inputs (schemathesis' positive and negative generation) are sent with the
token of a role Hypothesis picks; path parameters are half the time ids that exist, so the
rules behind the lookups are reached too. Each response must be no server error, have a
documented status, content type and body schema (problem documents included), carry the
security headers, and be refused without credentials if it succeeded with them.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from hypothesis import given, note
from hypothesis import strategies as st
from schemathesis import GenerationMode

from peerview.clock import FakeClock
from peerview.main import create_app
from tests.contract.support import CHECKS, ROLES, FuzzTarget, fuzz_settings
from tests.support.environment import test_settings


def _operations() -> list[tuple[str, str, bool]]:
    """(method, path, authenticated) of every documented operation, read at collection."""
    app_settings = test_settings("sqlite+aiosqlite:///:memory:")
    app = create_app(app_settings, FakeClock())
    paths = app.openapi()["paths"]
    app.services.passwords.close()
    return [
        (method.upper(), path, bool(operation.get("security")))
        for path, operations in paths.items()
        for method, operation in operations.items()
    ]


OPERATIONS = _operations()


def _has_inputs(operation: Any) -> bool:
    return (operation.body is not None and len(operation.body) > 0) or any(
        True for _ in operation.iter_parameters()
    )


@pytest.mark.parametrize(
    ("method", "path", "authenticated"),
    OPERATIONS,
    ids=[f"{method} {path}" for method, path, _ in OPERATIONS],
)
def test_operation_keeps_its_contract_for_every_role(
    fuzz_target: FuzzTarget, method: str, path: str, authenticated: bool
) -> None:
    operation = fuzz_target.schema[path][method]
    strategy = operation.as_strategy(generation_mode=GenerationMode.POSITIVE)
    if _has_inputs(operation):
        strategy = st.one_of(
            strategy, operation.as_strategy(generation_mode=GenerationMode.NEGATIVE)
        )
    # Anonymous operations (health, register, login) take no token: one pass covers them.
    roles = st.sampled_from(ROLES) if authenticated else st.none()
    answered: Counter[int] = Counter()

    @fuzz_settings()
    @given(case=strategy, role=roles, data=st.data())
    def run(case: Any, role: Any, data: st.DataObject) -> None:
        known = fuzz_target.known_ids
        if case.path_parameters and data.draw(st.booleans(), label="ids that exist"):
            for name in case.path_parameters:
                if known.get(name):
                    case.path_parameters[name] = data.draw(st.sampled_from(known[name]), label=name)
        headers = fuzz_target.headers(role) if role is not None else None
        note(f"as {role.value if role else 'anonymous'}")
        response = case.call(headers=headers)
        answered[response.status_code] += 1
        case.validate_response(response, checks=CHECKS, headers=headers)

    run()
    print(f"{method} {path}: {dict(sorted(answered.items()))}")  # shown with `pytest -s`
