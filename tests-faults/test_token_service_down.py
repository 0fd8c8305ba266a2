"""The token service down over the hang-up: the final transcript waits in the worker's spool and is
stored within seconds of the service answering again, once."""

import time

import pytest
from e2e_support import TRAINEE_LINES, FrontendApi, exchange, record_latency, start_call, turns_of
from faults_support import (
    assert_stored_as_heard,
    connections_since,
    model_conversation,
    stored_rows,
)

from devstack.stack import Stack

pytestmark = pytest.mark.timeout(120)

REDELIVERED_WITHIN_S = 8.0
"""Service ready -> spooled transcript stored: the spool's readiness probe runs at most 4 s apart."""


async def test_token_service_down_over_the_hang_up(healthy: Stack, frontend: FrontendApi) -> None:
    test = "token service down over the hang-up"
    user = healthy.demo["users"][0]
    since = time.time()
    trainee, session_id = await start_call(healthy.token_service_url, user["userId"], test)
    try:
        [connection] = await connections_since(healthy, since, 1)
        attempt = (await frontend.get_session(user["userId"], session_id)).attempt
        await exchange(trainee, TRAINEE_LINES[:2])
        [worker] = healthy.workers.values()
        mark = len(worker.process.log_text())
        healthy.stop_token_service()
        await trainee.leave()
        await worker.process.await_line("final transcript not delivered, spooled", 20.0, start=mark)
    finally:
        await trainee.leave()
        if healthy.token_service is None:
            healthy.start_token_service()  # returns once /readyz answers 200
    ready = time.monotonic()
    session, stored_after = await frontend.wait_for_transcript(
        user["userId"], session_id, attempt=attempt, since=ready, timeout=REDELIVERED_WITHIN_S
    )
    record_latency(test, "service ready->transcript stored", stored_after)
    heard = await model_conversation(healthy, connection["id"])
    assert len(heard) == 4
    assert_stored_as_heard(turns_of(session, attempt), heard)
    assert stored_rows(healthy, session_id, attempt) == len(heard)
    evaluation, _, answered = await frontend.evaluation_with_retry(user["userId"], session_id)
    record_latency(test, "service ready->evaluation 200", answered - ready)
    assert evaluation.attempt == attempt
    assert not evaluation.cut_short
