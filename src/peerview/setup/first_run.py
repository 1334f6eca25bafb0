"""What `peerview migrate` and `peerview serve` do for a first run (docs/api.md §3.5, §11).

`peerview migrate` (and `peerview serve`, which migrates first) loads the starter bank on a
database that never had it. `peerview serve` makes a setup code while no admin exists, once,
before its workers start, and prints it with the address of the setup page.
"""

from __future__ import annotations

import ipaddress
import socket

from peerview.clock import Clock, SystemClock
from peerview.config import Settings
from peerview.db import create_database
from peerview.setup import service

SETUP_PAGE = "/#/setup"


async def load_starter_bank(settings: Settings, clock: Clock | None = None) -> int | None:
    """The starter bank loaded if this database never had it: the questions added, or None."""
    database = create_database(settings)
    try:
        async with database.transaction() as db:
            return await service.load_starter_bank_once(db=db, now=(clock or SystemClock()).now())
    finally:
        await database.close()


async def new_setup_code(
    settings: Settings, *, instance: str, clock: Clock | None = None
) -> str | None:
    """A new setup code for this instance while no admin exists, else None."""
    database = create_database(settings)
    try:
        async with database.transaction() as db:
            return await service.issue_code(
                db=db, now=(clock or SystemClock()).now(), instance=instance
            )
    finally:
        await database.close()


def instance_name(settings: Settings, port: int) -> str:
    """Which serving instance a code belongs to: its NODE_NAME, or host name, and port."""
    return f"{settings.node_name or socket.gethostname()}:{port}"


def setup_url(host: str, port: int) -> str:
    """The setup page's address as this server is reached: a wildcard listen address is
    shown as the machine's host name."""
    shown = host
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        pass  # a name
    else:
        if address.is_unspecified:
            shown = socket.gethostname()
        elif address.version == 6:
            shown = f"[{host}]"
    return f"http://{shown}:{port}{SETUP_PAGE}"


def announcement(code: str, url: str) -> str:
    """The line `peerview serve` prints while no admin exists."""
    return f"No administrator yet: open {url} and enter the setup code {code}"
