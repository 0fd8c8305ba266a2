"""Identity at the door: the token endpoint refuses a user it does not know (401, no token, so no
room and no job), and a dispatch that names an unknown user or assignment anyway (a token minted
elsewhere, or a user deleted since) gets the agent's own `user_or_assignment_not_found` at once,
not `session_create_failed` after the retries meant for an outage."""

import uuid
from typing import Any

import httpx
import pytest

from devstack.harness import agent_refuses
from devstack.stack import Stack
from devstack.tokens import mint_token
from training_contracts import (
    AGENT_NAME,
    TOKEN_PATH,
    USER_ID_HEADER,
    AgentDispatchMetadata,
    AgentErrorCode,
    encode_dispatch,
)

TEST = "unknown identity"


async def test_the_token_endpoint_refuses_an_unknown_user(
    stack: Stack, demo: dict[str, Any]
) -> None:
    nobody = str(uuid.uuid4())
    async with httpx.AsyncClient(base_url=stack.token_service_url, trust_env=False) as http:
        for body in ({}, {"assignmentId": demo["users"][0]["assignmentId"]}):
            response = await http.post(TOKEN_PATH, json=body, headers={USER_ID_HEADER: nobody})
            assert response.status_code == 401, response.text
            assert response.json()["error"]["code"] == "unauthorized"
            assert "token" not in response.text


@pytest.mark.parametrize("unknown", ["user", "assignment"])
async def test_a_dispatch_for_an_unknown_user_or_assignment(
    stack: Stack, demo: dict[str, Any], unknown: str
) -> None:
    known = demo["users"][0]
    metadata = (
        AgentDispatchMetadata(user_id=uuid.uuid4())
        if unknown == "user"
        else AgentDispatchMetadata(user_id=uuid.UUID(known["userId"]), assignment_id=uuid.uuid4())
    )
    _, token = mint_token(
        (stack.livekit.api_key, stack.livekit.api_secret),
        identity=str(metadata.user_id),
        agent_name=AGENT_NAME,
        metadata=encode_dispatch(metadata),
    )
    code = AgentErrorCode.USER_OR_ASSIGNMENT_NOT_FOUND
    await agent_refuses(stack.livekit.url, token, code, TEST, label=f"{unknown}: ")
