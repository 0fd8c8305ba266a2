"""What the fault tests share: what the model heard and said, compared with what was stored."""

# Deadlines are these waits' contract (the failure says what never came).
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
import psycopg
from livekit import rtc

from devstack.harness import (
    TRAINEE_LINES,
    TRANSCRIPT_TIMEOUT_S,
    FrontendApi,
    exchange,
    record_latency,
    start_call,
    stub_connections_since,
    turns_of,
)
from devstack.heard import Heard, StoredTurn, heard_and_said, unlike_heard
from devstack.stack import Stack
from devstack.trainee import ATTR_AGENT_STATE, Trainee
from devstack.waits import until
from training_contracts import ATTR_SESSION_ID, Evaluation, RoomNotice, SessionView, TurnView


async def model_conversation(stack: Stack, connection_id: str) -> list[Heard]:
    state = await asyncio.to_thread(stack.stub_state)
    [connection] = [c for c in state["connections"] if c["id"] == connection_id]
    return heard_and_said(connection)


def assert_stored_as_heard(
    turns: Sequence[TurnView], heard: Sequence[Heard], *, complete_by: float | None = None
) -> None:
    """The stored turns are what the model heard and said, in order, each once (with
    `complete_by`: at least every turn complete by then; devstack.heard.unlike_heard)."""
    stored = [StoredTurn(str(t.role), t.content, t.turn_order) for t in turns]
    problem = unlike_heard(stored, heard, complete_by=complete_by)
    assert problem is None, problem


def stored_rows(stack: Stack, session_id: str, attempt: int) -> int:
    """Rows of the attempt in the application's transcript_turns: the API shows each stored turn
    once, so does the table its readers read."""
    with psycopg.connect(stack.database_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM public.transcript_turns"
            " WHERE session_id = %s AND attempt_number = %s",
            (session_id, attempt),
        ).fetchone()
    assert row is not None
    return int(row[0])


def _notice(metadata: str) -> RoomNotice | None:
    return msgspec.json.decode(metadata, type=RoomNotice) if metadata else None


def room_notice(trainee: Trainee) -> RoomNotice | None:
    """What the token service tells the page about its caller now (training_contracts.rooms)."""
    return _notice(trainee.room.metadata)


def watch_notices(trainee: Trainee) -> list[RoomNotice | None]:
    """Every notice the page is told from now on, in order (None: the notice was cleared)."""
    seen: list[RoomNotice | None] = []

    def changed(_old: str, new: str) -> None:
        seen.append(_notice(new))

    trainee.room.on("room_metadata_changed", changed)
    return seen


async def new_caller(trainee: Trainee, previous_identity: str, timeout: float) -> str:
    """A caller other than `previous_identity` joined, published `session.id` and listens:
    returns the session id. (The trainee's own view merges every caller's attributes.)"""

    async def arrived() -> str | None:
        for participant in trainee.room.remote_participants.values():
            attributes = participant.attributes
            if (
                participant.identity != previous_identity
                and attributes.get(ATTR_SESSION_ID)
                and attributes.get(ATTR_AGENT_STATE) == "listening"
            ):
                return attributes[ATTR_SESSION_ID]
        return None

    return await until("new caller listening with session.id", arrived, timeout)


def callers_in_room(trainee: Trainee) -> int:
    """Agent participants in the trainee's room: more than one would be two callers at once."""
    return sum(
        1
        for participant in trainee.room.remote_participants.values()
        if participant.kind == rtc.ParticipantKind.PARTICIPANT_KIND_AGENT
    )


def worker_holding(stack: Stack, room: str) -> str:
    """The name of the worker whose job runs the call in `room` (its log names the room)."""
    holders = [name for name, w in stack.workers.items() if room in w.process.log_text()]
    assert len(holders) == 1, f"workers naming {room}: {holders}"
    return holders[0]


