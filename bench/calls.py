"""Whole calls on the real stack (Postgres, livekit-server --dev, the OpenAI stub, both services):
join -> `session.id`, hang-up -> transcript stored and -> evaluation 200, and N simultaneous calls
on one agent worker.

The concurrency steps' trainees are the Go crowd (bench/crowd, see crowd_runner). The steps run
twice: with everything sharing the machine's two cores (the worker competes with livekit-server,
the stub, the token service, Postgres and the trainees: a lower bound), and with the worker alone
on one core and everything else on the other (what one core of a worker's own machine holds).
"""

import asyncio
import contextlib
import os
import statistics
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import psutil

from devstack.speech import SpeechClip, render_speech
from devstack.stack import Stack
from devstack.trainee import Trainee
from training_contracts import ATTR_SESSION_ID, USER_ID_HEADER

from .backend import postmaster_pid
from .crowd_runner import run_crowd
from .load import LOAD_CPU, SERVER_CPU, pin

LINE = "Hello, you've reached the support line. My name is Sam. What's going on tonight?"
STUB_SCRIPT: dict[str, Any] = {
    "user_transcripts": [LINE],
    "replies": ["Hi. I don't really know why I called."],
    "reply_ms": 1200,
}
JOIN_CALLS = 20
HANGUP_CALLS = 8
CONCURRENCY_STEPS = (5, 10, 15, 20, 25, 30, 35)
DEDICATED_STEPS = (4, 8, 12, 14, 16, 18, 20, 22, 24)
"""Steps with the worker alone on one core: finer, since one core holds about half as many."""
REPLY_STAY_S = 1.5
"""How long a trainee of a concurrency step stays once the caller's reply starts: the reply is
1.2 s long, so it is whole in the transcript the step then checks."""
ARRIVALS_PER_S = 4.0
"""How fast a step's trainees join: a class logging in, not one instant. Every call of a step is
live (both sides streaming audio) before any trainee speaks; then all speak at once."""
READY_WITHIN_S = 2.0
POLL_S = 0.02


def _percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    return {
        "p50": statistics.median(ordered),
        "p95": pick(0.95),
        "max": ordered[-1],
        "n": len(ordered),
    }


@dataclass
class CallResult:
    session_id: str
    join_to_session_id_ms: float
    """From the trainee being in the room (room.connect() returned) to `session.id`."""
    click_to_session_id_ms: float
    """From asking the token service for a token (the trainee's click) to `session.id`."""
    hangup_to_transcript_ms: float | None = None
    hangup_to_evaluation_ms: float | None = None


async def _poll(
    http: httpx.AsyncClient, user_id: str, session_id: str, since: float
) -> tuple[float, float]:
    """(ms to the transcript stored, ms to the evaluation answering 200), polled as a frontend would."""
    headers = {USER_ID_HEADER: user_id}

    async def stored() -> float:
        while True:
            session = (await http.get(f"/api/sessions/{session_id}", headers=headers)).json()
            if session["status"] == "completed":
                return (time.monotonic() - since) * 1000
            await asyncio.sleep(POLL_S)

    async def evaluated() -> float:
        while True:
            response = await http.post(f"/api/sessions/{session_id}/evaluation", headers=headers)
            if response.status_code == 200:
                return (time.monotonic() - since) * 1000
            if response.status_code != 409:
                raise RuntimeError(f"evaluation answered {response.status_code}: {response.text}")
            await asyncio.sleep(POLL_S)

    stored_ms, evaluated_ms = await asyncio.wait_for(asyncio.gather(stored(), evaluated()), 30)
    return stored_ms, evaluated_ms


async def _call(
    stack: Stack,
    http: httpx.AsyncClient,
    user_id: str,
    clip: SpeechClip | None,
    name: str,
) -> CallResult:
    """One call, on the Python SDK (the latency sections run one call at a time)."""
    started = time.monotonic()
    trainee = await Trainee.join(stack.token_service_url, user_id, name=name)
    try:
        session_id = await trainee.wait_for_session_id(timeout=30)
        seen = trainee.attribute_seen_at[ATTR_SESSION_ID]
        assert trainee.joined_at is not None
        result = CallResult(
            session_id=session_id,
            join_to_session_id_ms=max(0.0, seen - trainee.joined_at) * 1000,
            click_to_session_id_ms=(seen - started) * 1000,
        )
        if clip is None:
            return result
        await trainee.wait_until_listening(timeout=30)
        said = await trainee.say(clip)
        await trainee.wait_for_agent_reply(after=said, timeout=30, quiet=0.3)
    finally:
        hung_up = await trainee.leave()
    stored_ms, evaluated_ms = await _poll(http, user_id, session_id, hung_up)
    result.hangup_to_transcript_ms, result.hangup_to_evaluation_ms = stored_ms, evaluated_ms
    return result


