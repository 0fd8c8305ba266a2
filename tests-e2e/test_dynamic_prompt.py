"""Dynamic prompt: for assigned training the model is instructed with the assignment's scenario
prompt, verbatim, as stored in the database."""

import time
from typing import Any

from devstack.harness import (
    TRAINEE_LINES,
    FrontendApi,
    exchange,
    record_latency,
    start_call,
    stub_connections_since,
)
from devstack.stack import Stack

TEST = "dynamic prompt"


async def test_scenario_prompt_reaches_the_model(
    stack: Stack, frontend: FrontendApi, demo: dict[str, Any]
) -> None:
    user = demo["users"][1 % len(demo["users"])]
    scenarios = {s["id"]: s for s in demo["scenarios"]}
    scenario = scenarios[user["scenarioId"]]
    joined_wall = time.time()
    trainee, session_id = await start_call(
        stack.token_service_url, user["userId"], TEST, assignment_id=user["assignmentId"]
    )
    try:
        session = await frontend.get_session(user["userId"], session_id)
        assert str(session.scenario_id) == scenario["id"]
        [connection] = await stub_connections_since(stack, joined_wall)
        await exchange(trainee, TRAINEE_LINES[:1])
    finally:
        hung_up = await trainee.leave()

    instructions: str = connection["instructions"]
    # The persona is the scenario's prompt, character for character; shared speaking-style
    # rules may follow it.
    assert instructions.startswith(scenario["prompt"].rstrip()), instructions[:300]
    for other in demo["scenarios"]:
        if other["id"] != scenario["id"]:
            assert other["prompt"].strip() not in instructions

    _, stored_after = await frontend.wait_for_transcript(
        user["userId"], session_id, attempt=session.attempt, since=hung_up
    )
    record_latency(TEST, "hang-up->transcript", stored_after)
