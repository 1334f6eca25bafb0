"""The code pad's editor bundle (assets/vendor/codepad.js): committed so that `make run` needs no
Node, and checked here to be exactly what web/build.mjs makes from web/'s sources and pinned
packages (esbuild's output is deterministic for the same inputs and versions), to parse as a
module, to load nothing from another host and to need nothing the CSP forbids.
test_web_assets.py reads assets/js only: these are its checks for the bundle, which is minified
(one line per statement run, so its line-based checks would say nothing useful)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from peerview.web import ASSETS
from tests.platform.test_web_assets import EXTERNAL

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
BUNDLE = ASSETS / "vendor" / "codepad.js"
LICENSES = ASSETS / "vendor" / "codepad.js.LICENSE.txt"


@pytest.fixture
def web_node() -> str:
    """node, with web/'s packages installed (`make web-deps`, part of `make test`)."""
    node = shutil.which("node")
    installed = (WEB / "node_modules" / "esbuild" / "package.json").exists()
    if node is None or not installed:
        reason = "node is not installed" if node is None else f"run `npm ci` in {WEB}"
        if os.environ.get("PEERVIEW_REQUIRE_SERVICES") == "1":
            pytest.fail(f"the code pad bundle's check needs node and web/'s install: {reason}")
        pytest.skip(reason)
    return node


def test_the_committed_bundle_is_the_one_web_builds(web_node: str, tmp_path: Path) -> None:
    out = tmp_path / "codepad.js"
    built = subprocess.run(
        [web_node, str(WEB / "build.mjs"), str(out)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert built.returncode == 0, built.stderr
    stale = "stale: run `make web-build` and commit src/peerview/web/static/assets/vendor/"
    assert out.read_bytes() == BUNDLE.read_bytes(), f"codepad.js is {stale}"
    licenses = tmp_path / "codepad.js.LICENSE.txt"
    assert licenses.read_bytes() == LICENSES.read_bytes(), f"codepad.js.LICENSE.txt is {stale}"


def test_the_bundle_names_the_versions_it_was_built_from() -> None:
    header = BUNDLE.read_text(encoding="utf-8").split("\n", 3)[:3]
    manifest = json.loads((WEB / "package.json").read_text(encoding="utf-8"))
    for name, version in manifest["dependencies"].items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name}: pin an exact version"
        assert f"{name}@{version}" in header[1], name
    assert f"esbuild@{manifest['devDependencies']['esbuild']}" in header[2]


def test_the_bundle_parses_as_a_module() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    checked = subprocess.run(
        [node, "--experimental-default-type=module", "--check", str(BUNDLE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr


def test_the_bundle_loads_nothing_from_another_host_and_needs_no_unsafe_csp() -> None:
    source = BUNDLE.read_text(encoding="utf-8")
    assert EXTERNAL.findall(source) == []
    assert re.findall(r"\beval\(|new Function\(|\.innerHTML\s*=", source) == []
    # A style attribute set from script is blocked by style-src 'self'; CSSOM is not.
    assert re.findall(r"setAttribute\(\s*[\"']style", source) == []
