"""The Postgres connection pool (opened by the app's lifespan, see services.py).

Connections are in autocommit mode: every repository statement is atomic on its own, which saves
the BEGIN/COMMIT round trips; the few multi-statement units open `conn.transaction()` explicitly.

Every connection is set up once (`session_setup`): its time zone is UTC, so the application's
`timestamp(3)` columns get UTC from their CURRENT_TIMESTAMP defaults whatever the server's
TimeZone, and its search path is the voice schema alone. The service's SQL therefore names the
application's tables `public.<table>` and its own without a schema: a name that is not qualified
is voice training's.

Dead connections: when Postgres restarts, every pooled connection is gone. Each is checked as it
leaves the pool (`check_idle`), without a round trip on the healthy path: the server says goodbye
to a connection it closes, so a pooled connection with something to read is suspect and gets a
real check; a dead one is replaced by a fresh one. A connection that dies while a request uses it
(or that died without a word, on a network cut) is caught by `once_more_if_lost`: the request's
work is run once more, on a fresh connection. While Postgres is down, the pool's attempts to
reconnect give up after `db_reconnect_timeout_s` (psycopg's default keeps one attempt going for
five minutes at doubling intervals, which would leave the first requests after Postgres returns
waiting for its next try); a request then starts a new attempt at once.
"""

import contextvars
import logging
import select
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from psycopg import AsyncConnection, sql
from psycopg_pool import AsyncConnectionPool

from .settings import Settings

logger = logging.getLogger("token_service")

Connection = AsyncConnection[Any]
T = TypeVar("T")


class _Watch:
    """Whether the work under watch gave a broken connection back to the pool."""

    lost = False


_WATCH: contextvars.ContextVar[_Watch | None] = contextvars.ContextVar("db_watch", default=None)


class Pool(AsyncConnectionPool[Connection]):
    async def putconn(self, conn: Connection) -> None:
        if conn.broken and (watch := _WATCH.get()) is not None:
            watch.lost = True
        await super().putconn(conn)


async def check_idle(conn: Connection) -> None:
    """The pool's check at checkout: raises when the connection is dead."""
    poller = select.poll()
    poller.register(conn.fileno(), select.POLLIN)
    if poller.poll(0):
        # Data or EOF on a connection nobody is using: the server's goodbye (or a notice).
        await AsyncConnectionPool.check_connection(conn)


async def once_more_if_lost(attempt: Callable[[], Awaitable[T]], failed: Callable[[T], bool]) -> T:
    """Run `attempt`; when its result `failed` and it met a dead pooled connection, run it once
    more (the pool hands out a fresh connection: the dead one was discarded)."""
    watch = _Watch()
    token = _WATCH.set(watch)
    try:
        result = await attempt()
        if watch.lost and failed(result):
            logger.warning("a request met a dead database connection; retrying it once")
            watch.lost = False
            result = await attempt()
        return result
    finally:
        _WATCH.reset(token)


def session_setup(voice_schema: str) -> sql.Composed:
    """The settings of every connection the service uses (see the module docstring)."""
    return sql.SQL("SET TIME ZONE 'UTC'; SET search_path TO {}").format(
        sql.Identifier(voice_schema)
    )


async def connect(database_url: str, voice_schema: str) -> Connection:
    """One connection outside the pool (commands), set up as the pool's are; autocommit."""
    conn = await AsyncConnection.connect(database_url, autocommit=True)
    await conn.execute(session_setup(voice_schema))
    return conn


def create_pool(settings: Settings) -> Pool:
    """A pool that is not open yet: the lifespan opens it; nothing connects at import or build."""
    setup = session_setup(settings.voice_schema)

    async def configure(conn: Connection) -> None:
        await conn.execute(setup)

    return Pool(
        settings.database_url,
        min_size=settings.db_pool_min,
        max_size=max(settings.db_pool_max, settings.db_pool_min, 1),
        kwargs={"autocommit": True},
        timeout=settings.db_pool_timeout_s,
        reconnect_timeout=settings.db_reconnect_timeout_s,
        check=check_idle,
        configure=configure,
        open=False,
        name="token-service",
    )
