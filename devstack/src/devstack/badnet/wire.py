"""The relay: two TUN devices joined by a user-space wire that loses and delays packets.

Every IP packet read from one device is given its fate (impairment.Fate) and, unless lost, written
to the other device at its departure time. Each direction has a generator of its own, seeded from
the run's seed and the direction's name, so one direction's traffic never changes the other's fate.
"""

from __future__ import annotations

import asyncio
import errno
import os
from dataclasses import dataclass

from .impairment import Fate, Impairment

__all__ = ["Direction", "Wire"]

_MAX_PACKET = 65_535
_GONE = (errno.EBADFD, errno.EIO, errno.EBADF)
"""A read or write error that means the device went away (its namespace ended)."""


@dataclass
class Direction:
    name: str
    source: int
    target: int
    fate: Fate
    delivered: int = 0
    failed_writes: int = 0

    def summary(self) -> dict[str, int]:
        return {
            "packets": self.fate.packets,
            "dropped": self.fate.dropped,
            "delivered": self.delivered,
            "failedWrites": self.failed_writes,
        }


class Wire:
    """Relays between `inside` (the impaired side's device) and `outside`, both non-blocking TUN
    file descriptors, until `close()` or until either device goes away."""

    def __init__(self, inside: int, outside: int, impairment: Impairment, seed: int) -> None:
        self.directions = (
            Direction("up", inside, outside, Fate(impairment, f"{seed}:up")),
            Direction("down", outside, inside, Fate(impairment, f"{seed}:down")),
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._done: asyncio.Event | None = None
        self.closed = False

    def summary(self) -> dict[str, dict[str, int]]:
        return {d.name: d.summary() for d in self.directions}

    async def run(self) -> None:
        """Relay until closed or a device is gone."""
        self._loop = asyncio.get_running_loop()
        self._done = asyncio.Event()
        for direction in self.directions:
            self._loop.add_reader(direction.source, self._readable, direction)
        try:
            await self._done.wait()
        finally:
            self.close()
            for direction in self.directions:
                self._loop.remove_reader(direction.source)

    def close(self) -> None:
        """Stop relaying; packets still in flight are dropped."""
        self.closed = True
        if self._done is not None:
            self._done.set()

    def _readable(self, direction: Direction) -> None:
        assert self._loop is not None
        while True:
            try:
                packet = os.read(direction.source, _MAX_PACKET)
            except BlockingIOError:
                return
            except OSError as exc:
                if exc.errno in _GONE:
                    self.close()
                    return
                raise
            departure = direction.fate.departure(self._loop.time())
            if departure is None:
                continue
            self._loop.call_at(departure, self._deliver, direction, packet)

    def _deliver(self, direction: Direction, packet: bytes) -> None:
        if self.closed:
            return
        try:
            os.write(direction.target, packet)
        except OSError as exc:
            if exc.errno in _GONE:
                self.close()
                return
            # A full device queue or an unreachable peer loses the packet, as a real link would.
            direction.failed_writes += 1
            return
        direction.delivered += 1
