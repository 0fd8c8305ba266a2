"""One real stack for the whole suite: Postgres, the OpenAI stub, livekit-server, the token service
and the agent worker, as processes (devstack.Stack). Logs of every process are kept under
`.data/e2e-logs/<run>/` and their paths are printed when the suite ends.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_support import FrontendApi, suite_stack, write_latency_summary

from devstack import netns
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


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    with suite_stack(_LOG_ROOT, _KEEP_RUNS, _STACK, agent_env=E2E_AGENT_ENV) as running:
        yield running


@pytest.fixture(scope="session")
def frontend(stack: Stack) -> FrontendApi:
    return FrontendApi(stack.token_service_url)


@pytest.fixture(scope="session")
def demo(stack: Stack) -> dict[str, Any]:
    return stack.demo


def pytest_terminal_summary(terminalreporter: Any) -> None:
    write_latency_summary(terminalreporter, "end-to-end latencies", _STACK)
