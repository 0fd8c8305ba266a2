"""The worker holding a call is killed outright (SIGKILL to its process group). The token service
learns the caller is gone from livekit-server's webhook, closes the attempt with the turns that
had settled (all but the newest), marked cut short, and dispatches a new caller: with no other
worker the page is told a caller is on its way; with a standby worker a new caller joins the
trainee, who is still in the room, as the assignment's next attempt."""

import asyncio
import dataclasses
import time

import psycopg
import pytest
from e2e_support import JOIN_TIMEOUT_S, TRAINEE_LINES, FrontendApi, exchange, record_latency
from faults_support import (
    Call,
    assert_attempt_stored,
    assert_call_stored,
    begin_call,
    callers_in_room,
    connections_since,
    evaluated,
    new_caller,
    until,
    watch_notices,
    worker_holding,
)

from devstack.stack import Stack
from training_contracts import CallerStatus, RoomNotice

pytestmark = pytest.mark.timeout(120)

CALLER_GONE_WITHIN_S = 30.0
"""SIGKILL -> the trainee sees the caller leave: livekit-server's ICE timeouts decide it."""
CLOSED_WITHIN_S = 3.0
"""The caller seen gone -> the attempt closed cut short: one webhook."""
UNSETTLED_TAIL = 1
"""Turns a killed worker cannot deliver: the newest one (agent-service README, "Delivery")."""


async def _kill_mid_call(stack: Stack, call: Call) -> tuple[float, float]:
    """SIGKILL the worker holding the call; (killed, caller seen gone) monotonic times."""
    assert call.trainee.token is not None
    stack.kill_agent(worker_holding(stack, call.trainee.token.room_name))
    killed = time.monotonic()
    await call.trainee.wait_for_agent_gone(CALLER_GONE_WITHIN_S)
    gone = time.monotonic()
    record_latency(call.test, "kill->trainee sees the caller leave", gone - killed)
    return killed, gone


def _cut_short_reason(stack: Stack, call: Call) -> str | None:
    with psycopg.connect(stack.database_url) as conn:
        row = conn.execute(
            "SELECT cut_short FROM voice.attempts WHERE session_id = %s AND attempt = %s",
            (call.session_id, call.attempt),
        ).fetchone()
    return None if row is None else str(row[0])


async def test_worker_killed_without_a_standby(healthy: Stack, frontend: FrontendApi) -> None:
    call = await begin_call(
        healthy, frontend, healthy.demo["users"][1], "worker killed, no standby"
    )
    try:
        notices = watch_notices(call.trainee)
        await exchange(call.trainee, TRAINEE_LINES[:2])
        killed, gone = await _kill_mid_call(healthy, call)
        session = await assert_call_stored(
            healthy,
            frontend,
            call,
            since=gone,
            said=4,
            what="caller gone->attempt closed",
            timeout=CLOSED_WITHIN_S,
            lost_tail=UNSETTLED_TAIL,
        )
        assert session.cut_short
        evaluation = await evaluated(frontend, call, since=killed, what="kill->evaluation 200")
        assert evaluation.cut_short

        async def redialing() -> bool | None:
            return RoomNotice(caller=CallerStatus.REDIALING) in notices or None

        await until("redialing notice", redialing, 5.0)
        record_latency(call.test, "caller gone->redialing notice", time.monotonic() - gone)
    finally:
        await call.trainee.leave()
    assert _cut_short_reason(healthy, call) == "agent_left"


async def test_worker_killed_with_a_standby(healthy: Stack, frontend: FrontendApi) -> None:
    test = "worker killed, standby takes over"
    standby = asyncio.create_task(asyncio.to_thread(healthy.start_agent, "standby"))
    call = await begin_call(healthy, frontend, healthy.demo["users"][0], test, assignment=True)
    try:
        await exchange(call.trainee, TRAINEE_LINES[:2])
        assert callers_in_room(call.trainee) == 1
        await standby
        old_caller = call.trainee.agent_identity
        assert old_caller is not None
        _, gone = await _kill_mid_call(healthy, call)
        after_kill = time.time()
        new_session = await new_caller(call.trainee, old_caller, JOIN_TIMEOUT_S)
        record_latency(test, "caller gone->new caller's session.id", time.monotonic() - gone)
        assert new_session == call.session_id  # the assignment's session, its next attempt
        assert callers_in_room(call.trainee) == 1
        [new_connection] = await connections_since(healthy, after_kill, 1)
        await exchange(call.trainee, TRAINEE_LINES[:1])
    finally:
        hung_up = await call.trainee.leave()
    next_call = dataclasses.replace(
        call, attempt=call.attempt + 1, connection_id=new_connection["id"]
    )
    session = await assert_call_stored(
        healthy, frontend, next_call, since=hung_up, said=2, what="hang-up->next attempt stored"
    )
    assert not session.cut_short
    await assert_attempt_stored(healthy, call, session, said=4, lost_tail=UNSETTLED_TAIL)
    assert _cut_short_reason(healthy, call) == "agent_left"
