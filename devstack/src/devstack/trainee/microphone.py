"""The trainee's microphone: a published audio track fed at real-time pace, silence unless a clip
is playing, the way a browser's microphone never stops sending."""

from __future__ import annotations

import asyncio
import collections
import time
from typing import Any

import numpy as np
import numpy.typing as npt
from livekit import rtc

from ..speech import FRAME_MS, SAMPLE_RATE
from .errors import TraineeError

__all__ = ["FRAME_SAMPLES", "Microphone"]

FRAME_SAMPLES = SAMPLE_RATE * FRAME_MS // 1000
STALL_S = 0.2
"""Behind schedule by more than this, the pacing starts again from now instead of bursting."""


class Microphone:
    def __init__(self, name: str) -> None:
        self.name = name
        self._source = rtc.AudioSource(SAMPLE_RATE, 1, queue_size_ms=200)
        self._pending: collections.deque[tuple[npt.NDArray[np.int16], asyncio.Future[float]]] = (
            collections.deque()
        )
        self._offset = 0
        self._task: asyncio.Task[None] | None = None

    async def publish(self, room: rtc.Room) -> None:
        """Publish the track in `room` and start feeding it."""
        track = rtc.LocalAudioTrack.create_audio_track("microphone", self._source)
        options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
        await room.local_participant.publish_track(track, options)
        self._task = asyncio.create_task(self._feed(), name=f"{self.name}-mic")

    async def play(self, samples: npt.NDArray[np.int16]) -> float:
        """Send `samples` next; return the monotonic time their last frame was sent."""
        feeding = self._task
        if feeding is None:
            raise TraineeError(f"{self.name}: say() while not in a call")
        done: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._pending.append((samples, done))
        either: set[asyncio.Future[Any]] = {done, feeding}
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        if not done.done():
            feeding.result()  # the microphone failed: raise why
            raise TraineeError(f"{self.name}: the microphone stopped")
        return done.result()

    def _next_frame(self, silence: npt.NDArray[np.int16]) -> npt.NDArray[np.int16]:
        """The pending clip's next frame (padded with silence at its end), else silence."""
        if not self._pending:
            return silence
        samples, done = self._pending[0]
        chunk = samples[self._offset : self._offset + FRAME_SAMPLES]
        self._offset += FRAME_SAMPLES
        if len(chunk) < FRAME_SAMPLES:
            chunk = np.concatenate([chunk, silence[: FRAME_SAMPLES - len(chunk)]])
        if self._offset >= len(samples):
            self._pending.popleft()
            self._offset = 0
            if not done.done():
                done.set_result(time.monotonic())
        return chunk

    async def _feed(self) -> None:
        loop = asyncio.get_running_loop()
        silence = np.zeros(FRAME_SAMPLES, dtype=np.int16)
        next_at = loop.time()
        while True:
            chunk = self._next_frame(silence)
            frame = rtc.AudioFrame(chunk.tobytes(), SAMPLE_RATE, 1, FRAME_SAMPLES)
            await self._source.capture_frame(frame)
            next_at += FRAME_MS / 1000
            delay = next_at - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -STALL_S:
                next_at = loop.time()

    async def stop(self) -> None:
        """Stop sending; the track stays published until the room is left."""
        feeding, self._task = self._task, None
        if feeding is not None:
            feeding.cancel()
            await asyncio.gather(feeding, return_exceptions=True)

    async def aclose(self) -> None:
        await self.stop()
        await self._source.aclose()
