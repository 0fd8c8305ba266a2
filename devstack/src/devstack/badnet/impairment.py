"""What the bad network does to each packet: lost, or delivered after a delay, decided per packet
from a seeded generator so that a run can be repeated.

The model is netem's `loss random P delay D J`: each packet is lost with probability `loss`,
independently of the others, and otherwise delayed by D plus a uniform draw in [-J, +J]. Packets
are delayed independently, so a later one can overtake an earlier one, as with netem's jitter;
`in_order` holds each packet back until the one before it has left, as a FIFO queue would.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["Fate", "Impairment"]


@dataclass(frozen=True)
class Impairment:
    """One direction's impairment (the same is applied each way)."""

    loss: float = 0.0
    """Probability that a packet is dropped, 0..1."""
    delay_ms: float = 0.0
    jitter_ms: float = 0.0
    """Half-width of the uniform spread around `delay_ms`."""
    in_order: bool = False

    def __post_init__(self) -> None:
        if not 0.0 <= self.loss < 1.0:
            raise ValueError(f"loss must be in [0, 1): {self.loss}")
        if self.delay_ms < 0 or self.jitter_ms < 0 or self.jitter_ms > self.delay_ms:
            raise ValueError(
                f"delay {self.delay_ms} ms and jitter {self.jitter_ms} ms: both must be "
                "non-negative, and the jitter no larger than the delay"
            )

    def describe(self) -> str:
        order = ", in order" if self.in_order else ""
        return f"{self.loss:.0%} loss, {self.delay_ms:g} ms ± {self.jitter_ms:g} ms delay{order}"


class Fate:
    """The fate of one direction's packets, in the order they arrive at the relay."""

    def __init__(self, impairment: Impairment, seed: str) -> None:
        self.impairment = impairment
        self._random = random.Random(seed)  # noqa: S311 - a reproducible simulation, not secrecy
        self._last_departure = float("-inf")
        self.packets = 0
        self.dropped = 0

    def departure(self, arrival: float) -> float | None:
        """When a packet that arrived at `arrival` (seconds) leaves, or None: it is lost.

        Both draws are made for every packet, so one packet's fate never shifts the next one's.
        """
        imp = self.impairment
        self.packets += 1
        lost = self._random.random() < imp.loss
        spread = self._random.uniform(-imp.jitter_ms, imp.jitter_ms)
        if lost:
            self.dropped += 1
            return None
        departure = arrival + (imp.delay_ms + spread) / 1000
        if imp.in_order:
            departure = max(departure, self._last_departure)
        self._last_departure = departure
        return departure
