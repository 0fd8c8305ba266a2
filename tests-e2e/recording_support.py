"""What the recording tests share: fetching a recording as a player does, and reading its audio."""

# Deadlines are these waits' contract (the failure says what never came).
# ruff: noqa: ASYNC109

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

import av
import httpx
import numpy as np
import numpy.typing as npt

from devstack.waits import until
from training_contracts import (
    ATTEMPT_QUERY,
    RECORDING_MEDIA_TYPE,
    RECORDING_PATH,
    USER_ID_HEADER,
    ApiErrorCode,
    fill,
)

RECORDING_TIMEOUT_S = 45.0
"""Hang-up -> recording stored: the session closes, the transcript goes first, then the file."""


def recording_url(base_url: str, session_id: str, attempt: int) -> str:
    return f"{base_url}{fill(RECORDING_PATH, session_id=session_id)}?{ATTEMPT_QUERY}={attempt}"


async def get_recording(
    base_url: str, user_id: str, session_id: str, attempt: int, *, range_: str | None = None
) -> httpx.Response:
    headers = {USER_ID_HEADER: user_id}
    if range_ is not None:
        headers["Range"] = range_
    async with httpx.AsyncClient(timeout=15.0, trust_env=False) as client:
        return await client.get(recording_url(base_url, session_id, attempt), headers=headers)


async def wait_for_recording(
    base_url: str, user_id: str, session_id: str, attempt: int, *, timeout: float
) -> bytes:
    """Poll while the answer is 409 recording_pending, as a player page would; the file."""

    async def stored() -> bytes | None:
        response = await get_recording(base_url, user_id, session_id, attempt)
        if response.status_code == 200:
            assert response.headers["content-type"] == RECORDING_MEDIA_TYPE
            assert response.headers["accept-ranges"] == "bytes"
            assert int(response.headers["content-length"]) == len(response.content)
            return response.content
        assert response.status_code == 409, response.text
        assert response.json()["error"]["code"] == ApiErrorCode.RECORDING_PENDING
        return None

    return await until(f"recording of {session_id}/{attempt}", stored, timeout, poll=0.25)


@dataclass(frozen=True)
class Audio:
    samples: npt.NDArray[np.float32]
    """(channels, samples)."""
    rate: int

    @property
    def channels(self) -> int:
        return int(self.samples.shape[0])

    @property
    def duration(self) -> float:
        return float(self.samples.shape[1]) / self.rate

    def rms(self, channel: int, start: float, end: float) -> float:
        """RMS of `channel` over [start, end) seconds from the recording's beginning."""
        lo, hi = round(start * self.rate), round(end * self.rate)
        window = self.samples[channel, max(0, lo) : max(0, hi)]
        assert window.size > 0, f"window {start:.2f}-{end:.2f} s is outside {self.duration:.2f} s"
        return float(np.sqrt(np.mean(np.square(window, dtype=np.float64))))


def decode_ogg(data: bytes) -> Audio:
    """Decode with PyAV (installed with livekit-agents): planar float samples per channel."""
    with av.open(io.BytesIO(data), mode="r", format="ogg") as container:
        stream = container.streams.audio[0]
        assert stream.codec_context.name == "opus", stream.codec_context.name
        rate = int(stream.codec_context.sample_rate)
        frames = [frame.to_ndarray() for frame in container.decode(stream)]
    samples = np.concatenate(frames, axis=1).astype(np.float32)
    return Audio(samples=samples, rate=rate)


def log_events(log: Path, message: str, **fields: str) -> list[dict[str, object]]:
    """JSON log lines of `log` with this message whose fields match `fields`."""
    found = []
    for line in log.read_text(errors="replace").splitlines():
        if not line.startswith("{") or message not in line:
            continue
        event = json.loads(line)
        if event.get("message") == message and all(event.get(k) == v for k, v in fields.items()):
            found.append(event)
    return found
