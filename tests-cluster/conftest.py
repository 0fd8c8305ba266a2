"""One cluster for the suite: Redis, two livekit-server nodes, two workers, two token services on
one Postgres, the OpenAI stub (devstack.ClusterStack), in a network namespace of its own
(devstack.harness.plugin). Logs under `.data/cluster-logs/<run>/`.

Each test leaves the cluster as it found it (both nodes up, each worker registered with its own),
so the tests pass in any order."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from cluster_support import PLACEMENTS, REPLY_MS

from devstack.cluster import ClusterStack
from devstack.harness import stub_script, suite_stack, write_run_summary

pytest_plugins = ["devstack.harness.plugin"]

_KEEP_RUNS = 5
_RUN: dict[str, Any] = {}


@pytest.fixture(scope="session")
def cluster() -> Iterator[ClusterStack]:
    script = stub_script(1, reply_ms=REPLY_MS)
    with suite_stack("cluster", _KEEP_RUNS, _RUN, ClusterStack, stub_script=script) as running:
        yield running


@pytest.fixture(scope="session")
def user_id(cluster: ClusterStack) -> str:
    return str(cluster.demo["users"][0]["userId"])


def pytest_terminal_summary(terminalreporter: Any) -> None:
    write_run_summary(terminalreporter, "where the calls ran", _RUN)
    for test, room, node, worker, token_service in PLACEMENTS:
        terminalreporter.write_line(
            f"{test:<28} {room}  node {node:<7} worker {worker:<8} token from {token_service}"
        )
