"""Real `peerview serve` processes for the tests that need a server of their own."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def peerview_process(
    env: dict[str, str], log: Path, *, migrate: bool = True, workers: int = 1, port: int = 0
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`peerview serve` on `port` (a free one by default); stopped (SIGTERM) on the way out.

    Without `migrate` it serves at once, so it can start while its database is still being
    made (health answers 503 until the database answers).
    """
    port = port or free_port()
    command = [sys.executable, "-m", "peerview.cli", "serve", "--port", str(port)]
    command += ["--workers", str(workers)]
    if not migrate:
        command.append("--no-migrate")
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            env=env,
            cwd=log.parent,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield f"http://127.0.0.1:{port}", process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
