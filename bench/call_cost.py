"""What one call costs the worker once it runs: CPU per call while the caller listens and while it
speaks, split between Python and libwebrtc's native threads, and memory per call; for calls as
they are, and again for recorded calls (livekit-agents' recorder encoding both sides to Ogg/Opus
in a thread of each job), with the recordings' size per minute.

CALLS trainees join (the Go crowd) and, once all are live, talk (MONOLOGUE) without a pause the
stub's turn detection would take for the end of a turn: the callers listen. Then each caller
replies for REPLY_MS. Both phases are measured over a fixed window well inside them, from the
CPU time of every thread of the worker's processes (/proc), so a call's start and end are not in
the figures. The windows are placed from the step's own timing (ARRIVALS_PER_S, the trainee's
clip length), with MARGIN_S either side. Memory is the worker's PSS (all its processes) during the
speaking window less before the crowd joined, per call. The crowd's calls are free practice, so
the recorded run is the same step on a stack whose token service records free practice.

Any environment variable the agent reads passes through, e.g.
`LIVEKIT_AGENTS_LOOP_BLOCK_WARN_MS=100 python -m bench cost` shows the event-loop monitor's cost.
"""

import asyncio
import contextlib
import os
import time
from collections import defaultdict
from pathlib import Path

import av
import msgspec

from devstack.speech import render_speech
from devstack.stack import Stack

from .call_stack import call_stack
from .concurrency import ARRIVALS_PER_S
from .crowd_runner import run_crowd
from .worker_usage import process_tree, pss_mb

CALLS = 10
REPLY_MS = 12_000
MONOLOGUE = (
    "Hi, this is Sam on the support line. I want you to know you can take all the time you need "
    "tonight, there is no rush at all, and nothing you say will shock me, so whenever you feel "
    "ready, just tell me in your own words what has been happening and what made you call."
)
WINDOW_S = 6.0
MARGIN_S = 2.5
RECORDINGS_TIMEOUT_S = 60.0
PYTHON_THREAD = "python"
"""The name Linux gives threads Python starts (and the main thread): the rest are native."""


def _thread_cpu(pids: list[int]) -> dict[str, float]:
    """CPU seconds so far per thread kind (Python, or the native thread's name), over `pids`."""
    ticks = os.sysconf("SC_CLK_TCK")
    totals: dict[str, float] = defaultdict(float)
    for pid in pids:
        with contextlib.suppress(OSError):
            for tid in os.listdir(f"/proc/{pid}/task"):
                with contextlib.suppress(OSError):
                    stat = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
                    name = stat[stat.index("(") + 1 : stat.rindex(")")]
                    fields = stat[stat.rindex(")") + 2 :].split()
                    totals[name] += (int(fields[11]) + int(fields[12])) / ticks
    return totals


def _worker_pid(stack: Stack) -> int:
    assert stack.agent is not None
    return stack.agent.process.pid


def _worker_pids(stack: Stack) -> list[int]:
    return [process.pid for process in process_tree(_worker_pid(stack))]


async def _window(stack: Stack, seconds: float) -> dict[str, float]:
    """Per thread kind, percent of a core per call over the next `seconds`."""
    pids = _worker_pids(stack)
    before, started = _thread_cpu(pids), time.monotonic()
    await asyncio.sleep(seconds)
    after, elapsed = _thread_cpu(pids), time.monotonic() - started
    return {
        name: 100 * (after[name] - before.get(name, 0.0)) / elapsed / CALLS
        for name in after
        if after[name] > before.get(name, 0.0)
    }


class PhaseCost(msgspec.Struct):
    """Percent of a core per call."""

    per_call_pct: float
    python_pct: float
    native_pct: float
    native_threads_pct: dict[str, float]
    """The busiest native threads by name, busiest first."""

    @classmethod
    def of(cls, per_thread: dict[str, float]) -> "PhaseCost":
        python = per_thread.get(PYTHON_THREAD, 0.0)
        native = {k: v for k, v in per_thread.items() if k != PYTHON_THREAD}
        return cls(
            per_call_pct=python + sum(native.values()),
            python_pct=python,
            native_pct=sum(native.values()),
            native_threads_pct=dict(sorted(native.items(), key=lambda kv: -kv[1])[:6]),
        )


class CallCost(msgspec.Struct):
    listening: PhaseCost
    speaking: PhaseCost
    memory_per_call_mb: float


class RecordingSize(msgspec.Struct):
    files: int
    mb_per_minute: float
    """Megabytes (10^6) of Ogg per minute of call, over every file the step's calls left."""


class CostResult(msgspec.Struct):
    calls: int
    monologue_s: float
    reply_ms: int
    unrecorded: CallCost
    recorded: CallCost
    recording: RecordingSize


async def _measure(stack: Stack) -> CallCost:
    users = [u["userId"] for u in stack.demo["users"]]
    clip = render_speech(MONOLOGUE)
    clip_s = clip.duration
    baseline_mb = pss_mb(process_tree(_worker_pid(stack)))
    crowd = asyncio.create_task(
        run_crowd(
            stack.token_service_url,
            users,
            CALLS,
            clip,
            arrivals_per_s=ARRIVALS_PER_S,
            reply_stay_s=REPLY_MS / 1000,
        )
    )
    all_talking = CALLS / ARRIVALS_PER_S + 1.0  # the last arrival, its join and its agent ready
    await asyncio.sleep(all_talking + MARGIN_S)
    listening = await _window(stack, WINDOW_S)
    # The callers reply once the monologue ends and the stub has heard 0.5 s of silence.
    replies_start = all_talking + clip_s + 1.0
    await asyncio.sleep(max(0.0, replies_start + MARGIN_S - (all_talking + MARGIN_S + WINDOW_S)))
    speaking = await _window(stack, WINDOW_S)
    during_mb = pss_mb(process_tree(_worker_pid(stack)))
    run = await crowd
    if run.failures:
        raise RuntimeError(f"calls failed while measuring their cost: {run.failures[:3]}")
    return CallCost(
        listening=PhaseCost.of(listening),
        speaking=PhaseCost.of(speaking),
        memory_per_call_mb=(during_mb - baseline_mb) / CALLS,
    )


def _recordings(stack: Stack) -> RecordingSize:
    """Size per minute of the recordings the calls left, once the worker delivered them all."""
    deadline = time.monotonic() + RECORDINGS_TIMEOUT_S
    files: list[Path] = []
    while time.monotonic() < deadline:
        files = list(stack.recordings_dir.glob("*/*.ogg"))
        if len(files) >= CALLS:
            break
        time.sleep(0.5)
    if len(files) < CALLS:
        raise RuntimeError(f"{len(files)} of {CALLS} recordings arrived")
    minutes = sum(_ogg_seconds(path) for path in files) / 60
    return RecordingSize(
        files=len(files), mb_per_minute=sum(p.stat().st_size for p in files) / 1e6 / minutes
    )


def _ogg_seconds(path: Path) -> float:
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        assert stream.duration is not None
        assert stream.time_base is not None
        return float(stream.duration * stream.time_base)


def run() -> CostResult:
    with call_stack(many_calls=True, reply_ms=REPLY_MS) as stack:
        unrecorded = asyncio.run(_measure(stack))
    with call_stack(many_calls=True, reply_ms=REPLY_MS, recorded=True) as stack:
        recorded = asyncio.run(_measure(stack))
        recording = _recordings(stack)
    return CostResult(
        calls=CALLS,
        monologue_s=render_speech(MONOLOGUE).duration,
        reply_ms=REPLY_MS,
        unrecorded=unrecorded,
        recorded=recorded,
        recording=recording,
    )
