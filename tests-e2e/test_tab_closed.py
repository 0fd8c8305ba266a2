"""Tab closed: the trainee's process is SIGKILLed mid-call, without leaving the room. LiveKit
notices the participant is gone, the agent's session ends, and the transcript is stored anyway."""

import json
import time
from pathlib import Path
from typing import Any

from devstack.harness import (
    JOIN_TIMEOUT_S,
    REPLY_TIMEOUT_S,
    TRAINEE_LINES,
    FrontendApi,
    assert_conversation,
    record_latency,
    turns_of,
)
from devstack.stack import Stack
from devstack.trainee import spawn_trainee

TEST = "tab closed"


def _event(line: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(line)
    return event


async def test_transcript_survives_a_vanished_trainee(
    stack: Stack, frontend: FrontendApi, demo: dict[str, Any]
) -> None:
    user = demo["users"][0]
    user_id = user["userId"]
    log_path: Path = stack.log_dir / "trainee-tab-closed.log"
    process = spawn_trainee(
        stack.token_service_url,
        user_id,
        log_path=log_path,
        assignment_id=user["assignmentId"],
        say=TRAINEE_LINES[:1],
        reply_timeout=REPLY_TIMEOUT_S,
    )
    try:
        attribute = await process.await_line(r'\{"event": "attribute".*\}', JOIN_TIMEOUT_S + 15)
        event = _event(attribute.group(0))
        assert event["key"] == "session.id", event
        session_id = event["value"]
        record_latency(TEST, "join->session.id", float(event["afterJoinS"]))
        await process.await_line(r'\{"event": "holding"\}', REPLY_TIMEOUT_S + 15)
        attempt = (await frontend.get_session(user_id, session_id)).attempt
    finally:
        vanished = time.monotonic()
        process.kill()  # SIGKILL: no leave, no goodbye, exactly a closed tab

    session, stored_after = await frontend.wait_for_transcript(
        user_id, session_id, attempt=attempt, since=vanished
    )
    record_latency(TEST, "kill->transcript", stored_after)
    assert_conversation(turns_of(session, attempt), TRAINEE_LINES[:1])
