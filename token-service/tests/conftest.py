"""Fixtures: one real Postgres cluster per run, a database per test module holding the stand-in
of the application's tables and the migrated voice schema (copied from a template), the app under
Litestar's AsyncTestClient, and the OpenAI stub."""

import secrets
from collections.abc import AsyncIterator, Iterator

import httpx
import psycopg
import pytest
from litestar.testing import AsyncTestClient
from token_test_helpers import (
    SERVER_TIME_ZONE,
    VOICE_SCHEMA,
    Client,
    Rows,
    concurrent_client,
    make_settings,
    stub_in_thread,
)

from devstack.postgres import PostgresServer, postgres_server
from openai_stub.testing import StubHandle
from token_service.app import create_app
from token_service.app_tables.standin import create_standin
from token_service.migrations import migrate
from token_service.settings import Settings

TEMPLATE_DB = "token_service_template"


@pytest.fixture(scope="session")
def pg() -> Iterator[PostgresServer]:
    with postgres_server() as server:
        with psycopg.connect(server.dsn("postgres"), autocommit=True) as conn:
            conn.execute(f"ALTER SYSTEM SET timezone TO '{SERVER_TIME_ZONE}'".encode())
            conn.execute("SELECT pg_reload_conf()")
        template_url = server.create_database(TEMPLATE_DB)
        with psycopg.connect(template_url) as conn:
            create_standin(conn)
        migrate(template_url, VOICE_SCHEMA)
        yield server


def _database_from_template(pg: PostgresServer, prefix: str) -> str:
    name = f"{prefix}_{secrets.token_hex(6)}"
    with psycopg.connect(pg.dsn("postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE_DB}"'.encode())
    return pg.dsn(name)


@pytest.fixture(scope="module")
def database_url(pg: PostgresServer) -> str:
    """A migrated database shared by one test module; tests keep apart by their own random ids."""
    return _database_from_template(pg, "m")


@pytest.fixture
def fresh_database_url(pg: PostgresServer) -> str:
    """A migrated database with nothing in it, for this test alone."""
    return _database_from_template(pg, "f")


@pytest.fixture(scope="session")
def stub() -> Iterator[StubHandle]:
    with stub_in_thread() as handle:
        yield handle


@pytest.fixture
def openai_stub(stub: StubHandle) -> StubHandle:
    """The session's stub, with its default script and nothing recorded."""
    stub.reset()
    return stub


@pytest.fixture
def settings(database_url: str, stub: StubHandle) -> Settings:
    return make_settings(database_url, openai_base_url=stub.base_url)


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[Client]:
    async with AsyncTestClient(app=create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
async def rows(database_url: str) -> AsyncIterator[Rows]:
    async with await Rows.connect(database_url) as conn:
        yield Rows(conn)


@pytest.fixture
async def concurrent(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app on the test's event loop, for requests that must really run at the same time."""
    async with concurrent_client(create_app(settings)) as http:
        yield http
