"""Setup codes and the setup page's address (pure rules of setup/codes.py and first_run.py)."""

from __future__ import annotations

import re

import pytest

from peerview.setup import codes
from peerview.setup.first_run import announcement, setup_url

CODE = re.compile(r"^[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}$")


def test_a_code_is_three_groups_of_four_symbols_without_look_alikes() -> None:
    made = {codes.new_code() for _ in range(200)}
    assert len(made) == 200
    for code in made:
        assert CODE.match(code), code
        assert not set(code) & set("01IO")


def test_the_alphabet_holds_32_symbols_so_a_code_holds_60_bits() -> None:
    assert len(set(codes.ALPHABET)) == 32
    assert codes.GROUPS * codes.GROUP_LENGTH * 5 == 60


@pytest.mark.parametrize("typed", ["abcd-efgh-jkmn", " ABCD EFGH JKMN ", "abcdefghjkmn"])
def test_case_spaces_and_dashes_do_not_matter(typed: str) -> None:
    assert codes.digest(typed) == codes.digest("ABCD-EFGH-JKMN")


def test_only_a_hash_is_kept() -> None:
    digest = codes.digest("ABCD-EFGH-JKMN")
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert "ABCD" not in digest
    assert codes.digest("ABCD-EFGH-JKMP") != digest


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:5000/#/setup"),
        ("peerview.example.com", "http://peerview.example.com:5000/#/setup"),
        ("::1", "http://[::1]:5000/#/setup"),
    ],
)
def test_the_setup_url_names_the_listen_address(host: str, url: str) -> None:
    assert setup_url(host, 5000) == url


@pytest.mark.parametrize("host", ["0.0.0.0", "::"])  # noqa: S104 (listen addresses shown)
def test_a_wildcard_listen_address_is_shown_as_the_host_name(host: str) -> None:
    import socket

    assert setup_url(host, 8000) == f"http://{socket.gethostname()}:8000/#/setup"


def test_the_announcement_gives_the_url_and_the_code() -> None:
    line = announcement("ABCD-EFGH-JKMN", "http://127.0.0.1:5000/#/setup")
    assert line == (
        "No administrator yet: open http://127.0.0.1:5000/#/setup and enter the setup code "
        "ABCD-EFGH-JKMN"
    )
