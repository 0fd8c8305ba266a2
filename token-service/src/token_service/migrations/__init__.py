"""The voice schema's ordered SQL migrations (`NNN_name.sql`), applied once each, in one
transaction, under a lock.

Everything lives in the schema VOICE_SCHEMA names (settings.py), its `schema_migrations` table
too: nothing is created, altered or dropped in the application's `public`. Before anything runs,
the application's tables are checked (app_tables.required): a database that lacks them is
refused with one line, whether it is the application's own or one that holds only the
stand-in. Running `migrate` twice is a no-op, and a transaction-scoped advisory lock makes two
processes migrating at once take turns.

The schema is created when it is missing (which needs CREATE on the database); where an
administrator created it for the service's role (`CREATE SCHEMA voice AUTHORIZATION ...`, see
app_tables.grants), owning it is enough.
"""

from importlib import resources
from typing import Final

import psycopg
from psycopg import sql
from psycopg.rows import TupleRow

from ..app_tables.required import COLUMNS_QUERY, AppTablesError, describe, problems, query_params

# Any constant will do, as long as nothing else in the database uses it as an advisory lock key.
_LOCK_KEY: Final = 7_263_401_188_512_001


def migration_files() -> list[tuple[str, str]]:
    """(version, sql) of every migration, in order; the version is the file name without `.sql`."""
    folder = resources.files(__name__)
    names = sorted(
        entry.name for entry in folder.iterdir() if entry.name.endswith(".sql") and entry.is_file()
    )
    return [(name.removesuffix(".sql"), folder.joinpath(name).read_text()) for name in names]


def check_app_tables(conn: psycopg.Connection[TupleRow]) -> None:
    """Raise AppTablesError (one line) unless the application's tables are as the service needs."""
    rows = conn.execute(COLUMNS_QUERY, query_params()).fetchall()
    missing = problems((str(t), str(c), str(ty)) for t, c, ty in rows)
    if missing:
        raise AppTablesError(describe(missing))


def migrate(database_url: str, schema: str) -> list[str]:
    """Apply the pending migrations of the voice schema `schema`; returns the versions applied."""
    applied_now: list[str] = []
    with psycopg.connect(database_url) as conn, conn.transaction():
        check_app_tables(conn)
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        name = sql.Identifier(schema)
        exists = conn.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = %s)", (schema,)
        ).fetchone()
        if not (exists and exists[0]):
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(name))
        conn.execute(sql.SQL("SET LOCAL search_path TO {}").format(name))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
        for version, statements in migration_files():
            if version in done:
                continue
            conn.execute(statements.encode())
            conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (version,))
            applied_now.append(version)
    return applied_now
