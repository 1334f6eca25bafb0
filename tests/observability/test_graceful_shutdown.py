"""SIGTERM on `peerview serve`: the request in flight completes, then the process exits 0."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest
import socketio

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


def _workers(process: subprocess.Popen[bytes]) -> list[int]:
    """The server's worker processes (children of the process that was started)."""
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text()
    return [int(pid) for pid in children.split()]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
@pytest.mark.parametrize(
    "worker_signals",
    [0, 3],
    ids=["sigterm", "sigterm-and-more-to-the-worker"],
)
def test_sigterm_lets_the_request_in_flight_finish_then_exits_0(
    server: subprocess.Popen[bytes], worker_signals: int
) -> None:
    """`worker_signals`: more SIGTERMs straight to the worker, as Ctrl-C in a terminal or a
    service manager that signals every process of the service sends them."""
    port: int = server.port  # type: ignore[attr-defined]
    [worker] = _workers(server)
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
        for _ in range(worker_signals):
            time.sleep(0.2)  # signals sent at once would arrive as one
            os.kill(worker, signal.SIGTERM)
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


@pytest.mark.slow
async def test_sigterm_closes_socket_io_clients_so_a_long_poll_does_not_hold_the_stop(
    server: subprocess.Popen[bytes],
) -> None:
    url = f"http://127.0.0.1:{server.port}"  # type: ignore[attr-defined]
    async with httpx.AsyncClient(base_url=url) as http:
        registered = await http.post(
            "/api/auth/register",
            json={"name": "Polly", "email": EMAIL, "password": PASSWORD, "role": "INTERVIEWEE"},
        )
    assert registered.status_code == 201, registered.text
    heard: list[Any] = []
    async with aiohttp.ClientSession() as session:
        client = socketio.AsyncClient(reconnection=False, http_session=session)
        client.on("disconnect", lambda *reason: heard.append(reason))
        # Polling only: the client always has a long poll in flight at the server.
        await client.connect(
            url,
            auth={"token": registered.json()["access_token"]},
            transports=["polling"],
            wait_timeout=10,
        )
        # Idle: the handshake's last packets are through, and its long poll waits at the server.
        await asyncio.sleep(1)
        started = time.monotonic()
        server.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(server.wait, 30)
        took = time.monotonic() - started
        await client.disconnect()
        await client.shutdown()
    # A long poll lasts up to Engine.IO's ping interval (25 s), longer than the 20 s after which
    # a worker still busy is killed (skipping the lifespan shutdown): the client was closed at
    # once instead, and told so.
    assert code == 0
    assert took < 10, took
    assert heard, "the client was not told of the disconnect"
    _, err = server.communicate()
    lines = [json.loads(line) for line in err.decode().splitlines() if line.startswith("{")]
    # The worker ran its lifespan shutdown to the end: it was not killed while busy.
    assert [line for line in lines if line["message"].startswith("stopped:")], lines
    # granian may still report a kill when the worker it joined has exited but is not reaped
    # yet (a loaded machine): long after the shutdown above, and harmless.
    warnings = [
        line
        for line in lines
        if line["level"] in ("WARNING", "ERROR", "CRITICAL")
        and not (line["logger"] == "_granian" and line["message"].startswith("Killing worker"))
    ]
    assert not warnings, warnings
    assert "Traceback" not in err.decode()


@pytest.mark.slow
def test_workers_end_with_the_server_process_when_it_is_killed(
    server: subprocess.Popen[bytes],
) -> None:
    workers = _workers(server)
    assert workers
    server.kill()
    server.wait()
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    survivors = [pid for pid in workers if _alive(pid)]
    for pid in survivors:
        os.kill(pid, signal.SIGKILL)  # or they would hold the port (and our pipes) for good
    server.communicate()
    assert not survivors, "a worker outlived its server"
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", server.port), timeout=1)  # type: ignore[attr-defined]
