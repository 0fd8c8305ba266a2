"""The worker holding a call is killed outright (SIGKILL to its process group). The token service
learns the caller is gone from livekit-server's webhook, closes the attempt with the turns the
worker had stored (every turn complete a second before the kill: nothing was under way), marked
cut short, and dispatches a new caller: with no other worker the page is told a caller is on its
way; with a standby worker a new caller joins the trainee, who is still in the room, as the
assignment's next attempt."""

import asyncio
import dataclasses
import time

import psycopg
import pytest
from faults_support import (
    Call,
    assert_attempt_stored,
    assert_call_stored,
    begin_call,
    callers_in_room,
    evaluated,
    model_conversation,
    new_caller,
    watch_notices,
    worker_holding,
)

from devstack.harness import (
    JOIN_TIMEOUT_S,
    TRAINEE_LINES,
    FrontendApi,
    exchange,
    record_latency,
    stub_connections_since,
)
from devstack.stack import Stack
from devstack.waits import until
from training_contracts import CallerStatus, RoomNotice

pytestmark = pytest.mark.timeout(120)

CALLER_GONE_WITHIN_S = 30.0
"""SIGKILL -> the trainee sees the caller leave: livekit-server's ICE timeouts decide it."""
CLOSED_WITHIN_S = 3.0
"""The caller seen gone -> the attempt closed cut short: one webhook."""
STORED_WITHIN_S = 1.0
"""A turn complete this long before a SIGKILL is stored: what the kill loses is the turn under
way and at most the last second (agent-service README, "Delivery and the spool")."""
KILL_MARGIN_S = 0.5
"""The kill comes this much later than STORED_WITHIN_S after the last turn was complete, so every
turn of the exchange must be stored."""


async def _kill_mid_call(stack: Stack, call: Call, *, said: int) -> tuple[float, float, float]:
    """Once the call's `said` turns have all been complete for STORED_WITHIN_S + KILL_MARGIN_S,
    SIGKILL the worker holding it. Returns (killed, caller seen gone) monotonic times and the
    wall-clock time by which a turn must have been complete to be stored."""
    assert call.trainee.token is not None

    async def all_complete() -> float | None:
        heard = await model_conversation(stack, call.connection_id)
        times = [h.completed_at for h in heard]
        if len(times) < said or None in times:
            return None
        return max(t for t in times if t is not None)

    last = await until(f"{said} complete turns", all_complete, 10.0)
    # A moment in time, not a condition to wait on: the promise under test is that a turn complete
    # STORED_WITHIN_S before a kill is stored, so the kill must come no sooner than that.
    await asyncio.sleep(max(0.0, last + STORED_WITHIN_S + KILL_MARGIN_S - time.time()))
    complete_by = time.time() - STORED_WITHIN_S
    stack.kill_agent(worker_holding(stack, call.trainee.token.room_name))
    killed = time.monotonic()
    await call.trainee.wait_for_agent_gone(CALLER_GONE_WITHIN_S)
    gone = time.monotonic()
    record_latency(call.test, "kill->trainee sees the caller leave", gone - killed)
    return killed, gone, complete_by


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
        killed, gone, complete_by = await _kill_mid_call(healthy, call, said=4)
        session = await assert_call_stored(
            healthy,
            frontend,
            call,
            since=gone,
            said=4,
            what="caller gone->attempt closed",
            timeout=CLOSED_WITHIN_S,
            complete_by=complete_by,
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
        _, gone, complete_by = await _kill_mid_call(healthy, call, said=4)
        after_kill = time.time()
        new_session = await new_caller(call.trainee, old_caller, JOIN_TIMEOUT_S)
        record_latency(test, "caller gone->new caller's session.id", time.monotonic() - gone)
        assert new_session == call.session_id  # the assignment's session, its next attempt
        assert callers_in_room(call.trainee) == 1
        new_connection = (await stub_connections_since(healthy, after_kill))[0]
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
    await assert_attempt_stored(healthy, call, session, said=4, complete_by=complete_by)
    assert _cut_short_reason(healthy, call) == "agent_left"
