"""Reply audio (the shipped voice clip) and small PCM16 helpers.

All audio here is raw PCM16 little-endian, 24 kHz, mono: what the Realtime API streams.
"""

from __future__ import annotations

import functools
from importlib import resources

import numpy as np

from .session_config import SAMPLE_RATE

BYTES_PER_MS = SAMPLE_RATE * 2 // 1000  # 48
CHUNK_MS = 100
GAP_MS = 300  # silence between repetitions when a reply is longer than the clip


@functools.cache
def clip() -> bytes:
    """The shipped reply clip (see clips/README.md)."""
    return resources.files("openai_stub").joinpath("clips/reply.pcm").read_bytes()


def duration_ms(pcm16: bytes) -> int:
    return len(pcm16) // BYTES_PER_MS


def silence(ms: int) -> bytes:
    return bytes(ms * BYTES_PER_MS)


def tone(ms: int, *, frequency: float = 220.0, amplitude: int = 8000) -> bytes:
    """A sine tone: loud enough to count as speech for the stub's energy VAD."""
    t = np.arange(ms * SAMPLE_RATE // 1000) / SAMPLE_RATE
    samples = amplitude * np.sin(2 * np.pi * frequency * t)
    return samples.astype("<i2").tobytes()


def reply_audio(reply_ms: int | None = None) -> bytes:
    """The audio of one reply: the clip once, or cut / repeated (with short gaps) to `reply_ms`."""
    voice = clip()
    if reply_ms is None:
        return voice
    target = reply_ms * BYTES_PER_MS
    out = bytearray()
    while len(out) < target:
        if out:
            out += silence(GAP_MS)
        out += voice
    return bytes(out[:target])


def sent_audio(reply_ms: int | None, audio_ms: int) -> bytes:
    """The audio a response streamed, from its record (`reply_ms`, `audio_ms`): what a listener
    should have heard."""
    return reply_audio(reply_ms)[: audio_ms * BYTES_PER_MS]


def chunks(pcm16: bytes, chunk_ms: int = CHUNK_MS) -> list[bytes]:
    """Splits audio into `chunk_ms` pieces (the last one may be shorter)."""
    size = chunk_ms * BYTES_PER_MS
    return [pcm16[i : i + size] for i in range(0, len(pcm16), size)]
