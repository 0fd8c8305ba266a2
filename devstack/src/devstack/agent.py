"""Agent workers: `python -m agent_service start`, waited for until registered with livekit-server."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from .ports import free_port
from .processes import ManagedProcess

__all__ = ["AgentWorker", "agent_worker"]

AGENT_COMMAND = "start"
"""Production mode, as deployed: JSON logs, health server on AGENT_HEALTH_PORT, drain on SIGTERM.
The worker reports its load as running calls / JOB_CAPACITY, so a busy CPU does not make it turn
calls away."""

REGISTER_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 20.0
"""How long a worker may drain its calls after SIGTERM before it is killed."""

REGISTERED_LINE = r"registered worker"
"""What a worker logs once livekit-server has registered it (a pattern for wait_for_line)."""


@dataclass(frozen=True)
class AgentWorker:
    name: str
    process: ManagedProcess
    health_port: int
    spool_dir: Path
    registered_after_s: float

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """SIGTERM (the worker drains its jobs), then SIGKILL after `timeout`."""
        self.process.terminate(timeout)

    def drain(self) -> None:
        """SIGTERM and return at once, as a rolling deploy does: the worker takes no new calls
        and exits when its running calls have ended (`stop` then waits for that)."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.process.pid, signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL its process group, job processes included: a worker lost outright."""
        self.process.kill()


@contextlib.contextmanager
def agent_worker(
    name: str, *, env: Mapping[str, str], log_dir: Path, spool_dir: Path
) -> Iterator[AgentWorker]:
    """A worker for the duration of the block, with `env` added to this process's environment,
    spooling to `spool_dir` and answering health checks on a free port."""
    started = time.monotonic()
    health_port = free_port()
    spool_dir.mkdir(parents=True, exist_ok=True)
    process = ManagedProcess(
        name,
        [sys.executable, "-m", "agent_service", AGENT_COMMAND],
        log_path=log_dir / f"{name}.log",
        env={**env, "SPOOL_DIR": str(spool_dir), "AGENT_HEALTH_PORT": str(health_port)},
    )
    try:
        process.wait_for_line(REGISTERED_LINE, REGISTER_TIMEOUT_S)
        registered_after_s = time.monotonic() - started
        yield AgentWorker(name, process, health_port, spool_dir, registered_after_s)
    finally:
        process.terminate(STOP_TIMEOUT_S)
