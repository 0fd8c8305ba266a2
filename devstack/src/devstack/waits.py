"""Waiting for a condition, not for a time: poll until something is there, or fail naming it."""

# The deadline is this wait's contract (the failure says what never came).
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def until(
    what: str, probe: Callable[[], Awaitable[T | None]], timeout: float, poll: float = 0.1
) -> T:
    """Poll `probe` until it returns something; AssertionError naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} within {timeout:.0f} s")
        await asyncio.sleep(poll)
