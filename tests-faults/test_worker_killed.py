"""The worker holding a call is killed outright (SIGKILL to its process group). The token service
learns the caller is gone from livekit-server's webhook, closes the attempt with the turns that
had settled (all but the newest), marked cut short, and dispatches a new caller: with no other
worker the page is told a caller is on its way; with a standby worker a new caller joins the
trainee, who is still in the room, as the assignment's next attempt."""

import asyncio
import time

import psycopg
import pytest
from e2e_support import (
    JOIN_TIMEOUT_S,
    TRAINEE_LINES,
    FrontendApi,
    exchange,
    record_latency,
    start_call,
    turns_of,
)
from faults_support import (
    assert_stored_as_heard,
    connections_since,
    model_conversation,
    new_caller,
    stored_rows,
    until,
    watch_notices,
    worker_holding,
)

from devstack.stack import Stack
from devstack.trainee import Trainee
from training_contracts import CallerStatus, RoomNotice, SessionView

pytestmark = pytest.mark.timeout(120)

CALLER_GONE_WITHIN_S = 30.0
"""SIGKILL -> the trainee sees the caller leave: livekit-server's ICE timeouts decide it."""
CLOSED_WITHIN_S = 3.0
"""The caller seen gone -> the attempt closed cut short: one webhook."""
UNSETTLED_TAIL = 1
"""Turns a killed worker cannot deliver: the newest one (agent-service README, "Delivery")."""


async def _closed_cut_short(
    frontend: FrontendApi, user_id: str, session_id: str, attempt: int
) -> SessionView:
    async def closed() -> SessionView | None:
        session = await frontend.get_session(user_id, session_id)
        done = session.attempt == attempt and session.status == "completed" and session.cut_short
        return session if done else None

    return await until("attempt closed cut short", closed, CLOSED_WITHIN_S + CALLER_GONE_WITHIN_S)


async def _kill_mid_call(stack: Stack, trainee: Trainee, test: str) -> tuple[float, float]:
    """SIGKILL the worker holding the trainee's call; (killed, caller seen gone) monotonic times."""
    assert trainee.token is not None
    stack.kill_agent(worker_holding(stack, trainee.token.room_name))
    killed = time.monotonic()
    await trainee.wait_for_agent_gone(CALLER_GONE_WITHIN_S)
    gone = time.monotonic()
    record_latency(test, "kill->trainee sees the caller leave", gone - killed)
    return killed, gone


def _cut_short_reason(stack: Stack, session_id: str, attempt: int) -> str | None:
    with psycopg.connect(stack.database_url) as conn:
        row = conn.execute(
            "SELECT reason FROM attempt_cut_short WHERE session_id = %s AND attempt = %s",
            (session_id, attempt),
        ).fetchone()
    return None if row is None else str(row[0])


async def test_worker_killed_without_a_standby(healthy: Stack, frontend: FrontendApi) -> None:
    test = "worker killed, no standby"
    user = healthy.demo["users"][1]
    since = time.time()
    trainee, session_id = await start_call(healthy.token_service_url, user["userId"], test)
    try:
        [connection] = await connections_since(healthy, since, 1)
        attempt = (await frontend.get_session(user["userId"], session_id)).attempt
        notices = watch_notices(trainee)
        await exchange(trainee, TRAINEE_LINES[:2])
        killed, gone = await _kill_mid_call(healthy, trainee, test)
        session = await _closed_cut_short(frontend, user["userId"], session_id, attempt)
        record_latency(test, "caller gone->attempt closed", time.monotonic() - gone)
        evaluation, pending, answered = await frontend.evaluation_with_retry(
            user["userId"], session_id
        )
        record_latency(test, "kill->evaluation 200", answered - killed)
        assert pending == 0
        assert evaluation.cut_short

        async def redialing() -> bool | None:
            return RoomNotice(caller=CallerStatus.REDIALING) in notices or None

        await until("redialing notice", redialing, 5.0)
        record_latency(test, "caller gone->redialing notice", time.monotonic() - gone)
    finally:
        await trainee.leave()
    heard = await model_conversation(healthy, connection["id"])
    assert len(heard) == 4
    assert_stored_as_heard(turns_of(session, attempt), heard, lost_tail=UNSETTLED_TAIL)
    assert stored_rows(healthy, session_id, attempt) == len(heard) - UNSETTLED_TAIL
    assert _cut_short_reason(healthy, session_id, attempt) == "agent_left"


async def test_worker_killed_with_a_standby(healthy: Stack, frontend: FrontendApi) -> None:
    test = "worker killed, standby takes over"
    user = healthy.demo["users"][0]
    standby = asyncio.create_task(asyncio.to_thread(healthy.start_agent, "standby"))
    since = time.time()
    trainee, session_id = await start_call(
        healthy.token_service_url, user["userId"], test, assignment_id=user["assignmentId"]
    )
    try:
        [connection] = await connections_since(healthy, since, 1)
        attempt = (await frontend.get_session(user["userId"], session_id)).attempt
        await exchange(trainee, TRAINEE_LINES[:2])
        await standby
        old_caller = trainee.agent_identity
        assert old_caller is not None
        _, gone = await _kill_mid_call(healthy, trainee, test)
        after_kill = time.time()
        new_session = await new_caller(trainee, old_caller, JOIN_TIMEOUT_S)
        record_latency(test, "caller gone->new caller's session.id", time.monotonic() - gone)
        assert new_session == session_id  # the assignment's session, its next attempt
        [new_connection] = await connections_since(healthy, after_kill, 1)
        await exchange(trainee, TRAINEE_LINES[:1])
    finally:
        hung_up = await trainee.leave()
    session, _ = await frontend.wait_for_transcript(
        user["userId"], session_id, attempt=attempt + 1, since=hung_up
    )
    assert not session.cut_short
    heard_new = await model_conversation(healthy, new_connection["id"])
    assert len(heard_new) == 2
    assert_stored_as_heard(turns_of(session, attempt + 1), heard_new)
    heard_old = await model_conversation(healthy, connection["id"])
    assert_stored_as_heard(turns_of(session, attempt), heard_old, lost_tail=UNSETTLED_TAIL)
    assert stored_rows(healthy, session_id, attempt) == len(heard_old) - UNSETTLED_TAIL
    assert _cut_short_reason(healthy, session_id, attempt) == "agent_left"
