"""`peerview analytics rebuild`: every rollup recomputed from the rows, in one transaction.

For rows written behind the application's back (a bulk load, a restore, a hand-made fix):
the rollups then count exactly what the requests, sessions and feedback hold.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from peerview.analytics import rollup_repository as repository
from peerview.config import Settings
from peerview.db import Connection, create_database

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


async def rebuild(db: Connection, *, progress: Progress = _quiet) -> None:
    """Recompute every rollup on `db`, inside its transaction (committed by the caller)."""
    started = time.perf_counter()
    steps = len(repository.RECOUNTS) + 1
    await repository.lock(db)
    await repository.clear(db)
    progress(f"analytics rebuild: 1/{steps} cleared ({time.perf_counter() - started:.1f} s)")
    for number, (what, query) in enumerate(repository.RECOUNTS, start=2):
        rows = await repository.recount(db, query)
        elapsed = time.perf_counter() - started
        progress(f"analytics rebuild: {number}/{steps} {what}: {rows:,} rows ({elapsed:.1f} s)")


async def rebuild_database(settings: Settings, *, progress: Progress = _quiet) -> None:
    """Open the configured database and rebuild its rollups in one transaction."""
    database = create_database(settings)
    try:
        async with database.transaction() as db:
            await rebuild(db, progress=progress)
    finally:
        await database.close()
