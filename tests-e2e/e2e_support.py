"""What the end-to-end tests share: the frontend's REST calls, conversation steps, the latency log."""

# Deadlines are these waits' contract (the failure says what never came).
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import msgspec

from devstack.app_database import ApplicationDatabase, application_database, public_schema
from devstack.postgres import PostgresServer
from devstack.runs import new_run_dir
from devstack.speech import SpeechClip, render_speech
from devstack.stack import Stack
from devstack.trainee import Trainee
from training_contracts import (
    EVALUATION_PATH,
    SESSION_PATH,
    USER_ID_HEADER,
    ApiErrorCode,
    ErrorBody,
    Evaluation,
    SessionView,
    TurnView,
    fill,
)

# What the stub "hears" for each detected user turn, and what the caller answers, in order. Every
# call (a new Realtime connection) starts again at the first line of each list.
TRAINEE_LINES = (
    "Hello, you've reached the support line. My name is Sam. What's going on tonight?",
    "That sounds really hard. Can you tell me more about what happened today?",
    "Thank you for telling me. Are you somewhere safe right now?",
)
CALLER_LINES = (
    "Hi. I don't really know why I called. Everything just feels like too much.",
    "I lost my job this morning and I haven't told anyone yet.",
    "I'm at home. I'm safe, I think. I just needed to talk to someone.",
)
STUB_SCRIPT: dict[str, Any] = {
    "user_transcripts": list(TRAINEE_LINES),
    "replies": list(CALLER_LINES),
    "reply_ms": 1500,
}

JOIN_TIMEOUT_S = 30.0
"""Join -> `session.id`: dispatch, job process, session creation."""
REPLY_TIMEOUT_S = 20.0
COMPLETED = "completed"
"""SessionView.status once the agent stored the attempt's final transcript."""
TRANSCRIPT_TIMEOUT_S = 45.0
"""Hang-up -> transcript stored; a vanished trainee is noticed by livekit-server's timeouts."""


# -- the database the suite runs on ---------------------------------------------------------------


class AppDatabase:
    """The suite's database: the cluster, the application's side of it, and `public`'s schema as
    it was before the stack started."""

    def __init__(self, pg: PostgresServer) -> None:
        self.pg = pg
        self.app: ApplicationDatabase = application_database(pg)
        self.public_schema_before = public_schema(pg)


# -- latencies, printed at the end of the run ------------------------------------------------------


@contextmanager
def suite_stack(
    log_root: Path,
    keep_runs: int,
    stack_info: dict[str, Any],
    *,
    agent_env: Mapping[str, str] | None = None,
    database_url: str | None = None,
) -> Iterator[Stack]:
    """A suite's one stack, its process logs in a new run folder under `log_root`; what
    `write_latency_summary` prints of its start-up goes into `stack_info`. `database_url`: a
    database of the suite's own instead of the stack's throwaway one (nothing is seeded)."""
    # Speech renders in a few milliseconds, but espeak-ng missing must fail before anything starts.
    for line in TRAINEE_LINES:
        render_speech(line)
    log_dir = new_run_dir(log_root, keep_runs)
    started = time.monotonic()
    with Stack(
        log_dir=log_dir, stub_script=STUB_SCRIPT, agent_env=agent_env, database_url=database_url
    ) as running:
        stack_info.update(
            log_dir=log_dir, startup_s=time.monotonic() - started, timings=dict(running.timings)
        )
        yield running


@dataclass
class LatencyRow:
    test: str
    values: dict[str, float] = field(default_factory=dict)


LATENCIES: list[LatencyRow] = []


def record_latency(test: str, what: str, seconds: float) -> None:
    for row in LATENCIES:
        if row.test == test:
            row.values[what] = seconds
            break
    else:
        LATENCIES.append(LatencyRow(test, {what: seconds}))
    print(f"[latency] {test}: {what} = {seconds:.2f} s", flush=True)


