"""Attempt tracking: a second call on the same assignment continues the same session as attempt
n+1; its turns are stored under the new attempt, beside the previous attempt's."""

from typing import Any

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

TEST = "attempt tracking"


async def test_second_call_is_the_next_attempt(
    stack: Stack, frontend: FrontendApi, demo: dict[str, Any]
) -> None:
    user = demo["users"][-1]
    user_id, assignment_id = user["userId"], user["assignmentId"]

    trainee, first_id = await start_call(
        stack.token_service_url, user_id, TEST, assignment_id=assignment_id
    )
    try:
        first_attempt = (await frontend.get_session(user_id, first_id)).attempt
        await exchange(trainee, TRAINEE_LINES[:1])
    finally:
        hung_up = await trainee.leave()
    first, stored_after = await frontend.wait_for_transcript(
        user_id, first_id, attempt=first_attempt, since=hung_up
    )
    record_latency(TEST, "hang-up->transcript", stored_after)
    first_turns = turns_of(first, first_attempt)
    assert_conversation(first_turns, TRAINEE_LINES[:1])

    trainee, second_id = await start_call(
        stack.token_service_url, user_id, TEST, assignment_id=assignment_id, name="retry"
    )
    try:
        assert second_id == first_id, "a retry on the same assignment must keep its session"
        during = await frontend.get_session(user_id, second_id)
        assert during.attempt == first_attempt + 1
        assert during.status == "active"
        await exchange(trainee, TRAINEE_LINES[:2])
    finally:
        hung_up = await trainee.leave()
    second, stored_after = await frontend.wait_for_transcript(
        user_id, second_id, attempt=first_attempt + 1, since=hung_up
    )
    record_latency(TEST, "retry hang-up->transcript", stored_after)

    assert second.attempt == first_attempt + 1
    assert_conversation(turns_of(second, first_attempt + 1), TRAINEE_LINES[:2])
    # The first attempt's turns are untouched, still there beside the new ones.
    assert turns_of(second, first_attempt) == first_turns
    assert {t.attempt_number for t in second.turns} >= {first_attempt, first_attempt + 1}
