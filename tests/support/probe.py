"""Exit 0 when the database (or Redis) at the URL given answers, 1 otherwise.

Used by the Makefile to decide whether the PostgreSQL run can happen.
"""

from __future__ import annotations

import asyncio
import sys


async def _probe(url: str) -> bool:
    if url.startswith("redis"):
        from redis.asyncio import Redis

        client = Redis.from_url(url, socket_connect_timeout=2)
        try:
            return bool(await client.ping())
        except Exception:
            return False
        finally:
            await client.aclose()
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url, connect_args={"timeout": 3} if "asyncpg" in url else {})
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False
    finally:
        await engine.dispose()


if __name__ == "__main__":
    sys.exit(0 if asyncio.run(_probe(sys.argv[1])) else 1)
