"""One real stack for the whole suite: Postgres, the OpenAI stub, livekit-server, the token service
and the agent worker, as processes (devstack.Stack). Logs of every process are kept under
`.data/e2e-logs/<run>/` and their paths are printed when the suite ends.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_support import LATENCIES, STUB_SCRIPT, TRAINEE_LINES, FrontendApi

from devstack.speech import render_speech
from devstack.stack import Stack

_REPO_ROOT = Path(__file__).resolve().parents[1]
_LOG_ROOT = _REPO_ROOT / ".data" / "e2e-logs"
_KEEP_RUNS = 10
_STACK: dict[str, Any] = {}
E2E_AGENT_ENV = {"SPOOL_RETRY_INTERVAL": "2"}
"""What a job spooled is sent again within seconds, not production's half minute."""


def _prune_old_logs() -> None:
    """Keep the logs of the last few runs only (livekit-server's debug log is ~10 MB a run)."""
    if not _LOG_ROOT.is_dir():
        return
    runs = sorted(p for p in _LOG_ROOT.iterdir() if p.is_dir())
    for old in runs[:-_KEEP_RUNS]:
        shutil.rmtree(old, ignore_errors=True)


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    # Speech renders in a few milliseconds, but espeak-ng missing must fail before anything starts.
    for line in TRAINEE_LINES:
        render_speech(line)
    log_dir = _LOG_ROOT / f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    _prune_old_logs()
    started = time.monotonic()
    with Stack(log_dir=log_dir, stub_script=STUB_SCRIPT, agent_env=E2E_AGENT_ENV) as running:
        _STACK["log_dir"] = log_dir
        _STACK["startup_s"] = time.monotonic() - started
        _STACK["timings"] = dict(running.timings)
        yield running


@pytest.fixture(scope="session")
def frontend(stack: Stack) -> FrontendApi:
    return FrontendApi(stack.token_service_url)


@pytest.fixture(scope="session")
def demo(stack: Stack) -> dict[str, Any]:
    return stack.demo


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not LATENCIES and not _STACK:
        return
    write = terminalreporter.write_line
    terminalreporter.section("end-to-end latencies")
    if _STACK:
        parts = ", ".join(f"{k} {v:.1f} s" for k, v in _STACK["timings"].items())
        write(f"stack start-up: {_STACK['startup_s']:.1f} s ({parts})")
    rows = [(row.test, what, seconds) for row in LATENCIES for what, seconds in row.values.items()]
    if rows:
        test_w = max(len("test"), *(len(r[0]) for r in rows))
        what_w = max(len("measured"), *(len(r[1]) for r in rows))
        write(f"{'test':<{test_w}}  {'measured':<{what_w}}  {'seconds':>8}")
        previous = ""
        for test, what, seconds in rows:
            shown = test if test != previous else ""
            previous = test
            write(f"{shown:<{test_w}}  {what:<{what_w}}  {seconds:>8.2f}")
    if "log_dir" in _STACK:
        write(f"process logs: {_STACK['log_dir']}")
