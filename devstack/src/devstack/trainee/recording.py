"""What the trainee heard from the agent, sample for sample, for scoring its quality afterwards.

The listener hands it every frame it meters, so the recording is exactly what a page would play:
the decoder's output after the jitter buffer, concealment included.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt

__all__ = ["Recording", "read_wav"]


class Recording:
    """Mono PCM16 frames at `sample_rate`, in the order they were heard."""

    def __init__(self, sample_rate: int) -> None:
        self.sample_rate = sample_rate
        self._chunks: list[npt.NDArray[np.int16]] = []
        self.position = 0
        """Samples recorded so far: marks a moment of the call in the recording."""

    def add(self, samples: npt.NDArray[np.int16]) -> None:
        self._chunks.append(samples.copy())
        self.position += len(samples)

    def samples(self) -> npt.NDArray[np.int16]:
        if not self._chunks:
            return np.zeros(0, dtype=np.int16)
        return np.concatenate(self._chunks)

    def write_wav(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with wave.open(str(path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(self.sample_rate)
            out.writeframes(self.samples().astype("<i2").tobytes())


def read_wav(path: Path) -> tuple[npt.NDArray[np.int16], int]:
    """A mono PCM16 WAV file: (samples, sample rate)."""
    with wave.open(str(path), "rb") as wav:
        if wav.getnchannels() != 1 or wav.getsampwidth() != 2:
            raise ValueError(f"{path}: not mono PCM16")
        data = wav.readframes(wav.getnframes())
        return np.frombuffer(data, dtype="<i2").astype(np.int16), wav.getframerate()
