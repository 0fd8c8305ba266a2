"""A pytest suite's one stack, its process logs in a run folder of their own."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from ..runs import new_run_dir
from ..speech import render_speech
from ..stack import Stack
from .lines import TRAINEE_LINES, stub_script

REPO_ROOT = Path(__file__).resolve().parents[4]
LOGS = REPO_ROOT / ".data"
"""Each suite's runs go to `.data/<suite>-logs/<date>-<time>-<pid>/`."""

S = TypeVar("S", bound=Stack)


@contextmanager
def suite_stack(
    suite: str,
    keep_runs: int,
    stack_info: dict[str, Any],
    stack_type: type[S],
    **options: Any,
) -> Iterator[S]:
    """The suite's stack (a `stack_type`, with `options` for its constructor; the stub speaks
    `stub_script()` unless `stub_script` is among them), its logs in a new run folder under
    `.data/<suite>-logs/` (the newest `keep_runs` kept). What `write_run_summary` prints of its
    start-up goes into `stack_info`."""
    # Speech renders in a few milliseconds, but espeak-ng missing must fail before anything starts.
    for line in TRAINEE_LINES:
        render_speech(line)
    log_dir = new_run_dir(LOGS / f"{suite}-logs", keep_runs)
    options.setdefault("stub_script", stub_script())
    started = time.monotonic()
    stack = stack_type(log_dir=log_dir, **options)
    with stack:
        stack_info.update(
            log_dir=log_dir, startup_s=time.monotonic() - started, timings=dict(stack.timings)
        )
        yield stack
