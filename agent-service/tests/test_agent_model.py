"""The production caller (CallerAgent, its RealtimeModel, the session options, the recorder) on
the real livekit-agents Realtime plugin, against the OpenAI stub. No room: test audio I/O."""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from livekit.agents import AgentSession
from livekit.agents.utils import http_context

from agent_service.caller import (
    QUIET_LINE_INSTRUCTIONS,
    CallerAgent,
    QuietLineOpener,
    RealtimeConfig,
    caller_instructions,
    caller_session,
)
from agent_service.transcript import TranscriptRecorder
from devstack.waits import until
from openai_stub import audio
from openai_stub.livekit_io import PlayoutAudioOutput, PushAudioInput
from openai_stub.testing import StubHandle, running_stub

SCENARIO_PROMPT = (
    "You are Jordan, 45, calling because your father's dementia is getting worse and you have "
    "not slept properly in weeks. SCENARIO-MARKER-7f3a."
)


@pytest.fixture
async def stub() -> AsyncIterator[StubHandle]:
    async with running_stub() as handle:
        yield handle


@dataclass
class Call:
    session: AgentSession[None]
    agent: CallerAgent
    mic: PushAudioInput
    speaker: PlayoutAudioOutput
    recorder: TranscriptRecorder


@contextlib.asynccontextmanager
async def caller_call(stub: StubHandle, scenario_prompt: str | None) -> AsyncIterator[Call]:
    async with http_context.open():
        session = caller_session()
        agent = CallerAgent(
            scenario_prompt=scenario_prompt,
            realtime=RealtimeConfig(api_key="test", base_url=stub.base_url),
        )
        call = Call(session, agent, PushAudioInput(), PlayoutAudioOutput(), TranscriptRecorder(1))
        call.recorder.attach(session)
        session.input.audio = call.mic
        session.output.audio = call.speaker
        await session.start(agent)
        try:
            yield call
        finally:
            call.mic.close()
            await session.aclose()
            await call.speaker.aclose()


def first_with_responses(stub: StubHandle) -> Callable[[], dict[str, Any] | None]:
    """The first connection, once it has a response."""

    def probe() -> dict[str, Any] | None:
        first: dict[str, Any] = stub.connections()[0]
        return first if first["responses"] else None

    return probe


async def test_the_scenario_prompt_reaches_the_model_verbatim(stub: StubHandle) -> None:
    async with caller_call(stub, SCENARIO_PROMPT):
        conn = await until(
            "an instructed connection",
            lambda: next((c for c in stub.connections() if c["instructions"]), None),
            5.0,
            context=stub.summary,
        )
    assert conn["instructions"] == caller_instructions(SCENARIO_PROMPT)
    assert SCENARIO_PROMPT in conn["instructions"]
    audio_input = conn["session"]["audio"]["input"]
    assert audio_input["transcription"] is not None  # user turns need it
    assert audio_input["turn_detection"]["type"] == "semantic_vad"
    assert conn["model"] == "gpt-realtime"


async def test_both_roles_are_recorded_in_order_when_the_transcript_comes_late(
    stub: StubHandle,
) -> None:
    trainee = "Hello, you've reached the crisis line. My name is Sam."
    caller = "Hi... um, I didn't really know who else to call."
    # The stub transcribes the trainee's turn 1.5 s after it ended and replies at once: the
    # caller's reply is recorded before the trainee's turn it answers, as with OpenAI.
    stub.set_script(
        {
            "user_transcripts": [trainee],
            "replies": [caller],
            "reply_ms": 600,
            "transcript_delay_ms": 1500,
        }
    )
    arrivals: list[str] = []
    async with caller_call(stub, None) as call:
        call.session.on(
            "conversation_item_added",
            lambda ev: arrivals.append(getattr(ev.item, "role", "-")),
        )
        call.mic.push(audio.silence(300) + audio.clip() + audio.silence(900))
        # settled during the call, from the session's own events: the reply waited for the
        # trainee's transcript, then both were numbered in order
        await until("two settled turns", lambda: call.recorder.settled_count == 2, 10.0, poll=0.02)
    turns = call.recorder.finalize()

    assert [a for a in arrivals if a != "-"] == ["assistant", "user"]
    assert [(t.turn_order, t.role.value, t.content) for t in turns] == [
        (1, "user", trainee),
        (2, "assistant", caller),
    ]
    assert all(t.attempt_number == 1 for t in turns)
    [conn] = stub.connections()
    assert conn["instructions"] == caller_instructions(None)


async def test_the_callers_line_settles_once_it_is_spoken(stub: StubHandle) -> None:
    """Nobody speaks after the caller's reply: it is numbered while the call goes on (a worker
    killed now would have sent it), not when the trainee speaks again."""
    stub.set_script({"user_transcripts": ["Hello?"], "replies": ["Hi. Um."], "reply_ms": 600})
    async with caller_call(stub, None) as call:
        call.mic.push(audio.silence(300) + audio.clip() + audio.silence(900))
        await until("two settled turns", lambda: call.recorder.settled_count == 2, 10.0, poll=0.02)
        assert call.recorder.pending_count == 0
        turns = call.recorder.settled_turns()
    assert [(t.turn_order, t.role.value, t.content) for t in turns] == [
        (1, "user", "Hello?"),
        (2, "assistant", "Hi. Um."),
    ]


async def test_the_caller_waits_for_the_trainee_then_breaks_a_silence(stub: StubHandle) -> None:
    stub.set_script({"replies": ["Hello? Is this... the helpline?"], "reply_ms": 400})
    async with caller_call(stub, None) as call:
        opener = QuietLineOpener(call.session, after=0.5)
        started = time.monotonic()
        assert await opener.run() is True
        assert time.monotonic() - started >= 0.5
        conn = await until("a response", first_with_responses(stub), 5.0, context=stub.summary)
        [response] = conn["responses"]
        assert response["auto"] is False
        assert QUIET_LINE_INSTRUCTIONS in (response["instructions"] or "")
        # nothing else under way
        await until("one settled turn", lambda: call.recorder.settled_count == 1, 10.0, poll=0.02)


async def test_the_caller_does_not_speak_first_when_the_trainee_greets(stub: StubHandle) -> None:
    stub.set_script({"reply_ms": 400})
    async with caller_call(stub, None) as call:
        opener = QuietLineOpener(call.session, after=1.5)
        running = asyncio.create_task(opener.run())
        call.mic.push(audio.silence(200) + audio.clip() + audio.silence(900))
        assert await running is False
        assert opener.trainee_spoke
        conn = await until("a response", first_with_responses(stub), 5.0, context=stub.summary)
        assert [r["auto"] for r in conn["responses"]] == [True]  # only the reply to the trainee
