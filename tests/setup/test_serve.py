"""`peerview serve` prints a setup code while no admin exists, and any worker takes it
(docs/api.md §3.5, §11). Real server processes, as an operator starts them."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from tests.platform.apps import assert_problem
from tests.reliability.faults_support import server_env, text_of, until_healthy
from tests.setup.support import SETUP, SETUP_ADMIN, admin_body
from tests.support.servers import free_port, peerview_process

ANNOUNCEMENT = re.compile(
    r"^No administrator yet: open (?P<url>\S+) and enter the setup code "
    r"(?P<code>[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4})$",
    re.MULTILINE,
)


def announced(log: Path) -> list[re.Match[str]]:
    return list(ANNOUNCEMENT.finditer(text_of(log)))


async def fresh(url: str, method: str, path: str, **kwargs: object) -> httpx.Response:
    """One request on a connection of its own: it reaches whichever worker the kernel picks."""
    async with httpx.AsyncClient(base_url=url) as http:
        return await http.request(method, path, **kwargs)  # type: ignore[arg-type]


async def test_serve_prints_a_code_any_worker_takes_once_and_none_once_an_admin_exists(
    database_url: str, tmp_path: Path
) -> None:
    env = server_env(database_url)
    port = free_port()

    first_log = tmp_path / "first.log"
    with peerview_process(env, first_log, workers=2, port=port) as (url, process):
        await until_healthy(url, process, first_log)
        [line] = announced(first_log)
        assert line["url"] == f"http://127.0.0.1:{port}/#/setup"
        assert "starter question bank loaded" in text_of(first_log)
        first_code = line["code"]

    # A restart while no admin exists prints a new code; the old one stops working.
    second_log = tmp_path / "second.log"
    with peerview_process(env, second_log, migrate=False, workers=2, port=port) as (
        url,
        process,
    ):
        await until_healthy(url, process, second_log)
        [line] = announced(second_log)
        code = line["code"]
        assert code != first_code
        assert "starter question bank" not in text_of(second_log)
        for _ in range(4):
            status = await fresh(url, "GET", SETUP)
            assert status.json() == {"setup_open": True}
        old = await fresh(url, "POST", SETUP_ADMIN, json=admin_body(first_code))
        assert_problem(old, 403, "INVALID_SETUP_CODE")
        made = await fresh(url, "POST", SETUP_ADMIN, json=admin_body(code))
        assert made.status_code == 201, made.text
        assert made.json()["user"]["role"] == "ADMIN"
        for _ in range(4):
            again = await fresh(url, "POST", SETUP_ADMIN, json=admin_body(code, email="b@e.com"))
            assert_problem(again, 403, "SETUP_CLOSED")
            assert (await fresh(url, "GET", SETUP)).json() == {"setup_open": False}

    third_log = tmp_path / "third.log"
    with peerview_process(env, third_log, migrate=False, port=port) as (url, process):
        await until_healthy(url, process, third_log)
        assert announced(third_log) == []
        assert "No administrator" not in text_of(third_log)


async def test_serve_on_a_database_not_migrated_yet_says_no_code_was_made_and_serves(
    tmp_path: Path,
) -> None:
    env = server_env(f"sqlite+aiosqlite:///{tmp_path / 'not-migrated.db'}")
    log = tmp_path / "serve.log"
    with peerview_process(env, log, migrate=False) as (url, process):
        await until_healthy(url, process, log)
        assert announced(log) == []
        assert "Could not check for an administrator" in text_of(log)
        assert "no setup code was made" in text_of(log)
