"""The transcript synchronizer's speaking-rate estimate, computed in one pass of numpy.

While the caller speaks, livekit-agents' TranscriptSynchronizer paces the caller's words to its
audio (the trainee's page shows them as they are spoken) from a speaking rate that
`SpeakingRateStream._spectral_flux` computes over the last second of audio ten times a second:
a short-time Fourier transform and a spectral flux, written as a Python loop over each 25 ms frame
(one `np.fft.rfft` per frame, a new Hann window per call). That loop was the largest single part
of a speaking call's Python work (docs/benchmarks.md, "Where a call's CPU goes").

`install()` replaces that one method with the same computation on all frames at once (a strided
view, one rfft along an axis, the flux as a difference along it): the same figure, to rounding,
for a fraction of the interpreter's work. It is ours, not the library's, because the library has
no way to pass a detector of our own to the synchronizer RoomIO builds. It follows a private
method: if an upgrade of livekit-agents removes or renames it, `install()` logs an error and the
synchronizer runs the library's own loop (slower, same result); `test_agent_speaking_rate.py`
fails first, as it compares the two on speech.
"""

import functools
import logging
from typing import Any

import numpy as np
from livekit.agents.voice.transcription import _speaking_rate
from numpy.lib.stride_tricks import as_strided

logger = logging.getLogger(__name__)

FRAME_S = 0.025
"""The library's STFT frame (25 ms) and hop (half of it), as `_spectral_flux` sets them."""

_LIBRARY_METHOD = "_spectral_flux"
_library: dict[str, Any] = {}
"""The library's own method, kept when it is replaced (the tests compare the two)."""


@functools.cache
def _window(frame_length: int) -> tuple[np.ndarray[Any, np.dtype[np.float64]], float]:
    window = np.hanning(frame_length)
    return window, float(1.0 / np.sqrt(np.sum(window**2)))


def spectral_flux(audio: np.ndarray[Any, np.dtype[np.float32]], sample_rate: int) -> float:
    """The mean L1 change of the scaled magnitude spectrum between consecutive 25 ms frames
    (hop 12.5 ms, Hann window): what `SpeakingRateStream._spectral_flux` returns, vectorized."""
    frame_length = int(sample_rate * FRAME_S)
    hop_length = frame_length // 2
    frames_n = (len(audio) - frame_length) // hop_length + 1 if frame_length else 0
    if frames_n < 2 or hop_length < 1:
        return 0.0
    window, scale = _window(frame_length)
    audio = np.ascontiguousarray(audio)
    step = audio.strides[0]
    # Read-only views of the audio, one row per frame: nothing is copied before the window.
    frames = as_strided(
        audio, shape=(frames_n, frame_length), strides=(hop_length * step, step), writeable=False
    )
    magnitudes = np.abs(np.fft.rfft(frames * window, axis=1)) * scale
    return float(np.mean(np.sum(np.abs(np.diff(magnitudes, axis=0)), axis=1)))


def _method(
    _stream: object, audio: np.ndarray[Any, np.dtype[np.float32]], sample_rate: int
) -> float:
    return spectral_flux(audio, sample_rate)


def install() -> bool:
    """Use `spectral_flux` in every SpeakingRateStream of this process; whether it is in use."""
    stream_class = getattr(_speaking_rate, "SpeakingRateStream", None)
    if stream_class is None or not callable(getattr(stream_class, _LIBRARY_METHOD, None)):
        logger.error(
            "livekit-agents' speaking-rate estimate moved; its own (slower) loop stays in use",
            extra={"expected": f"SpeakingRateStream.{_LIBRARY_METHOD}"},
        )
        return False
    current = getattr(stream_class, _LIBRARY_METHOD)
    if current is not _method:
        _library.setdefault(_LIBRARY_METHOD, current)
        setattr(stream_class, _LIBRARY_METHOD, _method)
    return True


def library_spectral_flux() -> Any:
    """livekit-agents' own `SpeakingRateStream._spectral_flux` (unbound), replaced or not."""
    return _library.get(_LIBRARY_METHOD) or _speaking_rate.SpeakingRateStream._spectral_flux
