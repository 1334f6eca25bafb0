"""`peerview import-questions FILE` (docs/api.md §6, §11): JSON or YAML, the API's rules, all or
nothing, a line per item and a total."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from peerview import cli
from peerview.config import Settings
from peerview.models import Question
from peerview.models.base import table_of
from peerview.questions.schemas import QUESTION_IMPORT_MAX_ITEMS
from tests.factories import TestUser
from tests.questions.conftest import MakeQuestion, question_body
from tests.support.sql import execute

questions = table_of(Question)

QUESTIONS = [
    question_body(title="Two sum"),
    question_body(
        title="Design a rate limiter",
        category="System-Design",
        difficulty="HARD",
        type="SYSTEM_DESIGN",
        tags=["Redis", "scale"],
        hints=["Think of a sliding window", "Where do the counters live?"],
        solution="A sliding-window counter per key in Redis.",
    ),
    question_body(title="A time you disagreed", category="people", type="BEHAVIORAL", hints=[]),
]

# The same three questions as YAML is usually written: block style, a folded prompt.
YAML_QUESTIONS = """\
# Questions for the bank
- title: Two sum
  prompt: Find two numbers that add up to a target.
  category: arrays
  difficulty: EASY
  type: CODING
  tags: [hash-map]
  hints:
    - Remember what you have seen.
  solution: One pass with a map from value to index.
- title: Design a rate limiter
  prompt: >
    Find two numbers that add up to a target.
  category: System-Design
  difficulty: HARD
  type: SYSTEM_DESIGN
  tags:
    - Redis
    - scale
  hints:
    - Think of a sliding window
    - Where do the counters live?
  solution: A sliding-window counter per key in Redis.
- title: A time you disagreed
  prompt: Find two numbers that add up to a target.
  category: people
  difficulty: EASY
  type: BEHAVIORAL
  tags: [hash-map]
  solution: One pass with a map from value to index.
"""

LINE = re.compile(
    r"^item +(?P<index>\d+): (?P<outcome>created|skipped) +(?P<id>\S+)  "
    r"\[(?P<category>[^\]]+)\] (?P<title>.+?)(?: \((?P<why>[^)]*)\))?$"
)


async def run_cli(*argv: str) -> int:
    # The command runs its own event loop, as it does from a shell.
    return await asyncio.to_thread(cli.main, list(argv))


def write(directory: Path, name: str, content: str | bytes) -> Path:
    path = directory / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


async def stored(app: FastAPI) -> dict[str, dict[str, Any]]:
    """The bank's questions by id."""
    async with app.services.database.transaction(write=False) as db:
        rows = (await execute(db, select(questions))).mappings().all()
    return {row["id"]: dict(row) for row in rows}


def item_lines(out: str) -> list[dict[str, str]]:
    """The per-item lines of the command's output, parsed; every other line is not one."""
    found = []
    for line in out.splitlines():
        if line.startswith("item "):
            match = LINE.match(line)
            assert match, line
            found.append(match.groupdict())
    return found


async def test_a_json_file_is_imported_with_a_line_per_item_and_a_total(
    cli_settings: Settings, app: FastAPI, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "bank.json", json.dumps(QUESTIONS))
    assert await run_cli("import-questions", str(path)) == 0
    out = capsys.readouterr().out
    first, *_, last = out.splitlines()
    assert first.startswith(f"Importing 3 question(s) from {path}")
    assert last == "3 created, 0 skipped."
    lines = item_lines(out)
    assert [(ln["index"], ln["outcome"], ln["why"]) for ln in lines] == [
        ("0", "created", None),
        ("1", "created", None),
        ("2", "created", None),
    ]
    assert [(ln["category"], ln["title"]) for ln in lines] == [
        ("arrays", "Two sum"),
        ("system-design", "Design a rate limiter"),
        ("people", "A time you disagreed"),
    ]
    bank = await stored(app)
    assert set(bank) == {ln["id"] for ln in lines}
    design = bank[lines[1]["id"]]
    assert (design["category"], design["difficulty"], design["type"]) == (
        "system-design",
        "HARD",
        "SYSTEM_DESIGN",
    )
    assert design["tags"] == ["redis", "scale"]
    assert design["hints"] == ["Think of a sliding window", "Where do the counters live?"]
    assert {row["created_by_id"] for row in bank.values()} == {None}


@pytest.mark.parametrize("name", ["bank.yaml", "bank.yml", "BANK.YAML"])
async def test_a_yaml_file_is_imported_like_its_json(
    cli_settings: Settings,
    app: FastAPI,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
) -> None:
    path = write(tmp_path, name, YAML_QUESTIONS)
    assert await run_cli("import-questions", str(path)) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == "3 created, 0 skipped."
    bank = await stored(app)
    by_title = {row["title"]: row for row in bank.values()}
    assert set(by_title) == {q["title"] for q in QUESTIONS}
    design = by_title["Design a rate limiter"]
    # A folded scalar keeps its final line break, and text is trimmed as the API trims it.
    assert design["prompt"] == "Find two numbers that add up to a target."
    assert design["tags"] == ["redis", "scale"]
    assert by_title["A time you disagreed"]["hints"] == []


@pytest.mark.parametrize(
    ("name", "content"),
    [("bank.txt", json.dumps(QUESTIONS, indent=2)), ("bank", YAML_QUESTIONS)],
    ids=["json-content", "yaml-content"],
)
async def test_without_a_known_extension_the_content_tells_json_from_yaml(
    cli_settings: Settings,
    app: FastAPI,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    content: str,
) -> None:
    path = write(tmp_path, name, content)
    assert await run_cli("import-questions", str(path)) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "3 created, 0 skipped."
    assert len(await stored(app)) == 3


