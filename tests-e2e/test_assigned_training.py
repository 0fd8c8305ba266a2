"""Assigned training, the whole call: token for an assignment, the agent joins and publishes
`session.id`, two exchanges, the trainee hangs up, the transcript is stored with both roles in
order, and evaluation answers 409 until then and 200 with an evaluation after."""

import asyncio
from typing import Any
from uuid import UUID

import msgspec

from devstack.harness import (
    TRAINEE_LINES,
    FrontendApi,
    assert_conversation,
    exchange,
    record_latency,
    start_call,
    turns_of,
)
from devstack.stack import Stack
from training_contracts import ApiErrorCode, ErrorBody, SessionType

TEST = "assigned training"


async def test_assigned_training(stack: Stack, frontend: FrontendApi, demo: dict[str, Any]) -> None:
    user = demo["users"][0]
    user_id = user["userId"]
    trainee, session_id = await start_call(
        stack.token_service_url, user_id, TEST, assignment_id=user["assignmentId"]
    )
    try:
        assert str(UUID(session_id)) == session_id
        session = await frontend.get_session(user_id, session_id)
        assert session.type == SessionType.ASSIGNMENT
        assert str(session.assignment_id) == user["assignmentId"]
        assert session.status == "active"
        attempt = session.attempt

        # During the call there is nothing to evaluate yet: the frontend is told to wait.
        early = await frontend.request_evaluation(user_id, session_id)
        assert early.status_code == 409, early.text
        assert msgspec.json.decode(early.content, type=ErrorBody).error.code == (
            ApiErrorCode.TRANSCRIPT_PENDING
        )

        await exchange(trainee, TRAINEE_LINES[:2])
    finally:
        hung_up = await trainee.leave()

    # The frontend asks for feedback right away and retries while it gets 409; meanwhile we watch
    # the session to see when the transcript lands.
    stored, (evaluation, pending, answered_at) = await asyncio.gather(
        frontend.wait_for_transcript(user_id, session_id, attempt=attempt, since=hung_up),
        frontend.evaluation_with_retry(user_id, session_id, delay=0.5),
    )
    session, stored_after = stored
    evaluated_after = answered_at - hung_up
    record_latency(TEST, "hang-up->transcript", stored_after)
    record_latency(TEST, "hang-up->evaluation", evaluated_after)
    print(f"[{TEST}] evaluation answered 409 {pending} time(s), then 200")
    assert session.status == "completed"
    turns = turns_of(session, attempt)
    assert_conversation(turns, TRAINEE_LINES[:2])
    assert {str(t.role) for t in turns} == {"user", "assistant"}

    assert str(evaluation.session_id) == session_id
    assert evaluation.attempt == attempt
    assert 0 <= evaluation.overall_score <= 100
    assert evaluation.summary
    assert evaluation.model
