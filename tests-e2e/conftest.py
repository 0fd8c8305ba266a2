"""One real stack for the whole suite: Postgres, the OpenAI stub, livekit-server, the token service
and the agent worker, as processes (devstack.Stack), in a network namespace of its own
(devstack.harness.plugin). Logs of every process are kept under `.data/e2e-logs/<run>/` and their
paths are printed when the suite ends.

The suite runs the stack as the Next.js application's neighbour: the database holds the
application's tables and demo rows written by its owner (devstack.app_database), and the token
service connects as a role with exactly the grants docs/app-database.md gives, migrating its
voice schema and calling through every test. The suite's last test
(test_public_schema_unchanged.py) checks that `public`'s schema is as it was before the stack.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from app_reads import AppDatabase

from devstack.app_migrations import APP_MIGRATIONS_ENV
from devstack.harness import FrontendApi, suite_stack, write_run_summary
from devstack.postgres import postgres_server
from devstack.stack import Stack

pytest_plugins = ["devstack.harness.plugin"]

_KEEP_RUNS = 10
_STACK: dict[str, Any] = {}


@pytest.fixture(scope="session")
def app_database() -> Iterator[AppDatabase]:
    with postgres_server() as pg:
        yield AppDatabase(pg)


@pytest.fixture(scope="session")
def stack(app_database: AppDatabase) -> Iterator[Stack]:
    with suite_stack(
        "e2e",
        _KEEP_RUNS,
        _STACK,
        Stack,
        database_url=app_database.app.service_url,
    ) as running:
        yield running


@pytest.fixture(scope="session")
def frontend(stack: Stack) -> FrontendApi:
    return FrontendApi(stack.token_service_url)


@pytest.fixture(scope="session")
def demo(stack: Stack, app_database: AppDatabase) -> dict[str, Any]:
    """The demo rows the application's owner inserted (the stack seeded nothing)."""
    return app_database.app.demo


def pytest_terminal_summary(terminalreporter: Any) -> None:
    write_run_summary(terminalreporter, "end-to-end latencies", _STACK)
    folder = os.environ.get(APP_MIGRATIONS_ENV)
    source = f"the application's migrations in {folder}" if folder else "the stand-in"
    terminalreporter.write_line(f"the application's tables: from {source}")