CONCURRENCY_AGENT_ENV = {
    # Room for every step: the worker's own ceiling (JOB_CAPACITY x LiveKit's 0.7 threshold) must
    # not be what this measures.
    "JOB_CAPACITY": "64",
    "NUM_IDLE_PROCESSES": "8",
}


def _stack(agent_env: dict[str, str] | None = None) -> Stack:
    return Stack(stub_script=STUB_SCRIPT, agent_env=agent_env)


async def _latency(stack: Stack) -> dict[str, Any]:
    user_id = stack.demo["users"][0]["userId"]
    clip = render_speech(LINE)
    async with httpx.AsyncClient(base_url=stack.token_service_url, timeout=15) as http:
        await _call(stack, http, user_id, None, "warm-up")
        joins = [await _call(stack, http, user_id, None, f"join-{i}") for i in range(JOIN_CALLS)]
        talks = [await _call(stack, http, user_id, clip, f"talk-{i}") for i in range(HANGUP_CALLS)]
    return {
        "join_to_session_id_ms": _percentiles([c.join_to_session_id_ms for c in joins]),
        "click_to_session_id_ms": _percentiles([c.click_to_session_id_ms for c in joins]),
        "hangup_to_transcript_ms": _percentiles([c.hangup_to_transcript_ms or 0 for c in talks]),
        "hangup_to_evaluation_ms": _percentiles([c.hangup_to_evaluation_ms or 0 for c in talks]),
    }


def run_latency() -> dict[str, Any]:
    with _stack() as stack:
        return asyncio.run(_latency(stack))


def process_tree(pid: int) -> list[psutil.Process]:
    root = psutil.Process(pid)
    return [root, *root.children(recursive=True)]


class CpuMeter:
    """CPU seconds a process tree spends, job processes that come and go included: each process is
    sampled while it lives and keeps its last reading after it exits."""

    def __init__(self, root_pid: int) -> None:
        self._root = root_pid
        self._first: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self.sample(baseline=True)

    def sample(self, *, baseline: bool = False) -> None:
        for process in process_tree(self._root):
            with contextlib.suppress(psutil.NoSuchProcess):
                times = process.cpu_times()
                used = times.user + times.system
                self._first.setdefault(process.pid, used if baseline else 0.0)
                self._last[process.pid] = used

    @property
    def seconds(self) -> float:
        return sum(last - self._first[pid] for pid, last in self._last.items())


def _pss_mb(processes: list[psutil.Process]) -> float:
    """Memory of the processes, pages shared between them counted once (PSS).

    Job processes are forked from one forkserver and share most of their pages with it and with
    each other: adding up their RSS counts those pages once per process (about 155 MB per call,
    where a call's own memory is about 40 MB)."""
    total = 0
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            total += process.memory_full_info().pss
    return total / 2**20


async def _stored_turns(http: httpx.AsyncClient, user_id: str, session_id: str) -> int:
    """Turns stored for the call once its final batch is in (or whatever is there after 30 s)."""
    headers = {USER_ID_HEADER: user_id}
    deadline = time.monotonic() + 30
    while True:
        session = (await http.get(f"/api/sessions/{session_id}", headers=headers)).json()
        if session["status"] == "completed" or time.monotonic() > deadline:
            return len(session["turns"])
        await asyncio.sleep(0.1)


