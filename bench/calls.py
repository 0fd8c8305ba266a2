"""Whole calls, one at a time, on the real stack (Postgres, livekit-server --dev, the OpenAI stub,
both services): join -> `session.id`, hang-up -> transcript stored and -> evaluation 200."""

import asyncio
import time
from dataclasses import dataclass

import httpx
import msgspec

from devstack.speech import SpeechClip, render_speech
from devstack.stack import Stack
from devstack.trainee import Trainee
from training_contracts import (
    ATTR_SESSION_ID,
    EVALUATION_PATH,
    SESSION_PATH,
    USER_ID_HEADER,
    fill,
)

from .call_stack import LINE, call_stack
from .stats import Percentiles, percentiles

JOIN_CALLS = 20
HANGUP_CALLS = 8
POLL_S = 0.02
"""How often the frontend's polls are repeated: fine enough not to hide what is measured."""
POLL_TIMEOUT_S = 30.0


class LatencyResult(msgspec.Struct):
    join_to_session_id_ms: Percentiles
    """Over JOIN_CALLS calls (see CallResult), as the next two."""
    click_to_session_id_ms: Percentiles
    hangup_to_transcript_ms: Percentiles
    """Over HANGUP_CALLS calls, each with one exchange, as the next."""
    hangup_to_evaluation_ms: Percentiles


@dataclass
class CallResult:
    session_id: str
    join_to_session_id_ms: float
    """From the trainee being in the room (room.connect() returned) to `session.id`."""
    click_to_session_id_ms: float
    """From asking the token service for a token (the trainee's click) to `session.id`."""
    hangup_to_transcript_ms: float | None = None
    hangup_to_evaluation_ms: float | None = None


async def _poll(
    http: httpx.AsyncClient, user_id: str, session_id: str, since: float
) -> tuple[float, float]:
    """(ms to the transcript stored, ms to the evaluation answering 200), polled as a frontend would."""
    headers = {USER_ID_HEADER: user_id}

    async def stored() -> float:
        while True:
            response = await http.get(fill(SESSION_PATH, session_id=session_id), headers=headers)
            if response.json()["status"] == "completed":
                return (time.monotonic() - since) * 1000
            await asyncio.sleep(POLL_S)

    async def evaluated() -> float:
        while True:
            path = fill(EVALUATION_PATH, session_id=session_id)
            response = await http.post(path, headers=headers)
            if response.status_code == 200:
                return (time.monotonic() - since) * 1000
            if response.status_code != 409:
                raise RuntimeError(f"evaluation answered {response.status_code}: {response.text}")
            await asyncio.sleep(POLL_S)

    both = asyncio.gather(stored(), evaluated())
    stored_ms, evaluated_ms = await asyncio.wait_for(both, POLL_TIMEOUT_S)
    return stored_ms, evaluated_ms


async def _call(
    stack: Stack,
    http: httpx.AsyncClient,
    user_id: str,
    clip: SpeechClip | None,
    name: str,
) -> CallResult:
    """One call, on the Python SDK (the latency sections run one call at a time)."""
    started = time.monotonic()
    trainee = await Trainee.join(stack.token_service_url, user_id, name=name)
    try:
        session_id = await trainee.wait_for_session_id(timeout=30)
        seen = trainee.attribute_seen_at[ATTR_SESSION_ID]
        assert trainee.joined_at is not None
        result = CallResult(
            session_id=session_id,
            join_to_session_id_ms=max(0.0, seen - trainee.joined_at) * 1000,
            click_to_session_id_ms=(seen - started) * 1000,
        )
        if clip is None:
            return result
        await trainee.wait_until_listening(timeout=30)
        said = await trainee.say(clip)
        await trainee.wait_for_agent_reply(after=said, timeout=30, quiet=0.3)
    finally:
        hung_up = await trainee.leave()
    stored_ms, evaluated_ms = await _poll(http, user_id, session_id, hung_up)
    result.hangup_to_transcript_ms, result.hangup_to_evaluation_ms = stored_ms, evaluated_ms
    return result


async def _latency(stack: Stack) -> LatencyResult:
    user_id = stack.demo["users"][0]["userId"]
    clip = render_speech(LINE)
    async with httpx.AsyncClient(base_url=stack.token_service_url, timeout=15) as http:
        await _call(stack, http, user_id, None, "warm-up")
        joins = [await _call(stack, http, user_id, None, f"join-{i}") for i in range(JOIN_CALLS)]
        talks = [await _call(stack, http, user_id, clip, f"talk-{i}") for i in range(HANGUP_CALLS)]
    return LatencyResult(
        join_to_session_id_ms=percentiles([c.join_to_session_id_ms for c in joins]),
        click_to_session_id_ms=percentiles([c.click_to_session_id_ms for c in joins]),
        hangup_to_transcript_ms=percentiles([c.hangup_to_transcript_ms or 0 for c in talks]),
        hangup_to_evaluation_ms=percentiles([c.hangup_to_evaluation_ms or 0 for c in talks]),
    )


def run() -> LatencyResult:
    with call_stack() as stack:
        return asyncio.run(_latency(stack))
