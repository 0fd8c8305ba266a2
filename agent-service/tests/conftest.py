"""Shared fixtures: a real PostgreSQL and a real token service, started once per test session."""

from collections.abc import Iterator

import pytest

from devstack.postgres import PostgresServer, postgres_server
from devstack.token_service import TokenService, run_token_service


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    with postgres_server() as server:
        yield server


@pytest.fixture(scope="session")
def token_service(
    postgres: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TokenService]:
    recordings = tmp_path_factory.mktemp("recordings")
    with run_token_service(postgres.dsn(), env={"RECORDINGS_DIR": str(recordings)}) as service:
        yield service
