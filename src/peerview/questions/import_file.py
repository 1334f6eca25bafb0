"""Question files for `peerview import-questions`: read as JSON or YAML, checked and imported
by the same schema and service as `POST /api/questions/import` (docs/api.md §6.1, §11)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError

from peerview.clock import Clock, SystemClock
from peerview.config import Settings
from peerview.db import create_database
from peerview.questions import service
from peerview.questions.schemas import QuestionCreate, QuestionImport, QuestionImportResult

JSON_SUFFIXES = frozenset({".json"})
YAML_SUFFIXES = frozenset({".yaml", ".yml"})

_items: TypeAdapter[list[QuestionCreate]] = TypeAdapter(QuestionImport)


class ImportFileError(Exception):
    """The file cannot be read, is not JSON or YAML, or holds invalid questions; the message
    says which, and for invalid questions names each item (from 0, as the API does) and field."""


def read_questions(path: Path) -> list[QuestionCreate]:
    """The questions of a JSON or YAML file, validated as the API validates an import."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ImportFileError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    except OSError as exc:
        raise ImportFileError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    data = _parse(path, text)
    try:
        return _items.validate_python(data)
    except ValidationError as exc:
        problems = "\n".join(f"  {_where(e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ImportFileError(
            f"{path}: invalid questions, nothing was imported "
            f"(items are counted from 0, as in the API's answers):\n{problems}"
        ) from exc


def _parse(path: Path, text: str) -> Any:
    """JSON for `.json`, YAML for `.yaml`/`.yml`; otherwise JSON when the text starts like a
    JSON list or object, YAML when it does not."""
    suffix = path.suffix.lower()
    as_json = suffix in JSON_SUFFIXES or (
        suffix not in YAML_SUFFIXES and text.lstrip().startswith(("[", "{"))
    )
    if as_json:
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            where = f"line {exc.lineno}, column {exc.colno}"
            raise ImportFileError(f"{path}: not valid JSON ({where}: {exc.msg})") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ImportFileError(f"{path}: not valid YAML ({_yaml_problem(exc)})") from exc
    if data is None:
        raise ImportFileError(f"{path}: the file holds no questions")
    return data


def _yaml_problem(exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        return f"line {mark.line + 1}, column {mark.column + 1}: {exc.problem}"
    return str(exc)


def _where(loc: tuple[int | str, ...]) -> str:
    """An error's place: `item 3, difficulty`, or `the list` for the list as a whole."""
    if not loc:
        return "the list"
    index, *field = loc
    named = f"item {index}"
    return f"{named}, {'.'.join(map(str, field))}" if field else named


async def import_file(
    *, settings: Settings, items: list[QuestionCreate], clock: Clock | None = None
) -> QuestionImportResult:
    """Import `items` in one transaction: all of them are written, or (on an error) none."""
    now = (clock or SystemClock()).now()
    database = create_database(settings)
    try:
        async with database.transaction() as db:
            return await service.import_questions(db=db, now=now, created_by_id=None, items=items)
    finally:
        await database.close()