@dataclass(frozen=True)
class Call:
    """A call under test: the trainee, its session attempt and the model's connection."""

    test: str
    trainee: Trainee
    user_id: str
    session_id: str
    attempt: int
    connection_id: str


async def begin_call(
    stack: Stack,
    frontend: FrontendApi,
    user: dict[str, Any],
    test: str,
    *,
    assignment: bool = False,
    name: str = "trainee",
) -> Call:
    """Join as the frontend does, wait for `session.id` and the caller listening."""
    since = time.time()
    trainee, session_id = await start_call(
        stack.token_service_url,
        user["userId"],
        test,
        assignment_id=user["assignmentId"] if assignment else None,
        name=name,
    )
    try:
        connection = (await stub_connections_since(stack, since))[0]
        attempt = (await frontend.get_session(user["userId"], session_id)).attempt
    except BaseException:
        await trainee.leave()
        raise
    return Call(test, trainee, user["userId"], session_id, attempt, connection["id"])


async def assert_call_stored(
    stack: Stack,
    frontend: FrontendApi,
    call: Call,
    *,
    since: float,
    said: int,
    what: str,
    timeout: float = TRANSCRIPT_TIMEOUT_S,
    complete_by: float | None = None,
) -> SessionView:
    """Wait until the call's attempt is closed (`what`: since when, recorded as a latency), then
    `assert_attempt_stored`."""
    session, after = await frontend.wait_for_transcript(
        call.user_id, call.session_id, attempt=call.attempt, since=since, timeout=timeout
    )
    record_latency(call.test, what, after)
    await assert_attempt_stored(stack, call, session, said=said, complete_by=complete_by)
    return session


async def assert_attempt_stored(
    stack: Stack, call: Call, session: SessionView, *, said: int, complete_by: float | None = None
) -> None:
    """The model heard and said `said` turns in the call; they are stored once in its attempt
    (with `complete_by`, at least those complete by then: `assert_stored_as_heard`)."""
    heard = await model_conversation(stack, call.connection_id)
    assert len(heard) == said, heard
    turns = turns_of(session, call.attempt)
    assert_stored_as_heard(turns, heard, complete_by=complete_by)
    assert stored_rows(stack, call.session_id, call.attempt) == len(turns)


async def evaluated(frontend: FrontendApi, call: Call, *, since: float, what: str) -> Evaluation:
    """The frontend's evaluation loop for the call's session; records `what` since `since`."""
    evaluation, _, answered = await frontend.evaluation_with_retry(call.user_id, call.session_id)
    record_latency(call.test, what, answered - since)
    assert evaluation.attempt == call.attempt
    return evaluation


async def assert_whole_once_fault_cleared(
    stack: Stack, frontend: FrontendApi, call: Call, *, since: float, event: str, timeout: float
) -> None:
    """After a fault cleared at `since` (`event`: what cleared it): the call's four turns are
    stored once, as heard, within `timeout`, and its evaluation answers, not cut short."""
    await assert_call_stored(
        stack,
        frontend,
        call,
        since=since,
        said=4,
        what=f"{event}->transcript stored",
        timeout=timeout,
    )
    evaluation = await evaluated(frontend, call, since=since, what=f"{event}->evaluation 200")
    assert not evaluation.cut_short


async def hang_up_while_down(
    stack: Stack, call: Call, *, stop: Callable[[], object], start: Callable[[], object]
) -> float:
    """Two exchanges, then `stop` a part of the stack and hang up: the final transcript meets
    the part down and waits in the worker's spool; then `start` it again. Returns when
    (monotonic) the part was back."""
    try:
        await exchange(call.trainee, TRAINEE_LINES[:2])
        [worker] = stack.workers.values()
        mark = len(worker.process.log_text())
        stop()
        try:
            await call.trainee.leave()
            await worker.process.await_line(
                "final transcript not delivered, spooled", 20.0, start=mark
            )
        finally:
            start()
    finally:
        await call.trainee.leave()
    return time.monotonic()
