"""The stand-in for the application's migrations (standin.sql): for standalone runs and tests.

It is applied to a database that has none of the application's tables, and left out where all of
them exist. A database with some of them is refused: it is the application's to migrate, and
completing it here would hide that.
"""

from importlib import resources
from typing import Final

import psycopg
from psycopg.rows import TupleRow

from .required import APP_SCHEMA

STANDIN_TABLES: Final = (
    "users",
    "accounts",
    "scenarios",
    "assignments",
    "sessions",
    "transcript_turns",
    "evaluations",
    "recordings",
    "session_flags",
    "document_reviews",
)
"""Every table standin.sql creates."""

# Any constant will do, as long as nothing else in the database uses it as an advisory lock key:
# two processes seeding one database at once take turns.
_LOCK_KEY: Final = 7_263_401_188_512_019


class StandinError(Exception):
    """The database holds some of the application's tables but not all; one line says which."""


def standin_sql() -> str:
    return resources.files(__package__).joinpath("standin.sql").read_text()


def create_standin(conn: psycopg.Connection[TupleRow]) -> bool:
    """In one transaction: the application's tables from standin.sql unless they exist (True when
    they were created now)."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        cur = conn.execute(
            "SELECT c.relname FROM pg_catalog.pg_class AS c"
            " JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace"
            " WHERE n.nspname = %s AND c.relname = ANY(%s)",
            (APP_SCHEMA, list(STANDIN_TABLES)),
        )
        present = {row[0] for row in cur.fetchall()}
        if present == set(STANDIN_TABLES):
            return False
        if present:
            absent = ", ".join(t for t in STANDIN_TABLES if t not in present)
            raise StandinError(
                f"the database has some of the Next.js application's tables but not {absent}: "
                "run the application's migrations, not the stand-in"
            )
        conn.execute(f"SET LOCAL search_path TO {APP_SCHEMA}")
        conn.execute(standin_sql().encode())
    return True
