"""Bad dispatch metadata: a job whose metadata is not the contract's JSON gets `error` =
invalid_metadata on the agent's participant, and the agent leaves instead of hanging."""

import time
from typing import Any

from devstack.harness import JOIN_TIMEOUT_S, record_latency
from devstack.stack import Stack
from devstack.tokens import mint_token
from devstack.trainee import Trainee
from training_contracts import AGENT_NAME, ATTR_ERROR, ATTR_SESSION_ID, AgentErrorCode

TEST = "bad dispatch metadata"


async def test_metadata_that_is_not_json(stack: Stack, demo: dict[str, Any]) -> None:
    _, token = mint_token(
        (stack.livekit.api_key, stack.livekit.api_secret),
        identity=demo["users"][0]["userId"],
        agent_name=AGENT_NAME,
        metadata="not json",
    )
    trainee = Trainee()
    try:
        await trainee.connect(stack.livekit.url, token)
        assert trainee.joined_at is not None
        key, value = await trainee.wait_for_any_attribute(
            [ATTR_SESSION_ID, ATTR_ERROR], JOIN_TIMEOUT_S
        )
        assert (key, value) == (ATTR_ERROR, AgentErrorCode.INVALID_METADATA)
        record_latency(
            TEST, "join->error", trainee.attribute_seen_at[ATTR_ERROR] - trainee.joined_at
        )
        t0 = time.monotonic()
        await trainee.wait_for_agent_gone(15.0)
        record_latency(TEST, "error->agent left", time.monotonic() - t0)
    finally:
        await trainee.leave()
