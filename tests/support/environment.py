"""Where the suite runs: which database and Redis, whether they are required, the secret."""

from __future__ import annotations

import os
import threading
from typing import Any

from peerview.config import Settings

POSTGRES_URL = os.environ.get("PEERVIEW_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("PEERVIEW_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REQUIRE_SERVICES = os.environ.get("PEERVIEW_REQUIRE_SERVICES") == "1"
TEST_SECRET = "test-secret-0123456789abcdef0123456789abcdef"


def test_settings(database_url: str, **overrides: Any) -> Settings:
    """The settings every test app starts from: no `.env`, no sweeper, no Redis, the test
    secret, and write limits no test reaches by accident (tests/reliability has its own)."""
    values: dict[str, Any] = {
        "peerview_env": "test",
        "database_url": database_url,
        "jwt_secret": TEST_SECRET,
        "sweeper_enabled": False,
        "redis_url": None,
        # The built-in interviewer unless a test points practice at its fake model.
        "llm_base_url": None,
        "cors_origins": "https://app.peerview.test",
        "write_rate_limit_per_minute": 100_000,
        "write_rate_limit_admin_per_minute": 100_000,
        **overrides,
    }
    return Settings(**values, _env_file=None)  # type: ignore[call-arg]


test_settings.__test__ = False  # type: ignore[attr-defined]  # a factory, not a test


def in_thread(fn: Any, *args: Any) -> Any:
    """`fn(*args)` run on a thread of its own, its result or its exception (Alembic's env and
    `asyncio.run` start an event loop of their own, which the test's running loop forbids)."""
    results: list[Any] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(fn(*args))
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return results[0]
