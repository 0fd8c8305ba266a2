"""The running parts of a stack by name, each entered from its context manager and stoppable on
its own; parts that do not depend on each other start side by side."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, ExitStack
from typing import TypeVar

__all__ = ["Parts", "PartsError"]

T = TypeVar("T")


class PartsError(RuntimeError):
    pass


class Parts:
    def __init__(self, on_status: Callable[[str], None] | None = None) -> None:
        self._running: dict[str, ExitStack] = {}
        self._status = on_status or (lambda _msg: None)
        self.timings: dict[str, float] = {}
        """Seconds each part took to start, by name."""

    def __contains__(self, name: str) -> bool:
        return name in self._running

    def start(self, name: str, part: AbstractContextManager[T]) -> T:
        """Enter `part`; it runs until `stop(name)` or `stop_all()`."""
        if name in self._running:
            raise PartsError(f"{name} is already running")
        with ExitStack() as exits:
            value = exits.enter_context(part)
            # Distinct names from distinct threads: a dict item set is atomic.
            self._running[name] = exits.pop_all()
        return value

    def stop(self, name: str) -> None:
        exits = self._running.pop(name, None)
        if exits is not None:
            exits.close()

    def stop_all(self) -> None:
        """Every part still running, the last started first."""
        for name in reversed(list(self._running)):
            self.stop(name)

    def timed(self, name: str, start: Callable[[], T]) -> T:
        t0 = time.monotonic()
        self._status(f"starting {name}")
        result = start()
        self.timings[name] = time.monotonic() - t0
        self._status(f"{name} ready in {self.timings[name]:.1f} s")
        return result

    def start_side_by_side(self, starts: Mapping[str, Callable[[], object]]) -> None:
        """Run each start in a thread of its own and wait for all of them; then raise the first
        failure, in `starts` order. What started stays running, for the caller to stop."""
        with ThreadPoolExecutor(len(starts), thread_name_prefix="devstack") as pool:
            futures = [pool.submit(self.timed, name, start) for name, start in starts.items()]
        for future in futures:
            if (exc := future.exception()) is not None:
                raise exc
