"""SIGTERM on `peerview serve`: the request in flight completes, then the process exits 0."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

STARTUP_SECONDS = 90
EMAIL = "graceful.person@example.com"
PASSWORD = "graceful password 1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _healthy(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
            conn.sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            return conn.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def _wait_until_refused(port: int) -> None:
    """Until the server stops accepting connections (it has begun shutting down)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except ConnectionRefusedError:
            return
        time.sleep(0.02)
    pytest.fail("the server kept accepting connections after SIGTERM")


def _read_all(conn: socket.socket) -> bytes:
    chunks = []
    while chunk := conn.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def _start(tmp_path: Path) -> subprocess.Popen[bytes] | str:
    """A healthy server, or why it did not come up."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PEERVIEW_")}
    env.update(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'peerview.db'}",
        JWT_SECRET="graceful-shutdown-test-secret-0123456789",
        PEERVIEW_ENV="development",
        LOG_LEVEL="INFO",
    )
    env.pop("REDIS_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "peerview.cli", "serve", "--port", str(port)],
        cwd=tmp_path,  # no .env or development key file of the project is read or written
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.port = port  # type: ignore[attr-defined]
    deadline = time.monotonic() + STARTUP_SECONDS
    while not _healthy(port):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            out, err = proc.communicate()
            return f"{out.decode()}\n{err.decode()}"
        time.sleep(0.05)
    return proc


@pytest.fixture
def server(tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    failures = []
    # The free port is only free when chosen: another process may take it first.
    for attempt in range(3):
        home = tmp_path / str(attempt)
        home.mkdir()
        started = _start(home)
        if not isinstance(started, str):
            break
        failures.append(started)
    else:
        pytest.fail("server did not start:\n" + "\n---\n".join(failures))
    yield started
    if started.poll() is None:
        started.kill()
        started.communicate()


@pytest.mark.slow
def test_sigterm_lets_the_request_in_flight_finish_then_exits_0(
    server: subprocess.Popen[bytes],
) -> None:
    port: int = server.port  # type: ignore[attr-defined]
    body = json.dumps(
        {"name": "Grace", "email": EMAIL, "password": PASSWORD, "role": "INTERVIEWEE"}
    ).encode()
    head = (
        f"POST /api/auth/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nX-Request-ID: in-flight-1\r\n"
        "Expect: 100-continue\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(head)
        # "100 Continue" comes when the application starts reading the body: the request
        # is in flight, waiting for its body, when the signal lands.
        interim = b""
        while not interim.endswith(b"\r\n\r\n"):
            interim += conn.recv(1)
        assert interim.startswith(b"HTTP/1.1 100"), interim
        server.send_signal(signal.SIGTERM)
        _wait_until_refused(port)
        assert server.poll() is None, "the server must wait for the request in flight"
        conn.sendall(body)
        response = _read_all(conn)
    status_line, _, rest = response.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 201 Created", response
    assert b"x-request-id: in-flight-1" in rest.lower()
    assert json.loads(rest.partition(b"\r\n\r\n")[2])["user"]["email"] == EMAIL
    assert server.wait(timeout=30) == 0
    out, err = server.communicate()
    lines = [json.loads(line) for line in err.decode().splitlines() if line.startswith("{")]
    access = [line for line in lines if line["logger"] == "peerview.access"]
    assert {
        "method": "POST",
        "route": "/api/auth/register",
        "status": 201,
        "request_id": "in-flight-1",
    }.items() <= access[-1].items()
    assert not [line for line in lines if line["level"] in ("ERROR", "CRITICAL")], lines
    assert "Traceback" not in err.decode()
    assert EMAIL not in out.decode() + err.decode()
    assert PASSWORD not in out.decode() + err.decode()