def write_latency_summary(terminalreporter: Any, title: str, stack_info: dict[str, Any]) -> None:
    """The run's latencies, and the stack's start-up and logs (`stack_info`: startup_s,
    timings, log_dir, as the suite's conftest recorded them), at the end of pytest's output."""
    if not LATENCIES and not stack_info:
        return
    write = terminalreporter.write_line
    terminalreporter.section(title)
    if "timings" in stack_info:
        parts = ", ".join(f"{k} {v:.1f} s" for k, v in stack_info["timings"].items())
        write(f"stack start-up: {stack_info['startup_s']:.1f} s ({parts})")
    rows = [(row.test, what, seconds) for row in LATENCIES for what, seconds in row.values.items()]
    if rows:
        test_w = max(len("test"), *(len(r[0]) for r in rows))
        what_w = max(len("measured"), *(len(r[1]) for r in rows))
        write(f"{'test':<{test_w}}  {'measured':<{what_w}}  {'seconds':>8}")
        previous = ""
        for test, what, seconds in rows:
            shown = test if test != previous else ""
            previous = test
            write(f"{shown:<{test_w}}  {what:<{what_w}}  {seconds:>8.2f}")
    if "log_dir" in stack_info:
        write(f"process logs: {stack_info['log_dir']}")


# -- the frontend's REST calls --------------------------------------------------------------------


class FrontendApi:
    """The token service's public API, called as the Next.js frontend calls it."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base_url, timeout=15.0, trust_env=False)

    async def get_session(self, user_id: str, session_id: str) -> SessionView:
        async with self._client() as client:
            response = await client.get(
                fill(SESSION_PATH, session_id=session_id), headers={USER_ID_HEADER: user_id}
            )
        assert response.status_code == 200, response.text
        return msgspec.json.decode(response.content, type=SessionView)

    async def request_evaluation(self, user_id: str, session_id: str) -> httpx.Response:
        async with self._client() as client:
            return await client.post(
                fill(EVALUATION_PATH, session_id=session_id), headers={USER_ID_HEADER: user_id}
            )

    async def evaluation_with_retry(
        self, user_id: str, session_id: str, *, attempts: int = 20, delay: float = 1.0
    ) -> tuple[Evaluation, int, float]:
        """The frontend's loop: retry on 409 transcript_pending.

        Returns the evaluation, how many 409s came first, and when (monotonic) the 200 came."""
        for pending in range(attempts):
            response = await self.request_evaluation(user_id, session_id)
            if response.status_code == 200:
                evaluation = msgspec.json.decode(response.content, type=Evaluation)
                return evaluation, pending, time.monotonic()
            assert response.status_code == 409, response.text
            body = msgspec.json.decode(response.content, type=ErrorBody)
            assert body.error.code == ApiErrorCode.TRANSCRIPT_PENDING, response.text
            await asyncio.sleep(delay)
        raise AssertionError(f"evaluation still pending after {attempts} tries")

    async def wait_for_transcript(
        self,
        user_id: str,
        session_id: str,
        *,
        attempt: int,
        since: float,
        timeout: float = TRANSCRIPT_TIMEOUT_S,
    ) -> tuple[SessionView, float]:
        """Poll GET /api/sessions/{id} until `attempt`'s final transcript is stored (the session
        is `completed` at that attempt). Returns the session and seconds since `since`."""
        deadline = time.monotonic() + timeout
        while True:
            session = await self.get_session(user_id, session_id)
            if session.status == COMPLETED and session.attempt == attempt:
                return session, time.monotonic() - since
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"attempt {attempt} of session {session_id} not stored within {timeout} s: "
                    f"status {session.status!r} at attempt {session.attempt}, turns "
                    f"{roles_and_text(turns_of(session, attempt))}"
                )
            await asyncio.sleep(0.1)


def turns_of(session: SessionView, attempt: int) -> list[TurnView]:
    return sorted(
        (t for t in session.turns if t.attempt_number == attempt), key=lambda t: t.turn_order
    )


def roles_and_text(turns: Sequence[TurnView]) -> list[tuple[str, str]]:
    return [(str(t.role), t.content) for t in turns]


def assert_conversation(turns: Sequence[TurnView], user_lines: Sequence[str]) -> None:
    """The stored turns are the conversation that happened, in order: each trainee line the
    stub heard, each followed by the caller's answer; turn orders strictly increase."""
    orders = [t.turn_order for t in turns]
    assert orders == sorted(set(orders)), f"turn orders not strictly increasing: {orders}"
    users = [t.content for t in turns if t.role == "user"]
    assert users == list(user_lines), roles_and_text(turns)
    for line in user_lines:
        index = next(i for i, t in enumerate(turns) if t.role == "user" and t.content == line)
        following = turns[index + 1 :]
        assert following, f"no caller reply after {line!r}: {roles_and_text(turns)}"
        assert following[0].role == "assistant", roles_and_text(turns)
        assert following[0].content in CALLER_LINES, roles_and_text(turns)


