"""The Postgres connection pool (opened by the app's lifespan) and the dependencies handing it out.

Connections are in autocommit mode: every repository statement is atomic on its own, which saves
the BEGIN/COMMIT round trips; the few multi-statement units open `conn.transaction()` explicitly.
"""

from collections.abc import AsyncIterator
from typing import Any

from litestar.datastructures import State
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from .settings import Settings

Connection = AsyncConnection[Any]
Pool = AsyncConnectionPool[Connection]


def create_pool(settings: Settings) -> Pool:
    """A pool that is not open yet: the lifespan opens it; nothing connects at import or build."""
    return AsyncConnectionPool(
        settings.database_url,
        min_size=settings.db_pool_min,
        max_size=max(settings.db_pool_max, settings.db_pool_min, 1),
        kwargs={"autocommit": True},
        timeout=settings.db_pool_timeout_s,
        open=False,
        name="token-service",
    )


def provide_pool(state: State) -> Pool:
    pool: Pool = state.pool
    return pool


async def provide_connection(state: State) -> AsyncIterator[Connection]:
    """One pooled connection for the duration of a request handler."""
    pool: Pool = state.pool
    async with pool.connection() as conn:
        yield conn
