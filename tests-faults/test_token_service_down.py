"""The token service down over the hang-up: the final transcript waits in the worker's spool and is
stored within seconds of the service answering again, once."""

import pytest
from faults_support import assert_whole_once_fault_cleared, begin_call, hang_up_while_down

from devstack.harness import FrontendApi
from devstack.stack import Stack

pytestmark = pytest.mark.timeout(120)

REDELIVERED_WITHIN_S = 8.0
"""Service ready -> spooled transcript stored: the spool's readiness probe runs at most 4 s apart."""


async def test_token_service_down_over_the_hang_up(healthy: Stack, frontend: FrontendApi) -> None:
    test = "token service down over the hang-up"
    call = await begin_call(healthy, frontend, healthy.demo["users"][0], test)
    # start_token_service returns once /readyz answers 200
    ready = await hang_up_while_down(
        healthy, call, stop=healthy.stop_token_service, start=healthy.start_token_service
    )
    await assert_whole_once_fault_cleared(
        healthy, frontend, call, since=ready, event="service ready", timeout=REDELIVERED_WITHIN_S
    )
