"""Whether the database is one the service can work on: the application's tables as it needs
them (app_tables.required) and the voice schema migrated to this version's last migration.

`serve` runs the check before it starts (a database found lacking stops it with the check's one
line); a database that cannot be reached then is checked by `/readyz`, which answers 503 with the
same line until the check passes. Once passed, it is not run again by this process.
"""

from typing import Final

from psycopg import sql

from .app_tables.required import COLUMNS_QUERY, describe, problems, query_params
from .db import Connection
from .migrations import migration_files

_LAST_MIGRATION: Final = migration_files()[-1][0]


async def database_problem(conn: Connection, voice_schema: str) -> str | None:
    """One line naming what the database lacks, or None."""
    cur = await conn.execute(COLUMNS_QUERY, query_params())
    missing = problems((str(t), str(c), str(ty)) for t, c, ty in await cur.fetchall())
    lines = [describe(missing)] if missing else []
    if not await _migrated(conn, voice_schema):
        lines.append(
            f"the voice schema {voice_schema!r} is not at migration {_LAST_MIGRATION}: "
            "run `token-service migrate`"
        )
    return "; ".join(lines) or None


async def _migrated(conn: Connection, voice_schema: str) -> bool:
    table = sql.Identifier(voice_schema, "schema_migrations")
    cur = await conn.execute("SELECT to_regclass(%s)", (table.as_string(conn),))
    row = await cur.fetchone()
    if row is None or row[0] is None:
        return False
    cur = await conn.execute(
        sql.SQL("SELECT EXISTS (SELECT 1 FROM {} WHERE version = %s)").format(table),
        (_LAST_MIGRATION,),
    )
    row = await cur.fetchone()
    return bool(row and row[0])


class DatabaseCheck:
    """The check as `/readyz` runs it: in full until it passes once, then a round trip."""

    __slots__ = ("_passed", "_voice_schema")

    def __init__(self, voice_schema: str) -> None:
        self._voice_schema = voice_schema
        self._passed = False

    async def problem(self, conn: Connection) -> str | None:
        if self._passed:
            await conn.execute("SELECT 1")
            return None
        problem = await database_problem(conn, self._voice_schema)
        self._passed = problem is None
        return problem
