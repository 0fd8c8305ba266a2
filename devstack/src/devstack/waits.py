"""Waiting for a condition, not for a time: poll until something is there, or fail naming it.

The one poll loop of the test suites and the tools that drive the stack: a probe is asked again
every `poll` seconds until it answers something truthy, which `until` returns. A probe may be a
plain function (a predicate over what is already in memory) or a coroutine function (one that
asks a server).
"""

# The deadline is this wait's contract (the failure says what never came).
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, overload

T = TypeVar("T")


@overload
async def until(
    what: str,
    probe: Callable[[], Awaitable[T | None]],
    timeout: float,
    *,
    poll: float = ...,
    context: Callable[[], object] | None = ...,
) -> T: ...


@overload
async def until(
    what: str,
    probe: Callable[[], T | None],
    timeout: float,
    *,
    poll: float = ...,
    context: Callable[[], object] | None = ...,
) -> T: ...


async def until(
    what: str,
    probe: Callable[[], Any],
    timeout: float,
    *,
    poll: float = 0.1,
    context: Callable[[], object] | None = None,
) -> Any:
    """`probe`'s first truthy answer; AssertionError naming `what` (and `context()`, what was
    there instead) after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            seen = f": {context()}" if context is not None else ""
            raise AssertionError(f"no {what} within {timeout:g} s{seen}")
        await asyncio.sleep(poll)
