"""What the fault tests share: what the model heard and said, compared with what was stored."""

# Deadlines are these waits' contract (the failure says what never came).
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import msgspec
import psycopg
from e2e_support import (
    TRANSCRIPT_TIMEOUT_S,
    FrontendApi,
    record_latency,
    roles_and_text,
    start_call,
    turns_of,
)
from livekit import rtc

from devstack.stack import Stack
from devstack.trainee import ATTR_AGENT_STATE, Trainee
from training_contracts import ATTR_SESSION_ID, Evaluation, RoomNotice, SessionView, TurnView

T = TypeVar("T")


def heard_and_said(connection: dict[str, Any]) -> list[tuple[str, str]]:
    """The conversation as the model holds it (the stub's items): (role, text), in order."""
    return [
        (item["role"], item["text"])
        for item in connection["items"]
        if item.get("type") == "message"
        and item.get("role") in ("user", "assistant")
        and item.get("text")
    ]


async def connections_since(
    stack: Stack, since_wall: float, count: int, timeout: float = 20.0
) -> list[dict[str, Any]]:
    """The first `count` Realtime connections the stub accepted since `since_wall`
    (time.time()), once each has its instructions, in the order they connected."""
    deadline = time.monotonic() + timeout
    while True:
        state = await asyncio.to_thread(stack.stub_state)
        fresh = [c for c in state["connections"] if c["connected_at"] >= since_wall]
        if len(fresh) >= count and all(c["instructions"] for c in fresh[:count]):
            return fresh[:count]
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(fresh)} of {count} Realtime connections since {since_wall}")
        await asyncio.sleep(0.1)


async def model_conversation(stack: Stack, connection_id: str) -> list[tuple[str, str]]:
    state = await asyncio.to_thread(stack.stub_state)
    [connection] = [c for c in state["connections"] if c["id"] == connection_id]
    return heard_and_said(connection)


def assert_stored_as_heard(
    turns: Sequence[TurnView], heard: Sequence[tuple[str, str]], *, lost_tail: int = 0
) -> None:
    """The stored turns are what the model heard and said, in order, each once, except for the
    last `lost_tail` turns (the unsettled tail of a call whose worker died)."""
    stored = roles_and_text(turns)
    assert len(set(stored)) == len(stored), f"a turn stored twice: {stored}"
    assert [t.turn_order for t in turns] == list(range(1, len(turns) + 1)), stored
    assert stored == list(heard[: len(heard) - lost_tail]), (stored, heard)


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


async def until(
    what: str, probe: Callable[[], Awaitable[T | None]], timeout: float, poll: float = 0.1
) -> T:
    """Poll `probe` until it returns something; AssertionError naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} within {timeout:.0f} s")
        await asyncio.sleep(poll)


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
        [connection] = await connections_since(stack, since, 1)
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
    lost_tail: int = 0,
) -> SessionView:
    """Wait until the call's attempt is closed (`what`: since when, recorded as a latency), then
    `assert_attempt_stored`."""
    session, after = await frontend.wait_for_transcript(
        call.user_id, call.session_id, attempt=call.attempt, since=since, timeout=timeout
    )
    record_latency(call.test, what, after)
    await assert_attempt_stored(stack, call, session, said=said, lost_tail=lost_tail)
    return session


async def assert_attempt_stored(
    stack: Stack, call: Call, session: SessionView, *, said: int, lost_tail: int = 0
) -> None:
    """The model heard and said `said` turns in the call; they are stored once in its attempt,
    except the `lost_tail`."""
    heard = await model_conversation(stack, call.connection_id)
    assert len(heard) == said, heard
    assert_stored_as_heard(turns_of(session, call.attempt), heard, lost_tail=lost_tail)
    assert stored_rows(stack, call.session_id, call.attempt) == said - lost_tail


async def evaluated(frontend: FrontendApi, call: Call, *, since: float, what: str) -> Evaluation:
    """The frontend's evaluation loop for the call's session; records `what` since `since`."""
    evaluation, _, answered = await frontend.evaluation_with_retry(call.user_id, call.session_id)
    record_latency(call.test, what, answered - since)
    assert evaluation.attempt == call.attempt
    return evaluation
