"""One cluster for the suite: Redis, two livekit-server nodes, two workers, two token services on
one Postgres, the OpenAI stub (devstack.ClusterStack). Logs under `.data/cluster-logs/<run>/`."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cluster_support import PLACEMENTS, STUB_SCRIPT, TRAINEE_LINE

from devstack import netns
from devstack.cluster import ClusterStack
from devstack.runs import new_run_dir
from devstack.speech import render_speech

_LOG_ROOT = Path(__file__).resolve().parents[1] / ".data" / "cluster-logs"
_KEEP_RUNS = 5
_RUN: dict[str, Any] = {}


def pytest_configure(config: pytest.Config) -> None:
    # Calls carry media: a namespace of its own keeps interfaces that change next door from
    # restarting ICE mid-call (devstack.netns).
    netns.reexec_in_namespace(config.invocation_params.args)


@pytest.fixture(scope="session")
def cluster() -> Iterator[ClusterStack]:
    render_speech(TRAINEE_LINE)  # espeak-ng missing: fail before anything starts
    log_dir = new_run_dir(_LOG_ROOT, _KEEP_RUNS)
    started = time.monotonic()
    with ClusterStack(log_dir=log_dir, stub_script=STUB_SCRIPT) as running:
        _RUN.update(log_dir=log_dir, startup_s=time.monotonic() - started)
        yield running


@pytest.fixture(scope="session")
def user_id(cluster: ClusterStack) -> str:
    return str(cluster.demo["users"][0]["userId"])


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _RUN:
        return
    write = terminalreporter.write_line
    terminalreporter.section("where the calls ran")
    write(f"cluster start-up: {_RUN['startup_s']:.1f} s; logs: {_RUN['log_dir']}")
    for test, room, node, worker, token_service in PLACEMENTS:
        write(f"{test:<28} {room}  node {node:<7} worker {worker:<8} token from {token_service}")
