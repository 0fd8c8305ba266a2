"""A rolling deploy: the worker holding a call is SIGTERMed, a trainee joins while no worker is
registered, a new worker starts later. The running call goes on to its end and the old worker
exits; the trainee who joined in the gap gets a caller from the new worker through the token
service's re-dispatch, and the page was told a caller is on its way meanwhile."""

import asyncio
import time

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
    room_notice,
    stored_rows,
    watch_notices,
)

from devstack.stack import Stack
from devstack.trainee import Trainee
from training_contracts import CallerStatus, RoomNotice

pytestmark = pytest.mark.timeout(120)

GAP_CALLER_WITHIN_S = 45.0
"""Join in the gap -> `session.id`: the join bound, then dispatches 4 s apart, doubling, while
the new worker starts (its start-up is most of it)."""


async def test_a_trainee_joining_in_the_gap_gets_the_new_worker(
    healthy: Stack, frontend: FrontendApi
) -> None:
    test = "rolling deploy"
    first_user, gap_user = healthy.demo["users"][0], healthy.demo["users"][1]
    since = time.time()
    running, running_session = await start_call(
        healthy.token_service_url, first_user["userId"], test, name="running"
    )
    [old_name] = healthy.workers
    old = healthy.workers[old_name]
    gap: Trainee | None = None
    try:
        [running_connection] = await connections_since(healthy, since, 1)
        await exchange(running, TRAINEE_LINES[:1])
        old.drain()
        await old.process.await_line("draining worker", 10.0)
        gap = await Trainee.join(healthy.token_service_url, gap_user["userId"], name="gap")
        gap_joined = time.monotonic()
        notices = watch_notices(gap)
        gap_since = time.time()
        # The deploy's new worker comes up while both calls wait.
        starting = asyncio.create_task(asyncio.to_thread(healthy.start_agent, "agent-new"))
        await exchange(running, TRAINEE_LINES[1:2])
        hung_up = await running.leave()
        exit_code = await asyncio.to_thread(old.process.popen.wait, 30)
        record_latency(test, "running call's hang-up->old worker exits", time.monotonic() - hung_up)
        assert exit_code == 0
        healthy.stop_agent(old_name)

        gap_session = await gap.wait_for_session_id(GAP_CALLER_WITHIN_S)
        record_latency(test, "gap join->session.id", time.monotonic() - gap_joined)
        registered = await starting
        record_latency(test, "new worker registered after", registered.registered_after_s)
        await gap.wait_until_listening(JOIN_TIMEOUT_S)
        [gap_connection] = await connections_since(healthy, gap_since, 1)
        await exchange(gap, TRAINEE_LINES[:1])
        # The page was told a caller is on its way, and the notice went once the caller came.
        assert notices == [RoomNotice(caller=CallerStatus.REDIALING), None]
        assert room_notice(gap) is None
    finally:
        await running.leave()
        if gap is not None:
            await gap.leave()

    for user, session_id, connection in (
        (first_user, running_session, running_connection),
        (gap_user, gap_session, gap_connection),
    ):
        attempt = (await frontend.get_session(user["userId"], session_id)).attempt
        session, _ = await frontend.wait_for_transcript(
            user["userId"], session_id, attempt=attempt, since=time.monotonic()
        )
        heard = await model_conversation(healthy, connection["id"])
        assert_stored_as_heard(turns_of(session, attempt), heard)
        assert stored_rows(healthy, session_id, attempt) == len(heard)
        assert not session.cut_short
    assert len(await model_conversation(healthy, running_connection["id"])) == 4
