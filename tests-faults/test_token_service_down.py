"""The token service down over the hang-up: the final transcript waits in the worker's spool and is
stored within seconds of the service answering again, once."""

import time

import pytest
from faults_support import assert_call_stored, begin_call, evaluated

from devstack.harness import TRAINEE_LINES, FrontendApi, exchange
from devstack.stack import Stack

pytestmark = pytest.mark.timeout(120)

REDELIVERED_WITHIN_S = 8.0
"""Service ready -> spooled transcript stored: the spool's readiness probe runs at most 4 s apart."""


async def test_token_service_down_over_the_hang_up(healthy: Stack, frontend: FrontendApi) -> None:
    test = "token service down over the hang-up"
    call = await begin_call(healthy, frontend, healthy.demo["users"][0], test)
    try:
        await exchange(call.trainee, TRAINEE_LINES[:2])
        [worker] = healthy.workers.values()
        mark = len(worker.process.log_text())
        healthy.stop_token_service()
        await call.trainee.leave()
        await worker.process.await_line("final transcript not delivered, spooled", 20.0, start=mark)
    finally:
        await call.trainee.leave()
        if healthy.token_service is None:
            healthy.start_token_service()  # returns once /readyz answers 200
    ready = time.monotonic()
    await assert_call_stored(
        healthy,
        frontend,
        call,
        since=ready,
        said=4,
        what="service ready->transcript stored",
        timeout=REDELIVERED_WITHIN_S,
    )
    evaluation = await evaluated(frontend, call, since=ready, what="service ready->evaluation 200")
    assert not evaluation.cut_short