# -- conversation steps ---------------------------------------------------------------------------

_CLIPS: dict[str, SpeechClip] = {}


async def clip(text: str) -> SpeechClip:
    if text not in _CLIPS:
        _CLIPS[text] = await asyncio.to_thread(render_speech, text)
    return _CLIPS[text]


async def start_call(
    token_service_url: str,
    user_id: str,
    test: str,
    *,
    assignment_id: str | None = None,
    scenario_id: str | None = None,
    name: str = "trainee",
) -> tuple[Trainee, str]:
    """Join as the frontend does and wait for `session.id`; records join -> session.id."""
    trainee = await Trainee.join(
        token_service_url,
        user_id,
        assignment_id=assignment_id,
        scenario_id=scenario_id,
        name=name,
    )
    prefix = "" if name == "trainee" else f"{name} "
    try:
        session_id = await trainee.wait_for_session_id(JOIN_TIMEOUT_S)
        assert trainee.joined_at is not None
        record_latency(
            test,
            f"{prefix}join->session.id",
            trainee.attribute_seen_at["session.id"] - trainee.joined_at,
        )
        # Speak once the agent listens (useVoiceAssistant's "listening"), as a person would
        # after the connect tone; earlier speech may reach a session that is still starting.
        record_latency(
            test, f"{prefix}join->listening", await trainee.wait_until_listening(JOIN_TIMEOUT_S)
        )
    except BaseException:
        await trainee.leave()
        raise
    return trainee, session_id


async def exchange(trainee: Trainee, lines: Sequence[str]) -> None:
    """Say each line and wait for the caller's spoken answer before the next one."""
    for line in lines:
        ended = await trainee.say(await clip(line))
        await trainee.wait_for_agent_reply(after=ended, timeout=REPLY_TIMEOUT_S)


async def stub_connection_since(
    stack: Stack, since_wall: float, timeout: float = 15.0
) -> dict[str, Any]:
    """The one Realtime connection the stub accepted since `since_wall` (time.time()), once the
    agent gave it instructions. Tests run one call at a time, so there is exactly one."""
    deadline = time.monotonic() + timeout
    while True:
        state = await asyncio.to_thread(stack.stub_state)
        fresh = [c for c in state["connections"] if c["connected_at"] >= since_wall - 0.5]
        if fresh and all(c["instructions"] for c in fresh):
            assert len(fresh) == 1, [c["id"] for c in fresh]
            connection: dict[str, Any] = fresh[0]
            return connection
        if time.monotonic() > deadline:
            raise AssertionError(f"no instructed Realtime connection since {since_wall}: {fresh}")
        await asyncio.sleep(0.1)


def is_uuid(value: str) -> bool:
    try:
        UUID(value)
    except ValueError:
        return False
    return True
