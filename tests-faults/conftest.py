"""The fault suite: one real stack (devstack.Stack, webhooks on), faults injected into it one test
at a time, in a network namespace of its own (devstack.harness.plugin). Each test leaves the stack
as it found it: Postgres and the token service up, one worker registered. Logs of every process
are kept under `.data/faults-logs/<run>/`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from devstack.harness import FrontendApi, suite_stack, write_run_summary
from devstack.stack import Stack

pytest_plugins = ["devstack.harness.plugin"]

_KEEP_RUNS = 6
_STACK: dict[str, Any] = {}


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    with suite_stack("faults", _KEEP_RUNS, _STACK, Stack) as running:
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
    write_run_summary(terminalreporter, "fault timings", _STACK)
