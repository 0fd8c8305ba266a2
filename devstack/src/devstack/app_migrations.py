"""The Next.js application's own migrations in place of the stand-in, when a folder of them is
given: `APP_MIGRATIONS=<folder>` makes every database devstack seeds (`make up`, the suites) get
the application's tables from those files rather than from the project's stand-in.

The files are applied in name order, each in a transaction of its own, as Prisma applies them:
`<folder>/*.sql` or Prisma's layout, `<folder>/<name>/migration.sql`. They are the
application's, not this repository's: nothing here ships them.
"""

import os
from pathlib import Path
from typing import Final

import psycopg

__all__ = ["APP_MIGRATIONS_ENV", "apply_app_migrations"]

APP_MIGRATIONS_ENV: Final = "APP_MIGRATIONS"


def _files(folder: Path) -> list[Path]:
    flat = [(path.name, path) for path in folder.glob("*.sql")]
    prisma = [(path.parent.name, path) for path in folder.glob("*/migration.sql")]
    return [path for _, path in sorted(flat + prisma)]


def apply_app_migrations(database_url: str) -> list[str]:
    """With APP_MIGRATIONS set, and a database without the application's `users` yet: apply the
    folder's migrations; returns the names applied (none without the variable)."""
    folder = os.environ.get(APP_MIGRATIONS_ENV)
    if not folder:
        return []
    files = _files(Path(folder))
    if not files:
        raise FileNotFoundError(f"{APP_MIGRATIONS_ENV}={folder} holds no migration SQL")
    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute("SELECT to_regclass('public.users')").fetchone()
        if row is not None and row[0] is not None:
            return []
        for path in files:
            with conn.transaction():
                conn.execute(path.read_bytes())
    return [path.stem if path.name != "migration.sql" else path.parent.name for path in files]
