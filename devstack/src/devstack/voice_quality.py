"""How the caller sounds to the trainee: PESQ wideband (ITU-T P.862.2) of each reply as heard,
against the audio the model sent.

Scored as WebRTC's own audio-quality tests do, reply by reply: both signals at 16 kHz, the heard
reply found in the recording by cross-correlation with what was sent, then PESQ on that stretch
(with a margin either side: PESQ aligns what the jitter buffer stretched or shrank itself).
A reply heard perfectly scores about 4.6 (the model's ceiling); Opus at speech bitrates on a clean
path scores above 4.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from livekit import rtc
from pesq import pesq

__all__ = ["PESQ_RATE", "ReplyScore", "align", "resample", "score_reply"]

PESQ_RATE = 16_000
"""Wideband PESQ's sample rate."""
MARGIN_S = 0.2
"""Heard audio kept either side of the aligned reply (and silence added to the reference)."""

Samples = npt.NDArray[np.int16]


@dataclass(frozen=True)
class ReplyScore:
    mos: float
    """MOS-LQO, wideband: 1.0 (bad) to about 4.6."""
    offset_s: float
    """Where in the searched stretch the reply was found."""
    correlation: float
    """Normalised cross-correlation at that offset: near 1 when heard as sent."""


def resample(samples: Samples, rate: int, to_rate: int = PESQ_RATE) -> Samples:
    """Mono PCM16 from `rate` to `to_rate` (livekit's sox resampler, high quality)."""
    if rate == to_rate or len(samples) == 0:
        return samples
    resampler = rtc.AudioResampler(rate, to_rate, quality=rtc.AudioResamplerQuality.HIGH)
    frames = resampler.push(bytearray(samples.astype("<i2").tobytes()))
    frames += resampler.flush()
    if not frames:
        return np.zeros(0, dtype=np.int16)
    return np.concatenate([np.frombuffer(f.data, dtype=np.int16) for f in frames])


def align(reference: Samples, heard: Samples) -> tuple[int, float]:
    """The offset in `heard` where `reference` matches best (the peak of their cross-correlation,
    by FFT), and the normalised correlation there.

    The peak of the plain correlation, not of the normalised one: a reply that repeats itself
    (the stub's clip, looped) also matches partly where its second half meets the first, and
    normalising by the energy of a half-silent stretch would favour that."""
    if len(heard) < len(reference):
        heard = np.concatenate([heard, np.zeros(len(reference) - len(heard), dtype=np.int16)])
    ref = reference.astype(np.float64)
    sig = heard.astype(np.float64)
    size = 1 << int(np.ceil(np.log2(len(sig) + len(ref))))
    spectrum = np.fft.rfft(sig, size) * np.conj(np.fft.rfft(ref, size))
    correlation = np.fft.irfft(spectrum, size)[: len(sig) - len(ref) + 1]
    # Energy of each window of `heard`, so a loud stretch cannot win on loudness alone.
    squares = np.concatenate([[0.0], np.cumsum(sig * sig)])
    window_energy = squares[len(ref) :] - squares[: len(sig) - len(ref) + 1]
    norm = np.sqrt(np.maximum(window_energy, 1e-9) * float(np.dot(ref, ref)))
    offset = int(np.argmax(correlation))
    return offset, float(correlation[offset] / norm[offset])


def score_reply(reference: Samples, heard: Samples, rate: int = PESQ_RATE) -> ReplyScore:
    """PESQ-WB of `reference` (what was sent) against the stretch of `heard` that holds it; both
    mono PCM16 at `rate` (PESQ_RATE)."""
    offset, correlation = align(reference, heard)
    margin = int(MARGIN_S * rate)
    start = max(0, offset - margin)
    stop = offset + len(reference) + margin
    degraded = heard[start:stop]
    padded = np.concatenate(
        [
            np.zeros(offset - start, dtype=np.int16),
            reference,
            np.zeros(max(0, len(degraded) - (offset - start) - len(reference)), dtype=np.int16),
        ]
    )
    if len(degraded) < len(padded):
        degraded = np.concatenate([degraded, np.zeros(len(padded) - len(degraded), np.int16)])
    mos = float(pesq(rate, padded, degraded, "wb"))
    return ReplyScore(mos=mos, offset_s=offset / rate, correlation=correlation)
