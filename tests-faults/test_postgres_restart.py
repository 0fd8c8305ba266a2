"""Postgres restarted during a call, and down over the hang-up: every turn the model heard and
said is stored once, and the first request after Postgres is back succeeds."""

import time

import pytest
from faults_support import (
    assert_call_stored,
    assert_whole_once_fault_cleared,
    begin_call,
    hang_up_while_down,
)

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
    # The final transcript meets 503s, then waits in the worker's spool.
    back = await hang_up_while_down(
        healthy, call, stop=healthy.postgres.stop, start=healthy.postgres.start
    )
    await assert_whole_once_fault_cleared(
        healthy, frontend, call, since=back, event="postgres back", timeout=REDELIVERED_WITHIN_S
    )
