"""Agent failure: when the token service's internal API is unreachable from the agent, the
trainee is told (`error` = session_create_failed) within the retry budget (3 retries, 2 s apart),
and the call ends instead of hanging.

How the failing agent is reached: a second worker runs the same code with TOKEN_SERVICE_URL
pointing at a closed port, registered under its own agent name (LIVEKIT_AGENT_NAME_OVERRIDE, the
SDK's switch for exactly this). The test mints a token that dispatches that name with valid
contract metadata. Explicit dispatch matches names exactly, so the healthy main worker never
competes for the job, and it keeps serving the other tests untouched (no stop/restart).
"""

import uuid
from typing import Any

from devstack.harness import agent_refuses
from devstack.ports import free_port
from devstack.stack import Stack
from devstack.tokens import mint_token
from training_contracts import (
    AGENT_NAME,
    AgentDispatchMetadata,
    AgentErrorCode,
    encode_dispatch,
)

TEST = "agent failure"
ERROR_BUDGET_S = 10.0
"""Session creation's retries (retry_policy.SESSION_CREATE_POLICY: 3 retries 2 s apart) against a
refused connection are ~6 s of trying."""


async def test_unreachable_api_is_reported_to_the_trainee(
    stack: Stack, demo: dict[str, Any]
) -> None:
    user_id = demo["users"][0]["userId"]
    agent_name = f"{AGENT_NAME}-e2e-unreachable-api"
    closed_port = free_port()  # bound and released: nothing listens there
    with stack.extra_agent(
        "agent-unreachable-api",
        env={
            "TOKEN_SERVICE_URL": f"http://127.0.0.1:{closed_port}",
            "LIVEKIT_AGENT_NAME_OVERRIDE": agent_name,
            "NUM_IDLE_PROCESSES": "1",
        },
    ):
        metadata = encode_dispatch(AgentDispatchMetadata(user_id=uuid.UUID(user_id)))
        _, token = mint_token(
            (stack.livekit.api_key, stack.livekit.api_secret),
            identity=user_id,
            agent_name=agent_name,
            metadata=metadata,
        )
        error_after = await agent_refuses(
            stack.livekit.url,
            token,
            AgentErrorCode.SESSION_CREATE_FAILED,
            TEST,
            timeout=2 * ERROR_BUDGET_S,
        )
    assert error_after < ERROR_BUDGET_S
