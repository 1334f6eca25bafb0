"""One fuzzing target per test module: its own fresh database, app, users and seed data."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.contract.support import FuzzTarget, build_target, close_target, fresh_database


@pytest.fixture(scope="module")
def fuzz_target(
    migrated_template: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FuzzTarget]:
    url = fresh_database(migrated_template, tmp_path_factory.mktemp("fuzz"))
    target = build_target(url)
    try:
        yield target
    finally:
        close_target(target)
