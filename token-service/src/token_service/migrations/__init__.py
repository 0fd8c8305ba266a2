"""Ordered SQL migrations (`NNN_name.sql`), applied once each, in one transaction, under a lock.

`schema_migrations` records what is applied, so running `migrate` twice is a no-op, and a
transaction-scoped advisory lock makes two processes migrating at once take turns.
"""

from importlib import resources

import psycopg

# Any constant will do, as long as nothing else in the database uses it as an advisory lock key.
_LOCK_KEY = 7_263_401_188_512_001


def migration_files() -> list[tuple[str, str]]:
    """(version, sql) of every migration, in order; the version is the file name without `.sql`."""
    folder = resources.files(__name__)
    names = sorted(
        entry.name for entry in folder.iterdir() if entry.name.endswith(".sql") and entry.is_file()
    )
    return [(name.removesuffix(".sql"), folder.joinpath(name).read_text()) for name in names]


def migrate(database_url: str) -> list[str]:
    """Apply the pending migrations; returns the versions applied by this call."""
    applied_now: list[str] = []
    with psycopg.connect(database_url) as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
        for version, sql in migration_files():
            if version in done:
                continue
            conn.execute(sql.encode())
            conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (version,))
            applied_now.append(version)
    return applied_now
