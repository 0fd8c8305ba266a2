"""Postgres restarted during a call, and down over the hang-up: every turn the model heard and
said is stored once, and the first request after Postgres is back succeeds."""

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
"""Postgres back -> the spooled final transcript stored: the spool's readiness probe runs at most
4 s apart, then one pass."""


async def test_postgres_restarted_mid_call(healthy: Stack, frontend: FrontendApi) -> None:
    test = "postgres restart mid-call"
    user = healthy.demo["users"][0]
    since = time.time()
    trainee, session_id = await start_call(healthy.token_service_url, user["userId"], test)
    try:
        [connection] = await connections_since(healthy, since, 1)
        await exchange(trainee, TRAINEE_LINES[:1])
        healthy.postgres.restart()
        back = time.monotonic()
        # The first request after the restart meets only dead pooled connections: answered.
        session = await frontend.get_session(user["userId"], session_id)
        record_latency(test, "postgres back->first request answered", time.monotonic() - back)
        await exchange(trainee, TRAINEE_LINES[1:])
    finally:
        hung_up = await trainee.leave()
    session, stored_after = await frontend.wait_for_transcript(
        user["userId"], session_id, attempt=session.attempt, since=hung_up
    )
    record_latency(test, "hang-up->transcript stored", stored_after)
    heard = await model_conversation(healthy, connection["id"])
    assert len(heard) == 2 * len(TRAINEE_LINES)
    turns = turns_of(session, session.attempt)
    assert_stored_as_heard(turns, heard)
    assert stored_rows(healthy, session_id, session.attempt) == len(heard)
    assert not session.cut_short
    evaluation, pending, _ = await frontend.evaluation_with_retry(user["userId"], session_id)
    assert pending == 0
    assert not evaluation.cut_short


async def test_postgres_down_over_the_hang_up(healthy: Stack, frontend: FrontendApi) -> None:
    test = "postgres down over the hang-up"
    user = healthy.demo["users"][1]
    since = time.time()
    trainee, session_id = await start_call(healthy.token_service_url, user["userId"], test)
    try:
        [connection] = await connections_since(healthy, since, 1)
        attempt = (await frontend.get_session(user["userId"], session_id)).attempt
        await exchange(trainee, TRAINEE_LINES[:2])
        [worker] = healthy.workers.values()
        mark = len(worker.process.log_text())
        healthy.postgres.stop()
        try:
            await trainee.leave()
            # The final transcript meets 503s, then waits in the worker's spool.
            await worker.process.await_line(
                "final transcript not delivered, spooled", 20.0, start=mark
            )
        finally:
            healthy.postgres.start()
        back = time.monotonic()
    finally:
        await trainee.leave()
    session, stored_after = await frontend.wait_for_transcript(
        user["userId"], session_id, attempt=attempt, since=back, timeout=REDELIVERED_WITHIN_S
    )
    record_latency(test, "postgres back->transcript stored", stored_after)
    heard = await model_conversation(healthy, connection["id"])
    assert len(heard) == 4
    assert_stored_as_heard(turns_of(session, attempt), heard)
    assert stored_rows(healthy, session_id, attempt) == len(heard)
    evaluation, _, answered = await frontend.evaluation_with_retry(user["userId"], session_id)
    record_latency(test, "postgres back->evaluation 200", answered - back)
    assert evaluation.attempt == attempt
    assert not evaluation.cut_short
