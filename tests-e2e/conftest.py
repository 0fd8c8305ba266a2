"""One real stack for the whole suite: Postgres, the OpenAI stub, livekit-server, the token service
and the agent worker, as processes (devstack.Stack). Logs of every process are kept under
`.data/e2e-logs/<run>/` and their paths are printed when the suite ends.

The suite runs the stack as the Next.js application's neighbour: the database holds the
application's tables and demo rows written by its owner (devstack.app_database), and the token
service connects as a role with exactly the grants docs/app-database.md gives, migrating its
voice schema and calling through every test. The suite's last test
(test_public_schema_unchanged.py) checks that `public`'s schema is as it was before the stack.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_support import AppDatabase, FrontendApi, suite_stack, write_latency_summary

from devstack import netns
from devstack.app_migrations import APP_MIGRATIONS_ENV
from devstack.postgres import postgres_server
from devstack.stack import Stack

_REPO_ROOT = Path(__file__).resolve().parents[1]
_LOG_ROOT = _REPO_ROOT / ".data" / "e2e-logs"
_KEEP_RUNS = 10
_STACK: dict[str, Any] = {}
E2E_AGENT_ENV = {"SPOOL_RETRY_INTERVAL": "2"}
"""What a job spooled is sent again within seconds, not production's half minute."""


def pytest_configure(config: pytest.Config) -> None:
    # Calls carry media: a namespace of its own keeps interfaces that change next door from
    # restarting ICE mid-call (devstack.netns).
    netns.reexec_in_namespace(config.invocation_params.args)
    config.addinivalue_line("markers", "last: runs after every other test of the suite")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.get_closest_marker("last") is not None)


@pytest.fixture(scope="session")
def app_database() -> Iterator[AppDatabase]:
    with postgres_server() as pg:
        yield AppDatabase(pg)


@pytest.fixture(scope="session")
def stack(app_database: AppDatabase) -> Iterator[Stack]:
    with suite_stack(
        _LOG_ROOT,
        _KEEP_RUNS,
        _STACK,
        agent_env=E2E_AGENT_ENV,
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
    write_latency_summary(terminalreporter, "end-to-end latencies", _STACK)
    folder = os.environ.get(APP_MIGRATIONS_ENV)
    source = f"the application's migrations in {folder}" if folder else "the stand-in"
    terminalreporter.write_line(f"the application's tables: from {source}")
