"""Runs the Go crowd of trainees (bench/crowd) for a concurrency step.

A trainee on the LiveKit Python SDK costs a good part of a core (Opus encoding and frame loops),
on the same two cores as the worker it measures. A real trainee is a browser on another computer,
so the step's trainees are `crowd`: LiveKit's Go SDK sending pre-encoded Opus and counting the
caller's packets without decoding them, a small fraction of that. The worker sees the same thing
either way: an Opus microphone track, continuous, with speech in it.
"""

import asyncio
import hashlib
import json
import resource
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import msgspec

from devstack.speech import SAMPLE_RATE, SpeechClip

REPO = Path(__file__).resolve().parents[1]
CROWD = REPO / ".tools" / "bin" / "crowd"
PACKET_CACHE = REPO / ".bench" / "opus"
SILENCE_MS = 20
OPUS_BITRATE_KBPS = 32
"""What a browser's Opus microphone sends for speech, about."""


class CrowdCall(msgspec.Struct, rename="camel"):
    """One call as `crowd` reports it when it ends."""

    i: int
    ok: bool
    error: str
    session_id: str
    join_to_session_id_ms: float
    live_s: float
    agent_speech_packets_after_said: int
    said_to_reply_ms: float
    """End of the trainee's clip -> the caller's first speech packet; 0 when none came."""


class CrowdError(RuntimeError):
    pass


def _crowd() -> Path:
    if not CROWD.exists():
        raise CrowdError(f"{CROWD} is missing: run `make crowd` (go install of bench/crowd)")
    return CROWD


def _opusenc() -> str:
    path = shutil.which("opusenc")
    if path is None:
        raise CrowdError(
            "opusenc not found: `make system-deps` (Debian: apt-get install opus-tools)"
        )
    return path


def _encode(pcm: bytes, name: str) -> Path:
    """PCM16 mono at SAMPLE_RATE -> the crowd's packet file (20 ms Opus packets), cached by content."""
    key = hashlib.sha256(pcm + f"{OPUS_BITRATE_KBPS}".encode()).hexdigest()[:24]
    target = PACKET_CACHE / f"{name}-{key}.packets"
    if target.exists():
        return target
    PACKET_CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="crowd-") as tmp:
        raw, ogg, packets = Path(tmp) / "in.pcm", Path(tmp) / "out.opus", Path(tmp) / "out.packets"
        raw.write_bytes(pcm)
        for argv in (
            [
                _opusenc(),
                "--quiet",
                "--raw",
                "--raw-rate",
                str(SAMPLE_RATE),
                "--raw-chan",
                "1",
                "--raw-bits",
                "16",
                "--framesize",
                "20",
                "--bitrate",
                str(OPUS_BITRATE_KBPS),
                str(raw),
                str(ogg),
            ],
            [str(_crowd()), "ogg2packets", str(ogg), str(packets)],
        ):
            result = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=60)
            if result.returncode != 0:
                raise CrowdError(f"{Path(argv[0]).name} failed: {result.stderr.strip()}")
        shutil.move(packets, target)
    return target


def packet_files(clip: SpeechClip) -> tuple[Path, Path]:
    """(the clip, one packet of silence) as crowd packet files."""
    silence = bytes(2 * SAMPLE_RATE * SILENCE_MS // 1000)
    return _encode(clip.samples.tobytes(), "clip"), _encode(silence, "silence")


@dataclass
class CrowdRun:
    calls: list[CrowdCall]
    failures: list[str]
    cpu_seconds: float
    """The crowd's own CPU time: what the simulated trainees cost the machine."""


async def run_crowd(
    token_service_url: str,
    users: Sequence[str],
    n: int,
    clip: SpeechClip,
    *,
    arrivals_per_s: float,
    reply_stay_s: float,
    timeout_s: float = 30.0,
) -> CrowdRun:
    clip_file, silence_file = await asyncio.to_thread(packet_files, clip)
    argv = [
        str(_crowd()),
        "-token-service",
        token_service_url,
        "-users",
        ",".join(users),
        "-calls",
        str(n),
        "-arrivals-per-s",
        str(arrivals_per_s),
        "-clip",
        str(clip_file),
        "-silence",
        str(silence_file),
        "-reply-stay",
        str(reply_stay_s),
        "-timeout",
        str(timeout_s),
    ]
    # The crowd is the only child that exits meanwhile (the stack's processes live on), so the
    # children's rusage grows by exactly its CPU time.
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    process = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        stdout, stderr = await asyncio.wait_for(
            process.communicate(), timeout_s * 3 + n / arrivals_per_s
        )
    except BaseException:
        process.kill()
        await process.wait()
        raise
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_seconds = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if process.returncode != 0:
        raise CrowdError(f"crowd exited {process.returncode}: {stderr.decode()[-2000:]}")
    calls, failures = [], []
    for line in stdout.decode().splitlines():
        record = json.loads(line)
        if "i" not in record:
            continue
        call = msgspec.convert(record, CrowdCall)
        calls.append(call)
        if not call.ok:
            failures.append(f"call {call.i}: {call.error}")
    if len(calls) != n:
        failures.append(f"crowd reported {len(calls)} of {n} calls")
    return CrowdRun(calls=calls, failures=failures, cpu_seconds=cpu_seconds)
