"""The trainee hears the caller: audio with speech-level energy arrives on the agent's track after
the trainee speaks, and stops when the caller's turn is over."""

from typing import Any

from devstack.harness import (
    REPLY_TIMEOUT_S,
    TRAINEE_LINES,
    FrontendApi,
    clip,
    record_latency,
    start_call,
)
from devstack.stack import Stack

TEST = "trainee hears caller"


async def test_caller_audio_reaches_the_trainee(
    stack: Stack, frontend: FrontendApi, demo: dict[str, Any]
) -> None:
    user_id = demo["users"][0]["userId"]
    trainee, session_id = await start_call(stack.token_service_url, user_id, TEST)
    try:
        ended = await trainee.say(await clip(TRAINEE_LINES[0]))
        started, stopped = await trainee.wait_for_agent_reply(after=ended, timeout=REPLY_TIMEOUT_S)
        record_latency(TEST, "end of speech->caller audio", started - ended)
        audio = trainee.agent_audio
        print(
            f"[{TEST}] caller spoke {stopped - started:.2f} s; {audio.energetic_frames} of "
            f"{audio.frames} frames above RMS {audio.threshold:.0f}, peak RMS {audio.max_rms:.0f}"
        )
        # The stub replies with ~1.5 s of voice: most of it must arrive, loud enough to hear.
        assert audio.energetic_seconds >= 0.8
        assert stopped - started >= 0.8
        assert audio.max_rms >= 2000
    finally:
        hung_up = await trainee.leave()
    session = await frontend.get_session(user_id, session_id)
    _, stored_after = await frontend.wait_for_transcript(
        user_id, session_id, attempt=session.attempt, since=hung_up
    )
    record_latency(TEST, "hang-up->transcript", stored_after)
