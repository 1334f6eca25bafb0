"""The web app's files (docs/api.md §12): offline, CSP-clean, every module present and parsed,
the vendored Socket.IO client the one the tests pin."""

from __future__ import annotations

import re
import subprocess

import httpx
import pytest

from peerview.web import ASSETS, INDEX, STATIC
from tests.realtime.support import JS_DIR

SCRIPTS = sorted((ASSETS / "js").rglob("*.js"))
TEXT_FILES = [INDEX, *SCRIPTS, *ASSETS.glob("*.css"), *ASSETS.glob("*.svg")]
# An address the browser would fetch at run time: anything absolute but the SVG namespace.
EXTERNAL = re.compile(r"""(?:src|href|url|import|from|fetch)\s*[=(]?\s*["'(]\s*(?:https?:)?//""")
IMPORT = re.compile(r"""(?:\bfrom\s*|\bimport\s*\(\s*)["']([^"']+)["']""")


def test_nothing_is_loaded_from_another_host() -> None:
    found = [
        f"{path.relative_to(STATIC)}: {match[0]}"
        for path in TEXT_FILES
        for match in EXTERNAL.finditer(path.read_text(encoding="utf-8"))
    ]
    assert found == []


def test_the_page_has_no_inline_script_or_style() -> None:
    page = INDEX.read_text(encoding="utf-8")
    scripts = re.findall(r"<script\b[^>]*>", page)
    assert scripts
    assert all('src="/assets/' in tag for tag in scripts), scripts
    assert "<style" not in page
    assert not re.search(r"\sstyle=", page)
    assert not re.search(r"\son[a-z]+=", page), "inline event handlers need 'unsafe-inline'"


def test_scripts_use_nothing_the_csp_forbids() -> None:
    forbidden = re.compile(r"\beval\(|new Function\(|setAttribute\(\s*[\"']style|\.innerHTML\s*=")
    found = [
        f"{path.relative_to(STATIC)}:{n}: {line.strip()}"
        for path in SCRIPTS
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if forbidden.search(line)
    ]
    assert found == []


def test_every_imported_module_exists() -> None:
    missing = []
    for path in SCRIPTS:
        for target in IMPORT.findall(path.read_text(encoding="utf-8")):
            if not (path.parent / target).resolve().is_file():
                missing.append(f"{path.relative_to(STATIC)} imports {target}")
    assert missing == []


def test_every_script_parses_as_a_module(node: str) -> None:
    for path in SCRIPTS:
        checked = subprocess.run(
            [node, "--experimental-default-type=module", "--check", str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert checked.returncode == 0, f"{path.relative_to(STATIC)}: {checked.stderr}"


def test_the_vendored_socket_io_client_is_the_pinned_one(node: str) -> None:
    pinned = JS_DIR / "node_modules" / "socket.io-client" / "dist" / "socket.io.esm.min.js"
    vendored = ASSETS / "vendor" / "socket.io.esm.min.js"
    assert vendored.read_bytes() == pinned.read_bytes(), (
        f"copy {pinned} to {vendored} (the client the tests pin, tests/realtime/js/package.json)"
    )


@pytest.mark.parametrize("path", ["/", "/assets/js/main.js", "/assets/app.css"])
async def test_the_app_is_served_with_its_content_security_policy(
    client: httpx.AsyncClient, path: str
) -> None:
    answer = await client.get(path)
    assert answer.status_code == 200
    policy = answer.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "unsafe" not in policy
    assert answer.headers["cache-control"] == "no-cache"
    assert answer.headers["x-content-type-options"] == "nosniff"
    again = await client.get(path, headers={"If-None-Match": answer.headers["etag"]})
    # Unchanged since the last load: 304, no body.
    assert again.status_code == 304


async def test_an_unknown_asset_is_a_404_problem(client: httpx.AsyncClient) -> None:
    for path in ("/assets/nope.js", "/assets/../web/__init__.py", "/assets/"):
        answer = await client.get(path)
        assert answer.status_code == 404, path
        assert answer.json()["code"] == "NOT_FOUND"
