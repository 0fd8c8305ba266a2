"""A database shaped like the Next.js application's, for running the stack as the application's
neighbour: its tables (the stand-in) and demo rows written by the database's owner, as the
application's migrations and users would write them, and a role with exactly the grants
`token-service grants` prints, which the token service then connects as.

    with postgres_server() as pg:
        app = application_database(pg)
        before = public_schema(pg, pg.database)
        with Stack(database_url=app.service_url) as stack:  # migrates the voice schema only
            ...
        assert public_schema(pg, pg.database) == before
"""

import secrets
import subprocess
from dataclasses import dataclass
from typing import Any, Final

import psycopg
from psycopg import sql

from .postgres import PostgresServer, pg_bindir
from .token_service import seed_demo

__all__ = [
    "SERVICE_ROLE",
    "ApplicationDatabase",
    "application_database",
    "public_schema",
    "seeded_public_schema",
]

SERVICE_ROLE: Final = "voice_training"


@dataclass(frozen=True)
class ApplicationDatabase:
    owner_url: str
    """As the application's owner: every table of `public` is its."""
    service_url: str
    """As SERVICE_ROLE, with exactly the grants the token service needs."""
    demo: dict[str, Any]
    """seed-demo's output: the demo rows the owner inserted."""


def application_database(
    pg: PostgresServer, database: str | None = None, *, voice_schema: str = "voice"
) -> ApplicationDatabase:
    """`database` of `pg` (its default one when None) given the application's tables and demo
    rows by its owner, and SERVICE_ROLE its grants and the voice schema to own."""
    from token_service.app_tables.grants import grant_statements  # noqa: PLC0415

    owner_url = pg.dsn(database)
    demo = seed_demo(owner_url)
    with psycopg.connect(owner_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (SERVICE_ROLE,))
        if exists.fetchone() is None:
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(SERVICE_ROLE)))
        conn.execute(grant_statements(SERVICE_ROLE, voice_schema))
    service_url = owner_url.replace(f"{pg.superuser}@", f"{SERVICE_ROLE}@", 1)
    return ApplicationDatabase(owner_url=owner_url, service_url=service_url, demo=demo)


def public_schema(pg: PostgresServer, database: str | None = None) -> str:
    """`pg_dump --schema-only --schema=public` of the database, less the random key of the
    `\\restrict` lines newer pg_dumps write."""
    dump = subprocess.run(
        [
            str(pg_bindir() / "pg_dump"),
            "--schema-only",
            "--schema=public",
            "-h",
            "127.0.0.1",
            "-p",
            str(pg.port),
            "-U",
            pg.superuser,
            database or pg.database,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return "\n".join(
        line for line in dump.splitlines() if not line.startswith(("\\restrict", "\\unrestrict"))
    )


def seeded_public_schema(pg: PostgresServer) -> str:
    """`public_schema` of a scratch database of `pg` seeded as a stack seeds its own (the
    stand-in, or APP_MIGRATIONS), then dropped: what a stack's database's `public` looked like
    before its token service ever ran."""
    name = f"scratch_{secrets.token_hex(6)}"
    pg.create_database(name)
    try:
        seed_demo(pg.dsn(name))
        return public_schema(pg, name)
    finally:
        with psycopg.connect(pg.dsn("postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
