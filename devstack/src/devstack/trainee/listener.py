"""The trainee's ears: every audio track the agent publishes, metered frame by frame."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from livekit import rtc

from ..speech import FRAME_MS, SAMPLE_RATE, rms
from .recording import Recording

__all__ = ["BURST_GAP_S", "ENERGY_THRESHOLD", "AgentAudio", "Listener"]

ENERGY_THRESHOLD = 500.0
"""RMS (PCM16 counts) above which a frame counts as sound; the stub's VAD uses the same level."""
BURST_GAP_S = 0.3
"""Energetic frames closer than this belong to one burst: the gaps between a sentence's words."""


@dataclass
class AgentAudio:
    """What the trainee heard from the agent's audio track."""

    threshold: float = ENERGY_THRESHOLD
    frames: int = 0
    energetic_frames: int = 0
    max_rms: float = 0.0
    first_frame_at: float | None = None
    first_energy_at: float | None = None
    last_energy_at: float | None = None
    bursts: list[tuple[float, float]] = field(default_factory=list)
    """(start, end) monotonic times of runs of energetic frames (gaps under BURST_GAP_S merged)."""

    def add(self, samples: npt.NDArray[np.int16], now: float) -> None:
        level = rms(samples)
        self.frames += 1
        if self.first_frame_at is None:
            self.first_frame_at = now
        self.max_rms = max(self.max_rms, level)
        if level < self.threshold:
            return
        self.energetic_frames += 1
        if self.first_energy_at is None:
            self.first_energy_at = now
        if self.bursts and now - self.bursts[-1][1] < BURST_GAP_S:
            self.bursts[-1] = (self.bursts[-1][0], now)
        else:
            self.bursts.append((now, now))
        self.last_energy_at = now

    @property
    def energetic_seconds(self) -> float:
        return self.energetic_frames * FRAME_MS / 1000


class Listener:
    """Meters the tracks it is given into `audio` (and keeps every frame in `recording`, if
    given), calling `on_frame` after each frame."""

    def __init__(
        self,
        audio: AgentAudio,
        on_frame: Callable[[], None],
        name: str,
        recording: Recording | None = None,
    ) -> None:
        self.audio = audio
        self.recording = recording
        self.tracks: list[rtc.Track] = []
        self._on_frame = on_frame
        self._name = name
        self._tasks: set[asyncio.Task[None]] = set()

    def listen(self, track: rtc.Track) -> None:
        self.tracks.append(track)
        task = asyncio.create_task(self._meter(track), name=f"{self._name}-listen")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _meter(self, track: rtc.Track) -> None:
        stream = rtc.AudioStream.from_track(
            track=track, sample_rate=SAMPLE_RATE, num_channels=1, frame_size_ms=FRAME_MS
        )
        try:
            async for event in stream:
                samples = np.frombuffer(event.frame.data, dtype=np.int16)
                self.audio.add(samples, time.monotonic())
                if self.recording is not None:
                    self.recording.add(samples)
                self._on_frame()
        finally:
            await stream.aclose()

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
