"""Free practice: a token without an assignment starts a free_practice session, and the model is
instructed with the built-in crisis caller (the default prompt), not any scenario's."""

import time
from typing import Any

from devstack.harness import (
    TRAINEE_LINES,
    FrontendApi,
    assert_conversation,
    exchange,
    record_latency,
    start_call,
    stub_connections_since,
    turns_of,
)
from devstack.stack import Stack
from training_contracts import SessionType

TEST = "free practice"


async def test_free_practice(stack: Stack, frontend: FrontendApi, demo: dict[str, Any]) -> None:
    from agent_service.caller import DEFAULT_CALLER_PROMPT

    user_id = demo["users"][0]["userId"]
    joined_wall = time.time()
    trainee, session_id = await start_call(stack.token_service_url, user_id, TEST)
    try:
        session = await frontend.get_session(user_id, session_id)
        assert session.type == SessionType.FREE_PRACTICE
        assert session.assignment_id is None
        assert session.scenario_id is None
        await exchange(trainee, TRAINEE_LINES[:1])
    finally:
        hung_up = await trainee.leave()

    [connection] = await stub_connections_since(stack, joined_wall)
    instructions = connection["instructions"]
    assert instructions.startswith(DEFAULT_CALLER_PROMPT.rstrip()), instructions[:200]
    for scenario in demo["scenarios"]:
        assert scenario["prompt"].strip() not in instructions

    session, stored_after = await frontend.wait_for_transcript(
        user_id, session_id, attempt=session.attempt, since=hung_up
    )
    record_latency(TEST, "hang-up->transcript", stored_after)
    assert_conversation(turns_of(session, session.attempt), TRAINEE_LINES[:1])