async def _step(stack: Stack, n: int, clip: SpeechClip) -> dict[str, Any]:
    assert stack.agent is not None
    worker_pid = stack.agent.process.pid
    users = [u["userId"] for u in stack.demo["users"]]
    baseline_mb = _pss_mb(process_tree(worker_pid))
    cpu = CpuMeter(worker_pid)
    machine_before = psutil.cpu_times()
    peak_mb = baseline_mb
    started = time.monotonic()
    sampling = True

    async def sample() -> None:
        nonlocal peak_mb
        while sampling:
            peak_mb = max(peak_mb, _pss_mb(process_tree(worker_pid)))
            cpu.sample()
            await asyncio.sleep(1.0)

    sampler = asyncio.create_task(sample())
    try:
        crowd = await run_crowd(
            stack.token_service_url,
            users,
            n,
            clip,
            arrivals_per_s=ARRIVALS_PER_S,
            reply_stay_s=REPLY_STAY_S,
        )
    finally:
        sampling = False
        await sampler
    cpu.sample()
    elapsed = time.monotonic() - started
    machine_after = psutil.cpu_times()
    machine_busy = sum(machine_after) - sum(machine_before)
    machine_busy -= machine_after.idle - machine_before.idle
    calls = [c for c in crowd.calls if c.ok]
    async with httpx.AsyncClient(base_url=stack.token_service_url, timeout=30) as http:
        turns = await asyncio.gather(
            *(_stored_turns(http, users[c.i % len(users)], c.session_id) for c in calls)
        )
    ready = [c.join_to_session_id_ms for c in calls]
    heard = [c.agent_speech_packets_after_said for c in calls]
    replies = [c.said_to_reply_ms for c in calls if c.said_to_reply_ms > 0]
    # a call whose caller never replied is among the crowd's failures
    ok = (
        not crowd.failures
        and all(ms <= READY_WITHIN_S * 1000 for ms in ready)
        and all(t >= 2 for t in turns)
    )
    live_s = sum(c.live_s for c in crowd.calls)
    return {
        "calls": n,
        "ok": ok,
        "failures": crowd.failures[:3],
        "session_id_p50_ms": _percentiles(ready)["p50"] if ready else float("nan"),
        "session_id_p95_ms": _percentiles(ready)["p95"] if ready else float("nan"),
        "session_id_max_ms": max(ready) if ready else float("nan"),
        "turns_stored_min": min(turns, default=0),
        "caller_packets_heard_min": min(heard, default=0),
        "said_to_reply_p50_ms": _percentiles(replies)["p50"] if replies else float("nan"),
        "said_to_reply_p95_ms": _percentiles(replies)["p95"] if replies else float("nan"),
        # CPU seconds per second of a live call, over all calls of the step
        "cpu_per_call_pct": 100 * cpu.seconds / max(live_s, 1e-9),
        "worker_cpu_pct": 100 * cpu.seconds / elapsed,
        "trainees_cpu_pct": 100 * crowd.cpu_seconds / elapsed,
        "machine_busy_pct": 100 * machine_busy / elapsed,
        "others_cpu_pct": 100 * (machine_busy - cpu.seconds - crowd.cpu_seconds) / elapsed,
        "memory_per_call_mb": (peak_mb - baseline_mb) / n,
        "seconds": elapsed,
    }


async def _concurrency(stack: Stack, sizes: tuple[int, ...]) -> dict[str, Any]:
    clip = render_speech(LINE)
    steps = []
    for n in sizes:
        step = await _step(stack, n, clip)
        steps.append(step)
        if not step["ok"]:
            break
        await asyncio.sleep(3)  # let the worker's job processes wind down between steps
    largest = max((s["calls"] for s in steps if s["ok"]), default=0)
    return {
        "steps": steps,
        "largest_ok": largest,
        "ready_within_s": READY_WITHIN_S,
        "agent_env": CONCURRENCY_AGENT_ENV,
        "arrivals_per_s": ARRIVALS_PER_S,
    }


def run_concurrency() -> dict[str, Any]:
    """Everything on both cores: the worker shares the machine with livekit-server, the stub, the
    token service, Postgres and the trainees."""
    with _stack(CONCURRENCY_AGENT_ENV) as stack:
        return asyncio.run(_concurrency(stack, CONCURRENCY_STEPS))


def _pin_tree(pid: int, cpu: int) -> None:
    for process in process_tree(pid):
        with contextlib.suppress(psutil.NoSuchProcess, subprocess.CalledProcessError):
            pin(process.pid, cpu)


@contextlib.contextmanager
def _worker_on_its_own_core(stack: Stack) -> Iterator[None]:
    """The worker alone on SERVER_CPU; every other process of the stack, this one and the trainees
    it starts on LOAD_CPU. Job processes fork from the worker's forkserver, so they inherit it."""
    assert stack.agent is not None
    assert stack.token_service is not None
    _pin_tree(stack.agent.process.pid, SERVER_CPU)
    rest = [
        stack.livekit.process.pid,
        stack.token_service.process.pid,
        postmaster_pid(stack.postgres.datadir),
    ]
    if stack.stub is not None:
        rest.append(stack.stub.process.pid)
    for pid in rest:
        _pin_tree(pid, LOAD_CPU)
    own = os.sched_getaffinity(0)
    pin(os.getpid(), LOAD_CPU)  # this process only: the stack's processes are its children
    try:
        yield
    finally:
        for thread in psutil.Process().threads():
            with contextlib.suppress(OSError):
                os.sched_setaffinity(thread.id, own)


def run_dedicated() -> dict[str, Any]:
    """The worker alone on one core: what a core of a worker's own machine holds."""
    with _stack(CONCURRENCY_AGENT_ENV) as stack, _worker_on_its_own_core(stack):
        return asyncio.run(_concurrency(stack, DEDICATED_STEPS))
