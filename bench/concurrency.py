"""N simultaneous calls on one agent worker, in growing steps until one fails.

The steps' trainees are the Go crowd (bench/crowd, see crowd_runner). The steps run twice: with
everything sharing the machine's two cores (the worker competes with livekit-server, the stub,
the token service, Postgres and the trainees: a lower bound), and with the worker alone on one
core and everything else on the other (what one core of a worker's own machine holds).
"""

import asyncio
import contextlib
import os
import time
from collections.abc import Awaitable, Iterator
from dataclasses import dataclass
from typing import TypeVar

import httpx
import msgspec
import psutil

from devstack.speech import SpeechClip, render_speech
from devstack.stack import Stack
from training_contracts import SESSION_PATH, USER_ID_HEADER, fill

from .backend import postmaster_pid
from .call_stack import LINE, MANY_CALLS_AGENT_ENV, REPLY_MS, call_stack
from .crowd_runner import CrowdRun, run_crowd
from .load import LOAD_CPU, SERVER_CPU, pin
from .stats import percentiles
from .worker_usage import CpuMeter, pin_tree, process_tree, pss_mb

T = TypeVar("T")

SHARED_STEPS = (2, 5, 10, 15, 20, 25, 30, 35)
DEDICATED_STEPS = (2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24)
"""Steps with the worker alone on one core: finer, since one core holds fewer calls. The first
step of each is the reply at low load that REPLY_BOUND_MS is measured from."""
REPLY_BOUND_MS = 300.0
"""How much later than at low load the caller's reply may come (p95, everyone speaking at once)
at a worker's capacity: the rule the capacity default is set by (docs/operations.md)."""
REPLY_STAY_S = REPLY_MS / 1000 + 0.3
"""How long a trainee of a step stays once the caller's reply starts: long enough for the whole
reply to be in the transcript the step then checks."""
ARRIVALS_PER_S = 4.0
"""How fast a step's trainees join: a class logging in, not one instant. Every call of a step is
live (both sides streaming audio) before any trainee speaks; then all speak at once."""
READY_WITHIN_S = 2.0
SAMPLE_S = 1.0
SETTLE_S = 3.0
"""Between steps: the worker's job processes of the last step wind down."""
TURNS_TIMEOUT_S = 30.0


class StepFailed(RuntimeError):
    """The smallest step failed: the section has no figure."""


class ConcurrencyStep(msgspec.Struct):
    calls: int
    ok: bool
    failures: list[str]
    session_id_p50_ms: float
    session_id_p95_ms: float
    session_id_max_ms: float
    turns_stored_min: int
    caller_packets_heard_min: int
    said_to_reply_p50_ms: float
    said_to_reply_p95_ms: float
    cpu_per_call_pct: float
    """CPU seconds per second of a live call, over all calls of the step."""
    worker_cpu_pct: float
    trainees_cpu_pct: float
    machine_busy_pct: float
    others_cpu_pct: float
    memory_per_call_mb: float
    seconds: float


class ConcurrencyResult(msgspec.Struct):
    where: str
    """Which cores the worker and the rest had."""
    steps: list[ConcurrencyStep]
    largest_ok: int
    low_load_reply_p95_ms: float
    """The first step's reply p95: the reply at low load."""
    largest_within_reply_bound: int
    """The largest step that passed with its reply p95 within REPLY_BOUND_MS of the first step's,
    every smaller step too: the calls this placement holds by the capacity rule."""
    ready_within_s: float
    agent_env: dict[str, str]
    arrivals_per_s: float


@dataclass
class Usage:
    """What the machine and the worker spent while a step ran."""

    seconds: float
    worker_cpu_s: float
    machine_busy_s: float
    memory_growth_mb: float


async def _measuring(worker_pid: int, work: Awaitable[T]) -> tuple[T, Usage]:
    """`work`'s result, and what the worker and the machine used meanwhile."""
    baseline_mb = peak_mb = pss_mb(process_tree(worker_pid))
    cpu = CpuMeter(worker_pid)
    machine_before = psutil.cpu_times()
    started = time.monotonic()
    sampling = True

    async def sample() -> None:
        nonlocal peak_mb
        while sampling:
            peak_mb = max(peak_mb, pss_mb(process_tree(worker_pid)))
            cpu.sample()
            await asyncio.sleep(SAMPLE_S)

    sampler = asyncio.create_task(sample())
    try:
        result = await work
    finally:
        sampling = False
        await sampler
    cpu.sample()
    machine_after = psutil.cpu_times()
    busy = sum(machine_after) - sum(machine_before) - (machine_after.idle - machine_before.idle)
    usage = Usage(time.monotonic() - started, cpu.seconds, busy, peak_mb - baseline_mb)
    return result, usage


async def _stored_turns(http: httpx.AsyncClient, user_id: str, session_id: str) -> int:
    """Turns stored for the call once its final batch is in (or whatever is there by the timeout)."""
    headers = {USER_ID_HEADER: user_id}
    deadline = time.monotonic() + TURNS_TIMEOUT_S
    while True:
        response = await http.get(fill(SESSION_PATH, session_id=session_id), headers=headers)
        session = response.json()
        if session["status"] == "completed" or time.monotonic() > deadline:
            return len(session["turns"])
        await asyncio.sleep(0.1)


