"""Whether the database is one the service can work on: the application's tables as it needs
them (app_tables.required) and the voice schema migrated to this version's last migration.

`serve` runs the check before it starts (a database found lacking stops it with the check's one
line); a database that cannot be reached then is checked by `/readyz`, which answers 503 with the
same line until the check passes. Once passed, it is not run again by this process.
"""

import asyncio
import logging
from typing import Any, Final

import psycopg
from psycopg import sql

from training_contracts import ApiErrorCode

from .app_tables.required import COLUMNS_QUERY, describe, problems, query_params
from .db import Connection, Pool
from .errors import ApiError
from .migrations import migration_files

logger = logging.getLogger("token_service")

READY_TIMEOUT_S: Final = 2.0

_LAST_MIGRATION: Final = migration_files()[-1][0]
_REGCLASS: Final = "SELECT to_regclass(%s)"


def _versions_table(voice_schema: str) -> sql.Identifier:
    return sql.Identifier(voice_schema, "schema_migrations")


def _has_last_migration(voice_schema: str) -> sql.Composed:
    return sql.SQL("SELECT EXISTS (SELECT 1 FROM {} WHERE version = %s)").format(
        _versions_table(voice_schema)
    )


def _verdict(columns: list[tuple[Any, ...]], migrated: bool, voice_schema: str) -> str | None:
    missing = problems((str(t), str(c), str(ty)) for t, c, ty in columns)
    lines = [describe(missing)] if missing else []
    if not migrated:
        lines.append(
            f"the voice schema {voice_schema!r} is not at migration {_LAST_MIGRATION}: "
            "run `token-service migrate`"
        )
    return "; ".join(lines) or None


async def database_problem(conn: Connection, voice_schema: str) -> str | None:
    """One line naming what the database lacks, or None."""
    columns = await (await conn.execute(COLUMNS_QUERY, query_params())).fetchall()
    table = _versions_table(voice_schema).as_string(conn)
    row = await (await conn.execute(_REGCLASS, (table,))).fetchone()
    migrated = False
    if row is not None and row[0] is not None:
        found = await conn.execute(_has_last_migration(voice_schema), (_LAST_MIGRATION,))
        row = await found.fetchone()
        migrated = bool(row and row[0])
    return _verdict(columns, migrated, voice_schema)


def database_problem_now(conn: psycopg.Connection[Any], voice_schema: str) -> str | None:
    """database_problem on a connection of psycopg's blocking API: serve checks the database
    before uvicorn starts its event loop."""
    columns = conn.execute(COLUMNS_QUERY, query_params()).fetchall()
    table = _versions_table(voice_schema).as_string(conn)
    row = conn.execute(_REGCLASS, (table,)).fetchone()
    migrated = False
    if row is not None and row[0] is not None:
        row = conn.execute(_has_last_migration(voice_schema), (_LAST_MIGRATION,)).fetchone()
        migrated = bool(row and row[0])
    return _verdict(columns, migrated, voice_schema)


class DatabaseCheck:
    """The check as `/readyz` runs it: in full until it passes once, then a round trip, each
    bounded by READY_TIMEOUT_S."""

    __slots__ = ("_passed", "_pool", "_voice_schema")

    def __init__(self, pool: Pool, voice_schema: str) -> None:
        self._pool = pool
        self._voice_schema = voice_schema
        self._passed = False

    async def require(self) -> None:
        """Nothing, or 503 `not_ready` saying why."""
        try:
            async with asyncio.timeout(READY_TIMEOUT_S), self._pool.connection() as conn:
                problem = await self._problem(conn)
        except Exception as exc:  # any failure to reach the database means "not ready"
            logger.warning("readiness check failed: %s", exc)
            raise ApiError(ApiErrorCode.NOT_READY, "database unavailable") from exc
        if problem is not None:
            logger.error("not ready: %s", problem)
            raise ApiError(ApiErrorCode.NOT_READY, problem)

    async def _problem(self, conn: Connection) -> str | None:
        if self._passed:
            await conn.execute("SELECT 1")
            return None
        problem = await database_problem(conn, self._voice_schema)
        self._passed = problem is None
        return problem
