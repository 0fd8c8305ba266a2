"""Postgres restarted during a call, and down over the hang-up: every turn the model heard and
said is stored once, and the first request after Postgres is back succeeds."""

import time

import pytest
from faults_support import assert_call_stored, begin_call, evaluated

from devstack.harness import TRAINEE_LINES, FrontendApi, exchange, record_latency
from devstack.stack import Stack

pytestmark = pytest.mark.timeout(120)

REDELIVERED_WITHIN_S = 8.0
"""Postgres back -> the spooled final transcript stored: the spool's readiness probe runs at most
4 s apart, then one pass."""


async def test_postgres_restarted_mid_call(healthy: Stack, frontend: FrontendApi) -> None:
    call = await begin_call(
        healthy, frontend, healthy.demo["users"][0], "postgres restart mid-call"
    )
    try:
        await exchange(call.trainee, TRAINEE_LINES[:1])
        healthy.postgres.restart()
        back = time.monotonic()
        # The first request after the restart meets only dead pooled connections: answered.
        await frontend.get_session(call.user_id, call.session_id)
        record_latency(call.test, "postgres back->first request answered", time.monotonic() - back)
        await exchange(call.trainee, TRAINEE_LINES[1:])
    finally:
        hung_up = await call.trainee.leave()
    session = await assert_call_stored(
        healthy,
        frontend,
        call,
        since=hung_up,
        said=2 * len(TRAINEE_LINES),
        what="hang-up->transcript stored",
    )
    assert not session.cut_short
    evaluation, pending, _ = await frontend.evaluation_with_retry(call.user_id, call.session_id)
    assert pending == 0
    assert not evaluation.cut_short


async def test_postgres_down_over_the_hang_up(healthy: Stack, frontend: FrontendApi) -> None:
    test = "postgres down over the hang-up"
    call = await begin_call(healthy, frontend, healthy.demo["users"][1], test)
    try:
        await exchange(call.trainee, TRAINEE_LINES[:2])
        [worker] = healthy.workers.values()
        mark = len(worker.process.log_text())
        healthy.postgres.stop()
        try:
            await call.trainee.leave()
            # The final transcript meets 503s, then waits in the worker's spool.
            await worker.process.await_line(
                "final transcript not delivered, spooled", 20.0, start=mark
            )
        finally:
            healthy.postgres.start()
        back = time.monotonic()
    finally:
        await call.trainee.leave()
    await assert_call_stored(
        healthy,
        frontend,
        call,
        since=back,
        said=4,
        what="postgres back->transcript stored",
        timeout=REDELIVERED_WITHIN_S,
    )
    evaluation = await evaluated(frontend, call, since=back, what="postgres back->evaluation 200")
    assert not evaluation.cut_short
