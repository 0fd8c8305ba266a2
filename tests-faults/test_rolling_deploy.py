"""A rolling deploy: the worker holding a call is SIGTERMed, a trainee joins while no worker is
registered, a new worker starts later. The running call goes on to its end and the old worker
exits; the trainee who joined in the gap gets a caller from the new worker through the token
service's re-dispatch, and the page was told a caller is on its way meanwhile."""

import asyncio
import time

import pytest
from faults_support import (
    Call,
    assert_call_stored,
    begin_call,
    callers_in_room,
    room_notice,
    watch_notices,
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
from devstack.trainee import Trainee
from training_contracts import CallerStatus, RoomNotice

pytestmark = pytest.mark.timeout(120)

GAP_CALLER_WITHIN_S = 60.0
"""Join in the gap -> `session.id`: the new worker's start-up (most of it on a loaded machine),
then at most one re-dispatch step (8 s)."""


async def test_a_trainee_joining_in_the_gap_gets_the_new_worker(
    healthy: Stack, frontend: FrontendApi
) -> None:
    test = "rolling deploy"
    first_user, gap_user = healthy.demo["users"][0], healthy.demo["users"][1]
    running = await begin_call(healthy, frontend, first_user, test, name="running")
    [old_name] = healthy.workers
    old = healthy.workers[old_name]
    gap: Trainee | None = None
    try:
        await exchange(running.trainee, TRAINEE_LINES[:1])
        old.drain()
        await old.process.await_line("draining worker", 10.0)
        gap = await Trainee.join(healthy.token_service_url, gap_user["userId"], name="gap")
        gap_joined, gap_since = time.monotonic(), time.time()
        notices = watch_notices(gap)
        # The deploy's new worker comes up while both calls wait.
        starting = asyncio.create_task(asyncio.to_thread(healthy.start_agent, "agent-new"))
        await exchange(running.trainee, TRAINEE_LINES[1:2])
        hung_up = await running.trainee.leave()
        exit_code = await asyncio.to_thread(old.process.popen.wait, 30)
        record_latency(test, "running call's hang-up->old worker exits", time.monotonic() - hung_up)
        assert exit_code == 0
        healthy.stop_agent(old_name)

        gap_session = await gap.wait_for_session_id(GAP_CALLER_WITHIN_S)
        record_latency(test, "gap join->session.id", time.monotonic() - gap_joined)
        registered = await starting
        record_latency(test, "new worker registered after", registered.registered_after_s)
        await gap.wait_until_listening(JOIN_TIMEOUT_S)
        gap_connection = (await stub_connections_since(healthy, gap_since))[0]
        await exchange(gap, TRAINEE_LINES[:1])
        assert callers_in_room(gap) == 1
        # The page was told a caller is on its way, and the notice went once the caller came.
        assert notices == [RoomNotice(caller=CallerStatus.REDIALING), None]
        assert room_notice(gap) is None
    finally:
        await running.trainee.leave()
        if gap is not None:
            await gap.leave()

    now = time.monotonic()
    session = await assert_call_stored(
        healthy, frontend, running, since=now, said=4, what="running call stored after"
    )
    assert not session.cut_short
    attempt = (await frontend.get_session(gap_user["userId"], gap_session)).attempt
    gap_call = Call(test, gap, gap_user["userId"], gap_session, attempt, gap_connection["id"])
    session = await assert_call_stored(
        healthy, frontend, gap_call, since=now, said=2, what="gap call stored after"
    )
    assert not session.cut_short
