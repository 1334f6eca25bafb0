"""The systemd units and environment example of deploy/ name what Peerview really takes."""

from __future__ import annotations

import configparser
import shlex
from pathlib import Path

import pytest

from peerview.cli import build_parser
from peerview.config import Settings

DEPLOY = Path(__file__).parents[2] / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))


def unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(path.read_text())
    return parser


@pytest.mark.parametrize("path", UNITS, ids=[p.name for p in UNITS])
def test_each_unit_runs_a_peerview_command_that_exists(path: Path) -> None:
    command = shlex.split(unit(path)["Service"]["ExecStart"])
    assert command[0].endswith("/.venv/bin/peerview")
    build_parser().parse_args(command[1:])  # exits (fails the test) on an unknown argument


def test_instances_migrate_nothing_and_are_named_by_their_node() -> None:
    service = unit(DEPLOY / "systemd" / "peerview@.service")["Service"]
    assert "--no-migrate" in shlex.split(service["ExecStart"])
    assert service["Environment"] == "NODE_NAME=%i"
    assert service["KillSignal"] == "SIGTERM"


def test_the_environment_example_names_only_real_settings() -> None:
    fields = {name.upper() for name in Settings.model_fields}
    names = [
        line.split("=", 1)[0]
        for line in (DEPLOY / "systemd" / "peerview.env.example").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert names
    assert [name for name in names if name not in fields] == []
