"""Bad dispatch metadata: a job whose metadata is not the contract's JSON gets `error` =
invalid_metadata on the agent's participant, and the agent leaves instead of hanging."""

from typing import Any

from devstack.harness import agent_refuses
from devstack.stack import Stack
from devstack.tokens import mint_token
from training_contracts import AGENT_NAME, AgentErrorCode

TEST = "bad dispatch metadata"


async def test_metadata_that_is_not_json(stack: Stack, demo: dict[str, Any]) -> None:
    _, token = mint_token(
        (stack.livekit.api_key, stack.livekit.api_secret),
        identity=demo["users"][0]["userId"],
        agent_name=AGENT_NAME,
        metadata="not json",
    )
    await agent_refuses(stack.livekit.url, token, AgentErrorCode.INVALID_METADATA, TEST)
