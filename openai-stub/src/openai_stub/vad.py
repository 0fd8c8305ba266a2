"""Energy voice activity detection over PCM16 mono audio, in audio time (not wall-clock time).

Audio is analysed in 100 ms windows. A window is speech when its RMS is at least `threshold`.
Speech starts once `start_ms` of speech has accumulated without a gap of `gap_ms` or more, and
stops after `silence_ms` of continuous silence. Timestamps are milliseconds of audio received
since the VAD was created, like the Realtime API's `audio_start_ms` / `audio_end_ms`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .session_config import DEFAULT_SILENCE_MS, SAMPLE_RATE

WINDOW_MS = 100
DEFAULT_THRESHOLD = 500.0
DEFAULT_START_MS = 200
DEFAULT_GAP_MS = 200


@dataclass(frozen=True)
class SpeechStarted:
    audio_start_ms: int


@dataclass(frozen=True)
class SpeechStopped:
    audio_end_ms: int


VadEvent = SpeechStarted | SpeechStopped


def rms(pcm16: bytes) -> float:
    """Root mean square of little-endian int16 samples (0.0 for no samples)."""
    samples = np.frombuffer(pcm16[: len(pcm16) - len(pcm16) % 2], dtype="<i2")
    if samples.size == 0:
        return 0.0
    as_float = samples.astype(np.float64)
    return float(np.sqrt(np.mean(as_float * as_float)))


class EnergyVAD:
    def __init__(
        self,
        *,
        sample_rate: int = SAMPLE_RATE,
        threshold: float = DEFAULT_THRESHOLD,
        start_ms: int = DEFAULT_START_MS,
        gap_ms: int = DEFAULT_GAP_MS,
        silence_ms: int = DEFAULT_SILENCE_MS,
    ) -> None:
        self.sample_rate = sample_rate
        self.threshold = threshold
        self.start_ms = start_ms
        self.gap_ms = gap_ms
        self.silence_ms = silence_ms
        self._window_bytes = sample_rate * WINDOW_MS // 1000 * 2
        self._pending = b""
        self._samples = 0  # samples analysed so far
        self.speaking = False
        self._candidate_start_ms: int | None = None
        self._candidate_speech_ms = 0
        self._silence_run_ms = 0

    @property
    def audio_ms(self) -> int:
        """Milliseconds of audio analysed so far (whole windows only)."""
        return self._samples * 1000 // self.sample_rate

    def push(self, pcm16: bytes) -> list[VadEvent]:
        """Feeds audio of any length; returns the events it completes, in order."""
        self._pending += pcm16
        events: list[VadEvent] = []
        while len(self._pending) >= self._window_bytes:
            window = self._pending[: self._window_bytes]
            self._pending = self._pending[self._window_bytes :]
            start_ms = self.audio_ms
            self._samples += self._window_bytes // 2
            event = self._on_window(rms(window) >= self.threshold, start_ms, self.audio_ms)
            if event is not None:
                events.append(event)
        return events

    def reset(self) -> None:
        """Forgets any speech in progress (`input_audio_buffer.clear`); the clock keeps running."""
        self._pending = b""
        self.speaking = False
        self._candidate_start_ms = None
        self._candidate_speech_ms = 0
        self._silence_run_ms = 0

    def _on_window(self, voiced: bool, start_ms: int, end_ms: int) -> VadEvent | None:
        if self.speaking:
            if voiced:
                self._silence_run_ms = 0
                return None
            self._silence_run_ms += WINDOW_MS
            if self._silence_run_ms >= self.silence_ms:
                self.reset()
                return SpeechStopped(audio_end_ms=end_ms)
            return None

        if voiced:
            if self._candidate_start_ms is None:
                self._candidate_start_ms = start_ms
            self._candidate_speech_ms += WINDOW_MS
            self._silence_run_ms = 0
            if self._candidate_speech_ms >= self.start_ms:
                started = self._candidate_start_ms
                self.speaking = True
                self._candidate_start_ms = None
                self._candidate_speech_ms = 0
                return SpeechStarted(audio_start_ms=started)
            return None

        if self._candidate_start_ms is not None:
            self._silence_run_ms += WINDOW_MS
            if self._silence_run_ms >= self.gap_ms:
                self._candidate_start_ms = None
                self._candidate_speech_ms = 0
                self._silence_run_ms = 0
        return None
