"""devstack.app_migrations: the application's own migration files, in Prisma's layout or flat,
applied in name order in place of the stand-in, once."""

from pathlib import Path

import psycopg
import pytest

from devstack.app_migrations import APP_MIGRATIONS_ENV, apply_app_migrations
from devstack.postgres import postgres_server


def test_applied_in_name_order_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "20260101000000_init").mkdir()
    (tmp_path / "20260101000000_init" / "migration.sql").write_text(
        'CREATE TABLE "users" ("id" TEXT NOT NULL PRIMARY KEY);'
    )
    (tmp_path / "20260102000000_more").mkdir()
    (tmp_path / "20260102000000_more" / "migration.sql").write_text(
        'ALTER TABLE "users" ADD COLUMN "email" TEXT;'
    )
    (tmp_path / "migration_lock.toml").write_text('provider = "postgresql"')
    monkeypatch.setenv(APP_MIGRATIONS_ENV, str(tmp_path))
    with postgres_server() as pg:
        url = pg.dsn()
        assert apply_app_migrations(url) == ["20260101000000_init", "20260102000000_more"]
        assert apply_app_migrations(url) == []  # the application's tables are there
        with psycopg.connect(url) as conn:
            columns = conn.execute(
                "SELECT column_name FROM information_schema.columns"
                " WHERE table_name = 'users' ORDER BY ordinal_position"
            ).fetchall()
    assert columns == [("id",), ("email",)]


def test_without_the_variable_nothing_happens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(APP_MIGRATIONS_ENV, raising=False)
    assert apply_app_migrations("postgresql://nobody@127.0.0.1:9/none") == []
