"""Audio I/O for driving a livekit-agents `AgentSession` without a room, in tests.

Needs livekit-agents, which the stub itself does not depend on (it is in the repository's
shared virtualenv); nothing else in `openai_stub` imports this module.

    session = AgentSession(llm=RealtimeModel(base_url=stub.base_url, api_key="test"))
    mic, speaker = PushAudioInput(), PlayoutAudioOutput()
    session.input.audio = mic
    session.output.audio = speaker
    await session.start(Agent(instructions="..."))
    mic.push(audio.clip() + audio.silence(800))  # a user turn the stub's VAD detects
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from livekit import rtc
from livekit.agents.voice import io

from . import audio
from .session_config import SAMPLE_RATE

FRAME_MS = 20


def frame(pcm16: bytes, sample_rate: int = SAMPLE_RATE) -> rtc.AudioFrame:
    """One mono PCM16 frame."""
    return rtc.AudioFrame(
        data=pcm16,
        sample_rate=sample_rate,
        num_channels=1,
        samples_per_channel=len(pcm16) // 2,
    )


class PushAudioInput(io.AudioInput):
    """A microphone the test speaks into: pushed PCM16 24 kHz mono comes out as 20 ms frames.

    Audio pushed before the session has started is dropped by the session, so push after
    `session.start()` returns. Frames can be pushed faster than real time: the stub's VAD
    measures audio time, not wall-clock time.
    """

    def __init__(self) -> None:
        super().__init__(label="PushAudioInput")
        self._queue: asyncio.Queue[rtc.AudioFrame | None] = asyncio.Queue()
        self.pushed_ms = 0

    def push(self, pcm16: bytes) -> None:
        """Queues audio (PCM16, 24 kHz, mono) for the session, in 20 ms frames."""
        for piece in audio.chunks(pcm16, FRAME_MS):
            self._queue.put_nowait(frame(piece))
            self.pushed_ms += audio.duration_ms(piece)

    async def push_realtime(self, pcm16: bytes) -> None:
        """Pushes audio at real-time pace, one 20 ms frame at a time."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        sent_ms = 0
        for piece in audio.chunks(pcm16, FRAME_MS):
            self.push(piece)
            sent_ms += audio.duration_ms(piece)
            delay = started + sent_ms / 1000 - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)

    def close(self) -> None:
        """Ends the stream (the session stops reading from it)."""
        self._queue.put_nowait(None)

    async def __anext__(self) -> rtc.AudioFrame:
        item = await self._queue.get()
        if item is None:
            raise StopAsyncIteration
        return item


class PlayoutAudioOutput(io.AudioOutput):
    """A speaker with no device: each segment "plays" in real time once captured.

    Reports playback started / finished like a room's output, and supports pause / resume,
    so the session's interruption and truncation logic runs as it does in a room.
    `clear_buffer()` interrupts the segment at the position reached.
    """

    def __init__(self, sample_rate: int = SAMPLE_RATE) -> None:
        super().__init__(
            label="PlayoutAudioOutput",
            capabilities=io.AudioOutputCapabilities(pause=True),
            sample_rate=sample_rate,
        )
        self._segment_s = 0.0
        self._segment_started = 0.0
        self._paused_at: float | None = None
        self._paused_s = 0.0  # time the current segment spent paused
        self._flush_task: asyncio.Task[None] | None = None
        self._interrupted = False
        self._changed = asyncio.Event()
        self.captured_s = 0.0  # all audio ever captured
        self.finished: list[io.PlaybackFinishedEvent] = []
        self.on("playback_finished", self.finished.append)

    @property
    def paused(self) -> bool:
        return self._paused_at is not None

    @property
    def position(self) -> float:
        """Seconds of the current segment played so far (0 between segments)."""
        if not self._segment_s:
            return 0.0
        now = self._paused_at if self._paused_at is not None else time.monotonic()
        return max(0.0, now - self._segment_started - self._paused_s)

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        await super().capture_frame(frame)
        if self._flush_task is not None and not self._flush_task.done():
            await self._flush_task
        if not self._segment_s:
            self._segment_started = time.monotonic()
            self._paused_s = 0.0
            if self._paused_at is not None:
                self._paused_at = self._segment_started
            self.on_playback_started(created_at=time.time())
        self._segment_s += frame.duration
        self.captured_s += frame.duration

    def flush(self) -> None:
        super().flush()
        if self._segment_s:
            self._flush_task = asyncio.create_task(self._play_out())

    def clear_buffer(self) -> None:
        if self._segment_s:
            self._interrupted = True
            self._changed.set()

    def pause(self) -> None:
        super().pause()
        if self._paused_at is None:
            self._paused_at = time.monotonic()
            self._changed.set()

    def resume(self) -> None:
        super().resume()
        if self._paused_at is not None:
            self._paused_s += time.monotonic() - self._paused_at
            self._paused_at = None
            self._changed.set()

    async def _play_out(self) -> None:
        while not self._interrupted:
            remaining = self._segment_s - self.position
            if self._paused_at is None and remaining <= 0:
                break
            self._changed.clear()
            timeout = None if self._paused_at is not None else remaining
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=timeout)
        interrupted = self._interrupted
        played = min(self._segment_s, self.position) if interrupted else self._segment_s
        self._segment_s = 0.0
        self._interrupted = False
        self.on_playback_finished(playback_position=played, interrupted=interrupted)

    async def aclose(self) -> None:
        if self._flush_task is not None:
            self._flush_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flush_task
