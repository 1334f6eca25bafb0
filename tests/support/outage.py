"""A database that a test takes away and gives back while an application runs on it.

PostgreSQL: the application connects through a TCP relay on this machine; cutting it aborts
every relayed connection and refuses new ones, as a stopped server looks to the application;
restoring listens again on the same port. The test's PostgreSQL itself is never touched.
SQLite: the applications' idle connections are closed and the file is moved aside with a
directory in its place, so no connection can be opened ("unable to open database file");
restoring moves it back.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

from peerview.db import Database


class Outage:
    """`url` is what the application under test connects to."""

    url: str

    async def cut(self, *databases: Database) -> None:
        raise NotImplementedError

    async def restore(self) -> None:
        raise NotImplementedError


class _Relay(Outage):
    def __init__(self, database_url: str) -> None:
        self._target = make_url(database_url)
        self._port = 0
        self._server: asyncio.Server | None = None
        self._links: set[asyncio.StreamWriter] = set()
        self.url = ""

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._link, "127.0.0.1", self._port, reuse_address=True
        )
        self._port = self._server.sockets[0].getsockname()[1]
        self.url = self._target.set(host="127.0.0.1", port=self._port).render_as_string(
            hide_password=False
        )

    async def _link(self, client_in: asyncio.StreamReader, client: asyncio.StreamWriter) -> None:
        try:
            server_in, server = await asyncio.open_connection(
                self._target.host or "127.0.0.1", self._target.port or 5432
            )
        except OSError:
            client.close()
            return
        self._links |= {client, server}
        try:
            await asyncio.gather(_copy(client_in, server), _copy(server_in, client))
        finally:
            self._links -= {client, server}

    async def cut(self, *databases: Database) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._links):
            writer.transport.abort()
        await self._server.wait_closed()
        self._server = None

    async def restore(self) -> None:
        await self.start()

    async def close(self) -> None:
        if self._server is not None:
            await self.cut()


async def _copy(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    try:
        while data := await source.read(65536):
            sink.write(data)
            await sink.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        sink.transport.abort()


class _MovedFile(Outage):
    def __init__(self, database_url: str) -> None:
        self.url = database_url
        self._path = Path(make_url(database_url).database or "")
        self._aside = self._path.with_name(self._path.name + ".aside")

    async def cut(self, *databases: Database) -> None:
        for database in databases:
            await database.close()
        self._path.rename(self._aside)
        self._path.mkdir()

    async def restore(self) -> None:
        self._path.rmdir()
        self._aside.rename(self._path)

    async def close(self) -> None:
        if self._aside.exists():
            with contextlib.suppress(OSError):
                shutil.rmtree(self._path)
            self._aside.rename(self._path)


@asynccontextmanager
async def database_outage(database_url: str) -> AsyncIterator[Outage]:
    """An outage of the database at `database_url` (SQLite or PostgreSQL), given back on the
    way out if the test left it cut."""
    if make_url(database_url).get_backend_name() == "sqlite":
        moved = _MovedFile(database_url)
        try:
            yield moved
        finally:
            await moved.close()
        return
    relay = _Relay(database_url)
    await relay.start()
    try:
        yield relay
    finally:
        await relay.close()