async def test_running_it_again_skips_every_question_and_changes_nothing(
    cli_settings: Settings, app: FastAPI, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "bank.json", json.dumps(QUESTIONS))
    assert await run_cli("import-questions", str(path)) == 0
    first = item_lines(capsys.readouterr().out)
    before = await stored(app)
    assert await run_cli("import-questions", str(path)) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == "0 created, 3 skipped."
    again = item_lines(out)
    assert [ln["id"] for ln in again] == [ln["id"] for ln in first]
    assert {(ln["outcome"], ln["why"]) for ln in again} == {("skipped", "already in the bank")}
    assert await stored(app) == before


async def test_the_command_skips_what_the_api_would_skip(
    cli_settings: Settings,
    app: FastAPI,
    client: httpx.AsyncClient,
    admin: TestUser,
    question: MakeQuestion,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    existing = await question(title="Two Sum", category="arrays")
    retired = await question(title="Retired", category="arrays")
    await client.delete(f"/api/questions/{retired['id']}", headers=admin.headers)
    body = [
        question_body(title="  two   SUM ", category="Arrays"),
        question_body(title="Retired"),
        question_body(title="Brand new"),
        question_body(title="BRAND NEW"),
    ]
    path = write(tmp_path, "bank.json", json.dumps(body))
    assert await run_cli("import-questions", str(path)) == 0
    out = capsys.readouterr().out
    lines = item_lines(out)
    assert [(ln["outcome"], ln["why"]) for ln in lines] == [
        ("skipped", "already in the bank"),
        ("skipped", "soft-deleted in the bank; restore it to bring it back"),
        ("created", None),
        ("skipped", "same as item 2"),
    ]
    assert [ln["id"] for ln in lines[:2]] == [existing["id"], retired["id"]]
    assert lines[3]["id"] == lines[2]["id"]
    assert out.splitlines()[-1] == "1 created, 3 skipped."
    # The API answers the same list with the same outcomes and ids.
    response = await client.post("/api/questions/import", json=body, headers=admin.headers)
    assert response.status_code == 200, response.text
    answered = response.json()["items"]
    assert [item["id"] for item in answered] == [ln["id"] for ln in lines]
    assert [item["reason"] for item in answered] == ["exists", "exists_deleted", "exists", "exists"]


async def test_an_invalid_item_exits_2_naming_item_and_field_and_writes_nothing(
    cli_settings: Settings, app: FastAPI, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = [question_body(title=f"Question {n}") for n in range(5)]
    body[3]["difficulty"] = "IMPOSSIBLE"
    body[1]["titel"] = "a typo"
    body[4]["tags"] = ["ok", "x" * 41]
    path = write(tmp_path, "bank.json", json.dumps(body))
    assert await run_cli("import-questions", str(path)) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err
    assert err.startswith(f"error: {path}: invalid questions, nothing was imported")
    assert "  item 1, titel: Extra inputs are not permitted" in err
    assert "  item 3, difficulty: Input should be 'EASY', 'MEDIUM' or 'HARD'" in err
    assert "  item 4, tags.1: String should have at most 40 characters" in err
    assert await stored(app) == {}


def _many(count: int) -> str:
    return json.dumps([question_body(title=f"Question {n}") for n in range(count)])


UNREADABLE = [
    ("missing.json", None, "cannot be read (No such file or directory)"),
    ("folder.json", "directory", "cannot be read (Is a directory)"),
    ("latin1.json", b'[{"title": "Caf\xe9"}]', "not UTF-8 text"),
    ("broken.json", '[{"title": "Two sum",}]', "not valid JSON (line 1, column 22:"),
    (
        "broken.yaml",
        "- title: [Two sum\n- prompt: x\n",
        "not valid YAML (line 2, column 9: expected ',' or ']'",
    ),
    ("two.yaml", "- title: a\n---\n- title: b\n", "not valid YAML (line 2, column 1:"),
    ("empty.yaml", "# nothing yet\n", "the file holds no questions"),
    ("object.json", json.dumps(question_body()), "the list: Input should be a valid list"),
    ("none.json", "[]", "the list: List should have at least 1 item"),
    (
        "many.json",
        _many(QUESTION_IMPORT_MAX_ITEMS + 1),
        f"the list: List should have at most {QUESTION_IMPORT_MAX_ITEMS} items",
    ),
]


@pytest.mark.parametrize(
    ("name", "content", "message"), UNREADABLE, ids=[name for name, _, _ in UNREADABLE]
)
async def test_a_file_that_cannot_be_read_as_questions_exits_2_and_writes_nothing(
    cli_settings: Settings,
    app: FastAPI,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    content: str | bytes | None,
    message: str,
) -> None:
    path = tmp_path / name
    if content == "directory":
        path.mkdir()
    elif content is not None:
        write(tmp_path, name, content)
    assert await run_cli("import-questions", str(path)) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"error: {path}: ")
    assert message in captured.err
    assert await stored(app) == {}


async def test_the_most_items_the_api_takes_are_imported(
    cli_settings: Settings, app: FastAPI, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "many.json", _many(QUESTION_IMPORT_MAX_ITEMS))
    assert await run_cli("import-questions", str(path)) == 0
    out = capsys.readouterr().out
    assert len(item_lines(out)) == QUESTION_IMPORT_MAX_ITEMS
    assert out.splitlines()[-1] == f"{QUESTION_IMPORT_MAX_ITEMS} created, 0 skipped."
    assert len(await stored(app)) == QUESTION_IMPORT_MAX_ITEMS
