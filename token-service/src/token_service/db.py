"""The Postgres connection pool (opened by the app's lifespan, see services.py).

Connections are in autocommit mode: every repository statement is atomic on its own, which saves
the BEGIN/COMMIT round trips; the few multi-statement units open `conn.transaction()` explicitly.
"""

from typing import Any

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
