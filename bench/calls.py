"""Whole calls on the real stack (Postgres, livekit-server --dev, the OpenAI stub, both services):
join -> `session.id`, hang-up -> transcript stored and -> evaluation 200, and N simultaneous calls
on one agent worker.

The trainees run in this process, on the same two cores as livekit-server and the worker, so the
concurrency figures are for the worker sharing its machine with everything else: a lower bound.
"""

import asyncio
import contextlib
import statistics
import time
from dataclasses import dataclass
from typing import Any

import httpx
import psutil

from devstack.speech import SpeechClip, render_speech
from devstack.stack import Stack
from devstack.trainee import Trainee
from training_contracts import ATTR_SESSION_ID, USER_ID_HEADER

LINE = "Hello, you've reached the support line. My name is Sam. What's going on tonight?"
STUB_SCRIPT: dict[str, Any] = {
    "user_transcripts": [LINE],
    "replies": ["Hi. I don't really know why I called."],
    "reply_ms": 1200,
}
JOIN_CALLS = 20
HANGUP_CALLS = 8
CONCURRENCY_STEPS = (5, 10, 15, 20, 25, 30, 35)
REPLY_WAIT_S = 3.5
"""End of speech -> hang-up in a concurrency step: turn detection (~0.5 s), the reply (1.2 s), margin.
The step then checks that both the trainee's turn and the caller's reply were stored."""
ARRIVALS_PER_S = 4.0
"""How fast a step's trainees join: a class logging in, not one instant. Every call of a step is
live (both sides streaming audio) before any trainee speaks."""
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
    turns: int = 0
    live_s: float = 0.0
    """From the trainee being in the room to hanging up."""


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
    *,
    all_in: asyncio.Barrier | None = None,
) -> CallResult:
    """One call; with `all_in` (a concurrency step), the trainee speaks only once every call of the
    step is live, and does not decode the caller's audio: it waits out the reply instead."""
    started = time.monotonic()
    trainee = await Trainee.join(stack.token_service_url, user_id, name=name, listen=all_in is None)
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
        if all_in is not None:
            await asyncio.wait_for(all_in.wait(), 60)
        said = await trainee.say(clip)
        if all_in is None:
            await trainee.wait_for_agent_reply(after=said, timeout=30, quiet=0.3)
        else:
            await asyncio.sleep(REPLY_WAIT_S)
    finally:
        hung_up = await trainee.leave()
    if trainee.joined_at is not None:
        result.live_s = hung_up - trainee.joined_at
    stored_ms, evaluated_ms = await _poll(http, user_id, session_id, hung_up)
    result.hangup_to_transcript_ms, result.hangup_to_evaluation_ms = stored_ms, evaluated_ms
    session = (
        await http.get(f"/api/sessions/{session_id}", headers={USER_ID_HEADER: user_id})
    ).json()
    result.turns = len(session["turns"])
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


def _tree(pid: int) -> list[psutil.Process]:
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
        for process in _tree(self._root):
            with contextlib.suppress(psutil.NoSuchProcess):
                times = process.cpu_times()
                used = times.user + times.system
                self._first.setdefault(process.pid, used if baseline else 0.0)
                self._last[process.pid] = used

    @property
    def seconds(self) -> float:
        return sum(last - self._first[pid] for pid, last in self._last.items())


def _rss_mb(processes: list[psutil.Process]) -> float:
    total = 0
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += process.memory_info().rss
    return total / 2**20


async def _step(stack: Stack, n: int, clip: SpeechClip) -> dict[str, Any]:
    assert stack.agent is not None
    worker_pid = stack.agent.process.pid
    users = [u["userId"] for u in stack.demo["users"]]
    baseline_rss = _rss_mb(_tree(worker_pid))
    cpu = CpuMeter(worker_pid)
    peak_rss = baseline_rss
    started = time.monotonic()
    sampling = True

    async def sample() -> None:
        nonlocal peak_rss
        while sampling:
            peak_rss = max(peak_rss, _rss_mb(_tree(worker_pid)))
            cpu.sample()
            await asyncio.sleep(1.0)

    sampler = asyncio.create_task(sample())
    all_in = asyncio.Barrier(n)

    async def arrive(i: int) -> CallResult:
        await asyncio.sleep(i / ARRIVALS_PER_S)
        try:
            return await _call(stack, http, users[i % len(users)], clip, f"c{n}-{i}", all_in=all_in)
        except BaseException:
            await all_in.abort()  # the others must not wait for a call that failed
            raise

    async with httpx.AsyncClient(base_url=stack.token_service_url, timeout=30) as http:
        outcomes = await asyncio.gather(*(arrive(i) for i in range(n)), return_exceptions=True)
    sampling = False
    await sampler
    cpu.sample()
    elapsed = time.monotonic() - started
    calls = [o for o in outcomes if isinstance(o, CallResult)]
    failures = [repr(o) for o in outcomes if not isinstance(o, CallResult)]
    ready = [c.join_to_session_id_ms for c in calls]
    ok = (
        not failures
        and all(ms <= READY_WITHIN_S * 1000 for ms in ready)
        and all(c.turns >= 2 for c in calls)
    )
    return {
        "calls": n,
        "ok": ok,
        "failures": failures[:3],
        "session_id_p95_ms": _percentiles(ready)["p95"] if ready else float("nan"),
        "session_id_max_ms": max(ready) if ready else float("nan"),
        "turns_stored_min": min((c.turns for c in calls), default=0),
        # CPU seconds per second of a live call, over all calls of the step
        "cpu_per_call_pct": 100 * cpu.seconds / max(sum(c.live_s for c in calls), 1e-9),
        "worker_cpu_pct": 100 * cpu.seconds / elapsed,
        "rss_per_call_mb": (peak_rss - baseline_rss) / n,
        "seconds": elapsed,
    }


async def _concurrency(stack: Stack) -> dict[str, Any]:
    clip = render_speech(LINE)
    steps = []
    for n in CONCURRENCY_STEPS:
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
    with _stack(CONCURRENCY_AGENT_ENV) as stack:
        return asyncio.run(_concurrency(stack))
