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

STARTUP_SECONDS = 60
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


def _read_all(conn: socket.socket) -> bytes:
    chunks = []
    while chunk := conn.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PEERVIEW_")}
    env.update(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'peerview.db'}",
        JWT_SECRET="graceful-shutdown-test-secret-0123456789",
        PEERVIEW_ENV="development",
        LOG_LEVEL="INFO",
        PORT=str(port),
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
            pytest.fail(f"server did not start:\n{out.decode()}\n{err.decode()}")
        time.sleep(0.05)
    yield proc
    if proc.poll() is None:
        proc.kill()
        proc.communicate()


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
        f"Content-Length: {len(body)}\r\nX-Request-ID: in-flight-1\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        # The request has begun (headers and half the body are in) when the signal lands.
        conn.sendall(head + body[:20])
        time.sleep(0.1)
        server.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        assert server.poll() is None, "the server must wait for the request in flight"
        with pytest.raises(ConnectionRefusedError):  # no longer accepting
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        conn.sendall(body[20:])
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
    assert EMAIL not in out.decode() + err.decode()
    assert PASSWORD not in out.decode() + err.decode()
