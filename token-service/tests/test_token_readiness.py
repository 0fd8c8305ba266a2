"""/readyz checks the database the service came up on: the application's tables as it needs
them and the voice schema migrated; 503 with the start-up check's one line until they are."""

import secrets

import psycopg
from litestar.testing import AsyncTestClient
from token_test_helpers import assert_error, make_settings

from devstack.postgres import PostgresServer
from token_service.app import create_app
from token_service.app_tables.standin import create_standin
from token_service.migrations import migrate


async def test_readyz_names_what_a_database_found_later_lacks(pg: PostgresServer) -> None:
    """As when the database could not be reached at start (serve checks it then) and turns out
    to be the wrong one: ready only once it holds what the service needs."""
    database_url = pg.create_database(f"r_{secrets.token_hex(6)}")
    async with AsyncTestClient(app=create_app(make_settings(database_url))) as client:
        error = assert_error(await client.get("/readyz"), 503, "not_ready")
        assert error["message"].startswith("the database lacks what voice training needs")
        assert "table public.sessions" in error["message"]

        with psycopg.connect(database_url) as conn:
            create_standin(conn)
        error = assert_error(await client.get("/readyz"), 503, "not_ready")
        assert "public." not in error["message"]
        assert "run `token-service migrate`" in error["message"]

        migrate(database_url, "voice")
        ready = await client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json() == {"status": "ok"}
