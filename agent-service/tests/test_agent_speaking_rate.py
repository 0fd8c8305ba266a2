"""speaking_rate.py: the vectorized spectral flux is the library's figure, on real speech and on
silence, and the worker's job processes use it (the forkserver imports the worker module)."""

import numpy as np
import pytest
from livekit.agents.voice.transcription._speaking_rate import (
    SpeakingRateDetector,
    SpeakingRateStream,
)

from agent_service import speaking_rate
from devstack.speech import SAMPLE_RATE, render_speech

RATES = (SAMPLE_RATE, 24_000, 16_000)
"""The clip's rate, the caller's output rate (the Realtime model's), and a lower one."""


def windows(rate: int) -> list[np.ndarray]:
    """One-second windows stepping 0.1 s over spoken English, as float32 in [-1, 1] at `rate`,
    the way SpeakingRateStream hands them to `_spectral_flux`."""
    clip = render_speech("I don't know, it's just a lot right now. Rent is due on Friday.")
    samples = clip.samples.astype(np.float32) / np.iinfo(np.int16).max
    audio = samples[:: SAMPLE_RATE // rate] if SAMPLE_RATE % rate == 0 else samples
    rate = rate if SAMPLE_RATE % rate == 0 else SAMPLE_RATE
    step = rate // 10
    return [audio[start : start + rate] for start in range(0, len(audio) - rate, step)]


@pytest.mark.parametrize("rate", RATES)
def test_the_vectorized_flux_equals_the_librarys_on_speech(rate: int) -> None:
    library = speaking_rate.library_spectral_flux()
    stream = SpeakingRateStream.__new__(SpeakingRateStream)  # the method reads nothing of it
    compared = 0
    for window in windows(rate):
        expected = library(stream, window, rate)
        assert speaking_rate.spectral_flux(window, rate) == pytest.approx(expected, rel=1e-9)
        compared += expected > 0
    assert compared > 10  # the clip's windows carry speech, not only silence


def test_short_or_silent_audio_gives_what_the_library_gives() -> None:
    library = speaking_rate.library_spectral_flux()
    stream = SpeakingRateStream.__new__(SpeakingRateStream)
    silence = np.zeros(24_000, dtype=np.float32)
    assert speaking_rate.spectral_flux(silence, 24_000) == library(stream, silence, 24_000) == 0.0
    one_frame = np.ones(600, dtype=np.float32)
    assert speaking_rate.spectral_flux(one_frame, 24_000) == library(stream, one_frame, 24_000)


async def test_the_worker_installs_it_for_every_speaking_rate_stream() -> None:
    import agent_service.worker  # noqa: F401 - importing it is what installs the method

    stream = SpeakingRateDetector().stream()
    try:
        window = windows(24_000)[5]
        assert stream._spectral_flux(window, 24_000) == speaking_rate.spectral_flux(window, 24_000)
        assert SpeakingRateStream._spectral_flux is not speaking_rate.library_spectral_flux()
    finally:
        await stream.aclose()
