"""Debian's nginx in front of two `peerview serve` instances, with deploy/nginx/peerview.conf.

The site file is used as it is, with only its addresses changed: the instances' ports
(5001, 5002) and nginx's own (80) become free ports of this machine. nginx runs in the
foreground from a temporary prefix, with a main configuration of the test's own (pid file,
logs, temporary directories) that includes the site file. Without nginx the tests skip, or
fail when PEERVIEW_REQUIRE_SERVICES=1 (CI, which installs it).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.reliability.faults_support import server_env, text_of, until_healthy
from tests.support.environment import REQUIRE_SERVICES
from tests.support.servers import free_port

SITE = Path(__file__).parents[2] / "deploy" / "nginx" / "peerview.conf"
NODES = {"a": "127.0.0.1:5001", "b": "127.0.0.1:5002"}
NGINX_LISTEN = "listen 80;"


def nginx_binary() -> str:
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None
    )
    if found is None:
        if REQUIRE_SERVICES:
            pytest.fail("nginx is required (deploy/nginx) but is not installed")
        pytest.skip("nginx is not installed")
    return found


def site_config(ports: dict[str, int], listen: int) -> str:
    """deploy/nginx/peerview.conf with the test's ports in place of the example's."""
    text = SITE.read_text()
    assert NGINX_LISTEN in text
    text = text.replace(NGINX_LISTEN, f"listen 127.0.0.1:{listen};")
    for node, address in NODES.items():
        assert address in text
        text = text.replace(address, f"127.0.0.1:{ports[node]}")
    return text


def main_config(prefix: Path, site: Path) -> str:
    user = "user root;\n" if os.geteuid() == 0 else ""
    temp = "\n".join(
        f"    {name}_temp_path {prefix / name};"
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""{user}daemon off;
worker_processes 1;
pid {prefix / "nginx.pid"};
error_log {prefix / "error.log"} warn;
events {{ worker_connections 1024; }}
http {{
    access_log {prefix / "access.log"};
{temp}
    include {site};
}}
"""


@dataclass
class Instance:
    """One `peerview serve`, stopped and started again on its own port."""

    node: str
    port: int
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        command = [sys.executable, "-m", "peerview.cli", "serve", "--no-migrate"]
        command += ["--port", str(self.port)]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(  # noqa: ASYNC220 (kept to stop it as a Popen)
                command, env=self.env, cwd=self.log.parent, stdout=out, stderr=subprocess.STDOUT
            )
        await until_healthy(self.url, self.process, self.log)

    async def stop(self) -> None:
        """SIGTERM, as systemd stops a unit: requests in flight finish first."""
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.to_thread(process.wait, 30)
        except subprocess.TimeoutExpired:
            process.kill()
            await asyncio.to_thread(process.wait)
            pytest.fail(f"{self.node} did not stop within 30 s:\n{text_of(self.log)}")


@dataclass
class Deployment:
    url: str
    instances: dict[str, Instance]
    nginx_log: Path
    site: str = field(repr=False, default="")


@contextlib.contextmanager
def _nginx(prefix: Path, site_text: str) -> Iterator[subprocess.Popen[bytes]]:
    binary = nginx_binary()
    for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (prefix / name).mkdir(parents=True, exist_ok=True)
    site = prefix / "peerview.conf"
    site.write_text(site_text)
    conf = prefix / "nginx.conf"
    conf.write_text(main_config(prefix, site))
    checked = subprocess.run(
        [binary, "-t", "-p", str(prefix), "-c", str(conf)], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stderr
    with (prefix / "nginx.out").open("wb") as out:
        process = subprocess.Popen(
            [binary, "-p", str(prefix), "-c", str(conf)], stdout=out, stderr=subprocess.STDOUT
        )
    try:
        yield process
    finally:
        process.send_signal(signal.SIGQUIT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def _until_listening(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    for _ in range(200):
        if process.poll() is not None:
            pytest.fail(f"nginx exited:\n{text_of(log)}")
        with contextlib.suppress(OSError):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        await asyncio.sleep(0.05)
    pytest.fail(f"nginx did not listen:\n{text_of(log)}")


@contextlib.asynccontextmanager
async def deployment(
    database_url: str, redis_url: str, channel: str, tmp_path: Path, **extra: str
) -> AsyncIterator[Deployment]:
    """Two instances (NODE_NAME a and b) sharing the database and Redis, behind nginx."""
    ports = {node: free_port() for node in NODES}
    listen = free_port()
    instances = {
        node: Instance(
            node,
            ports[node],
            server_env(
                database_url,
                REDIS_URL=redis_url,
                SOCKETIO_CHANNEL=channel,
                NODE_NAME=node,
                TRUSTED_PROXIES="127.0.0.1",
                SOCKET_RATE_PER_SECOND="1000",
                REQUEST_EXPIRY_BUFFER_HOURS="0.001",
                **extra,
            ),
            tmp_path / f"{node}.log",
        )
        for node in NODES
    }
    prefix = tmp_path / "nginx"
    site = site_config(ports, listen)
    try:
        await asyncio.gather(*(instance.start() for instance in instances.values()))
        with _nginx(prefix, site) as process:
            await _until_listening(listen, process, prefix / "error.log")
            yield Deployment(f"http://127.0.0.1:{listen}", instances, prefix / "error.log", site)
    finally:
        for instance in instances.values():
            await instance.stop()
