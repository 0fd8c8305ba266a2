"""Speech-like trainee audio: sentences rendered by espeak-ng, resampled by sox to 48 kHz mono PCM16.

The OpenAI stub cannot understand words, but it detects turns by energy and silence the way a real
voice activity detector does, so the trainee must sound like someone talking: bursts of voiced
audio with short gaps, then a pause. Clips are cached on disk by (text, voice, speed).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

__all__ = [
    "FRAME_MS",
    "SAMPLE_RATE",
    "SpeechClip",
    "SpeechToolMissingError",
    "render_speech",
    "rms",
]

SAMPLE_RATE = 48_000
FRAME_MS = 10
"""The frames the trainee sends and meters: LiveKit's own audio frame length."""
_CACHE_VERSION = "2"


class SpeechToolMissingError(RuntimeError):
    pass


@dataclass(frozen=True)
class SpeechClip:
    text: str
    samples: npt.NDArray[np.int16]
    """Mono PCM16 at SAMPLE_RATE."""

    @property
    def duration(self) -> float:
        return len(self.samples) / SAMPLE_RATE

    @property
    def rms(self) -> float:
        return rms(self.samples)


def rms(samples: npt.NDArray[np.int16]) -> float:
    if len(samples) == 0:
        return 0.0
    return float(np.sqrt(np.mean(np.square(samples.astype(np.float64)))))


def _tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise SpeechToolMissingError(
            f"{name} not found on PATH: the trainee's speech is rendered with espeak-ng and "
            f"resampled with sox; install them (Debian: apt-get install {package})"
        )
    return path


def _cache_dir() -> Path:
    root = os.environ.get("DEVSTACK_SPEECH_CACHE")
    path = Path(root) if root else Path(tempfile.gettempdir()) / "devstack-speech"
    path.mkdir(parents=True, exist_ok=True)
    return path


def render_speech(text: str, *, voice: str = "en-us", words_per_minute: int = 165) -> SpeechClip:
    """`text` spoken by espeak-ng as 48 kHz mono PCM16, normalised to -3 dBFS peak."""
    if not text.strip():
        raise ValueError("nothing to say")
    espeak = _tool("espeak-ng", "espeak-ng")
    sox = _tool("sox", "sox")
    key = hashlib.sha256(
        f"{_CACHE_VERSION}\0{voice}\0{words_per_minute}\0{text}".encode()
    ).hexdigest()
    cached = _cache_dir() / f"{key[:32]}.pcm"
    if not cached.exists():
        with tempfile.TemporaryDirectory(prefix="speech-") as tmp:
            wav = Path(tmp) / "speech.wav"
            raw = Path(tmp) / "speech.pcm"
            _run([espeak, "-v", voice, "-s", str(words_per_minute), "-w", str(wav), text])
            _run(
                [
                    sox,
                    str(wav),
                    "-t",
                    "raw",
                    "-r",
                    str(SAMPLE_RATE),
                    "-c",
                    "1",
                    "-b",
                    "16",
                    "-e",
                    "signed-integer",
                    str(raw),
                    "gain",
                    "-n",
                    "-3",
                    # Pauses between sentences shortened to 0.15 s: the stub detects turns by energy
                    # alone, and a 0.4 s pause that a loaded jitter buffer stretches past its 0.5 s
                    # silence would split one utterance into two turns.
                    "silence",
                    "-l",
                    "1",
                    "0.05",
                    "1%",
                    "-1",
                    "0.15",
                    "1%",
                ]
            )
            # Atomic publish: concurrent renderers of the same text never see half a clip.
            tmp_target = cached.with_suffix(f".{os.getpid()}.tmp")
            shutil.copyfile(raw, tmp_target)
            tmp_target.replace(cached)
    samples = np.frombuffer(cached.read_bytes(), dtype="<i2").astype(np.int16)
    if len(samples) == 0:
        cached.unlink(missing_ok=True)
        raise RuntimeError(f"espeak-ng rendered no audio for {text!r}")
    return SpeechClip(text=text, samples=samples)


def _run(argv: list[str]) -> None:
    result = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=60)
    if result.returncode != 0:
        raise RuntimeError(
            f"{Path(argv[0]).name} failed ({result.returncode}): {result.stderr.strip()}"
        )