def _summary(n: int, crowd: CrowdRun, turns: list[int], usage: Usage) -> ConcurrencyStep:
    calls = [c for c in crowd.calls if c.ok]
    ready = percentiles([c.join_to_session_id_ms for c in calls])
    replies = percentiles([c.said_to_reply_ms for c in calls if c.said_to_reply_ms > 0])
    # a call whose caller never replied is among the crowd's failures
    failures = [
        *crowd.failures,
        *(
            f"call {c.i}: session.id after {c.join_to_session_id_ms:.0f} ms"
            for c in calls
            if c.join_to_session_id_ms > READY_WITHIN_S * 1000
        ),
        *(f"{t} turns stored of a call" for t in turns if t < 2),
    ]
    ok = not failures
    live_s = sum(c.live_s for c in crowd.calls)
    others_s = usage.machine_busy_s - usage.worker_cpu_s - crowd.cpu_seconds
    return ConcurrencyStep(
        calls=n,
        ok=ok,
        failures=failures[:3],
        session_id_p50_ms=ready.p50,
        session_id_p95_ms=ready.p95,
        session_id_max_ms=ready.max,
        turns_stored_min=min(turns, default=0),
        caller_packets_heard_min=min((c.agent_speech_packets_after_said for c in calls), default=0),
        said_to_reply_p50_ms=replies.p50,
        said_to_reply_p95_ms=replies.p95,
        cpu_per_call_pct=100 * usage.worker_cpu_s / max(live_s, 1e-9),
        worker_cpu_pct=100 * usage.worker_cpu_s / usage.seconds,
        trainees_cpu_pct=100 * crowd.cpu_seconds / usage.seconds,
        machine_busy_pct=100 * usage.machine_busy_s / usage.seconds,
        others_cpu_pct=100 * others_s / usage.seconds,
        memory_per_call_mb=usage.memory_growth_mb / n,
        seconds=usage.seconds,
    )


async def _step(stack: Stack, n: int, clip: SpeechClip) -> ConcurrencyStep:
    assert stack.agent is not None
    users = [u["userId"] for u in stack.demo["users"]]
    crowd, usage = await _measuring(
        stack.agent.process.pid,
        run_crowd(
            stack.token_service_url,
            users,
            n,
            clip,
            arrivals_per_s=ARRIVALS_PER_S,
            reply_stay_s=REPLY_STAY_S,
        ),
    )
    async with httpx.AsyncClient(base_url=stack.token_service_url, timeout=30) as http:
        turns = await asyncio.gather(
            *(
                _stored_turns(http, users[c.i % len(users)], c.session_id)
                for c in crowd.calls
                if c.ok
            )
        )
    return _summary(n, crowd, list(turns), usage)


async def _steps(stack: Stack, sizes: tuple[int, ...], where: str) -> ConcurrencyResult:
    clip = render_speech(LINE)
    steps: list[ConcurrencyStep] = []
    for n in sizes:
        steps.append(await _step(stack, n, clip))
        if not steps[-1].ok:
            break
        await asyncio.sleep(SETTLE_S)
    if not steps[0].ok:
        # Not a capacity figure: the stack failed calls it must hold (or this machine is far
        # slower than the steps assume); either way there is nothing to report.
        raise StepFailed(f"the smallest step ({sizes[0]} calls) failed: {steps[0].failures}")
    return ConcurrencyResult(
        where=where,
        steps=steps,
        largest_ok=max((s.calls for s in steps if s.ok), default=0),
        low_load_reply_p95_ms=steps[0].said_to_reply_p95_ms,
        largest_within_reply_bound=within_reply_bound(steps),
        ready_within_s=READY_WITHIN_S,
        agent_env=MANY_CALLS_AGENT_ENV,
        arrivals_per_s=ARRIVALS_PER_S,
    )


def within_reply_bound(steps: list[ConcurrencyStep]) -> int:
    """The calls of the last step of the unbroken run of passing steps, from the first, whose
    reply p95 stays within REPLY_BOUND_MS of the first step's; 0 when the first step failed."""
    if not steps or not steps[0].ok:
        return 0
    bound = steps[0].said_to_reply_p95_ms + REPLY_BOUND_MS
    held = 0
    for step in steps:
        if not step.ok or not step.said_to_reply_p95_ms <= bound:
            break
        held = step.calls
    return held


def run_shared() -> ConcurrencyResult:
    """Everything on both cores: the worker shares the machine with livekit-server, the stub, the
    token service, Postgres and the trainees."""
    with call_stack(many_calls=True) as stack:
        return asyncio.run(_steps(stack, SHARED_STEPS, "all on 2 cores"))


@contextlib.contextmanager
def _worker_on_its_own_core(stack: Stack) -> Iterator[None]:
    """The worker alone on SERVER_CPU; every other process of the stack, this one and the trainees
    it starts on LOAD_CPU. Job processes fork from the worker's forkserver, so they inherit it."""
    assert stack.agent is not None
    assert stack.token_service is not None
    pin_tree(stack.agent.process.pid, SERVER_CPU)
    rest = [
        stack.livekit.process.pid,
        stack.token_service.process.pid,
        postmaster_pid(stack.postgres.datadir),
    ]
    if stack.stub is not None:
        rest.append(stack.stub.process.pid)
    for pid in rest:
        pin_tree(pid, LOAD_CPU)
    own = os.sched_getaffinity(0)
    pin(os.getpid(), LOAD_CPU)  # this process only: the stack's processes are its children
    try:
        yield
    finally:
        for thread in psutil.Process().threads():
            with contextlib.suppress(OSError):
                os.sched_setaffinity(thread.id, own)


def run_dedicated() -> ConcurrencyResult:
    """The worker alone on one core: what a core of a worker's own machine holds."""
    with call_stack(many_calls=True) as stack, _worker_on_its_own_core(stack):
        return asyncio.run(_steps(stack, DEDICATED_STEPS, "worker alone on 1 core"))
