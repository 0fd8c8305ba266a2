"""The fault suite: one real stack (devstack.Stack, webhooks on), faults injected into it one test
at a time, in a network namespace of its own (devstack.netns). Each test leaves the stack as it found
it: Postgres and the token service up, one worker registered. Logs of every process are kept
under `.data/faults-logs/<run>/`.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

_HERE = Path(__file__).resolve().parent
_REPO_ROOT = _HERE.parent
# The conversation steps, the frontend's calls and the latency table are the end-to-end suite's.
sys.path.insert(0, str(_REPO_ROOT / "tests-e2e"))

from e2e_support import FrontendApi, suite_stack, write_latency_summary  # noqa: E402

from devstack import netns  # noqa: E402
from devstack.stack import Stack  # noqa: E402

_LOG_ROOT = _REPO_ROOT / ".data" / "faults-logs"
_KEEP_RUNS = 6
_STACK: dict[str, Any] = {}


def pytest_configure(config: pytest.Config) -> None:
    netns.reexec_in_namespace(config.invocation_params.args)
    config.addinivalue_line("markers", "last: runs after every other test of the suite")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.get_closest_marker("last") is not None)


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    with suite_stack(_LOG_ROOT, _KEEP_RUNS, _STACK) as running:
        yield running


@pytest.fixture(scope="session")
def frontend(stack: Stack) -> FrontendApi:
    return FrontendApi(stack.token_service_url)


@pytest.fixture
def healthy(stack: Stack) -> Iterator[Stack]:
    """The stack with Postgres and the token service up and exactly one worker; restored after."""
    yield stack
    if stack.token_service is None:
        stack.start_token_service()
    if not stack.workers:
        stack.start_agent()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    write_latency_summary(terminalreporter, "fault timings", _STACK)
