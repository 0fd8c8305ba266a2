"""Two trainees at once, in separate rooms: each call gets its own session, its own prompt and
its own transcript, with nothing of the other call mixed in."""

import asyncio
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
from training_contracts import SessionView

TEST = "two trainees at once"


async def _call(
    stack: Stack, frontend: FrontendApi, user: dict[str, Any], lines: tuple[str, ...], name: str
) -> tuple[str, SessionView, str]:
    trainee, session_id = await start_call(
        stack.token_service_url,
        user["userId"],
        TEST,
        assignment_id=user["assignmentId"],
        name=name,
    )
    assert trainee.token is not None
    try:
        attempt = (await frontend.get_session(user["userId"], session_id)).attempt
        await exchange(trainee, lines)
    finally:
        hung_up = await trainee.leave()
    session, stored_after = await frontend.wait_for_transcript(
        user["userId"], session_id, attempt=attempt, since=hung_up
    )
    record_latency(TEST, f"{name} hang-up->transcript", stored_after)
    return session_id, session, trainee.token.room_name


async def test_two_calls_do_not_mix(
    stack: Stack, frontend: FrontendApi, demo: dict[str, Any]
) -> None:
    users = demo["users"]
    assert len(users) >= 2, "the demo data needs two trainees"
    alice, bob = users[0], users[1]
    # Different scripts so a mix-up shows: one line for Alice, two for Bob.
    alice_lines, bob_lines = TRAINEE_LINES[:1], TRAINEE_LINES[:2]
    since_wall = time.time()
    (a_id, a_session, a_room), (b_id, b_session, b_room) = await asyncio.gather(
        _call(stack, frontend, alice, alice_lines, "alice"),
        _call(stack, frontend, bob, bob_lines, "bob"),
    )
    assert a_room != b_room
    assert a_id != b_id
    assert str(a_session.assignment_id) == alice["assignmentId"]
    assert str(b_session.assignment_id) == bob["assignmentId"]
    assert_conversation(turns_of(a_session, a_session.attempt), alice_lines)
    assert_conversation(turns_of(b_session, b_session.attempt), bob_lines)

    # Each Realtime connection was instructed with its own trainee's scenario.
    prompts = {s["id"]: s["prompt"].rstrip() for s in demo["scenarios"]}
    fresh = await stub_connections_since(stack, since_wall - 0.5, 2)
    assert len(fresh) == 2, [c["id"] for c in fresh]
    instructed = sorted(
        next(sid for sid, prompt in prompts.items() if c["instructions"].startswith(prompt))
        for c in fresh
    )
    assert instructed == sorted([alice["scenarioId"], bob["scenarioId"]])
