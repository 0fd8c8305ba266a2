"""The real livekit-agents 1.8.9 OpenAI Realtime plugin against the stub, no mocks, no room."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from livekit.agents import Agent, AgentSession, llm
from livekit.agents.voice.events import (
    AgentStateChangedEvent,
    ConversationItemAddedEvent,
    UserInputTranscribedEvent,
)
from livekit.plugins.openai.realtime import RealtimeModel

from devstack.waits import until
from openai_stub import audio
from openai_stub.livekit_io import PlayoutAudioOutput, PushAudioInput
from openai_stub.testing import StubHandle


@dataclass
class Call:
    session: AgentSession[None]
    mic: PushAudioInput
    speaker: PlayoutAudioOutput
    messages: list[llm.ChatMessage] = field(default_factory=list)
    transcripts: list[UserInputTranscribedEvent] = field(default_factory=list)
    agent_states: list[str] = field(default_factory=list)

    def texts(self, role: str) -> list[str | None]:
        return [m.text_content for m in self.messages if m.role == role]


@contextlib.asynccontextmanager
async def agent_call(stub: StubHandle, instructions: str, **options: Any) -> AsyncIterator[Call]:
    """An AgentSession on the real Realtime plugin, pointed at the stub, with test audio I/O."""
    async with aiohttp.ClientSession() as http:
        model = RealtimeModel(base_url=stub.base_url, api_key="test", http_session=http)
        session: AgentSession[None] = AgentSession(llm=model, **options)
        call = Call(session=session, mic=PushAudioInput(), speaker=PlayoutAudioOutput())
        session.input.audio = call.mic
        session.output.audio = call.speaker

        def on_item(ev: ConversationItemAddedEvent) -> None:
            if isinstance(ev.item, llm.ChatMessage):  # the first item is an AgentHandoff
                call.messages.append(ev.item)

        def on_state(ev: AgentStateChangedEvent) -> None:
            call.agent_states.append(ev.new_state)

        session.on("conversation_item_added", on_item)
        session.on("user_input_transcribed", call.transcripts.append)
        session.on("agent_state_changed", on_state)
        await session.start(Agent(instructions=instructions))
        try:
            yield call
        finally:
            call.mic.close()
            await session.aclose()
            await call.speaker.aclose()
            await model.aclose()


async def test_the_prompt_reaches_the_stub_and_generate_reply_speaks_the_script(
    stub: StubHandle,
) -> None:
    reply = "Hi. I don't really know why I called."
    stub.set_script({"replies": [reply], "reply_ms": 800})
    async with agent_call(stub, "SCENARIO PROMPT X") as call:
        started = time.monotonic()
        handle = call.session.generate_reply(instructions="Open the call.")
        await asyncio.wait_for(handle.wait_for_playout(), timeout=8)
        assert time.monotonic() - started < 5  # not the plugin's 10 s response.created timeout
        assert not handle.interrupted

        async with (
            aiohttp.ClientSession() as http,
            http.get(stub.url + "/_stub/state") as response,
        ):
            state = await response.json()
        [conn] = state["connections"]
        assert conn["instructions"] == "SCENARIO PROMPT X"
        assert conn["session"]["instructions"] == "SCENARIO PROMPT X"
        assert conn["session"]["audio"]["input"]["transcription"] is not None
        assert conn["session"]["audio"]["input"]["turn_detection"]["type"] == "semantic_vad"
        assert conn["client_events"][0] == "session.update"
        assert "response.create" in conn["client_events"]
        [response_record] = conn["responses"]
        assert response_record["status"] == "completed"
        assert response_record["metadata"]["client_event_id"].startswith("response_create_")
        # the plugin sends the session's prompt plus the reply's own instructions
        assert response_record["instructions"] == "SCENARIO PROMPT X\nOpen the call."

        assert call.texts("assistant") == [reply]
        history = [
            item
            for item in call.session.history.items
            if isinstance(item, llm.ChatMessage) and item.role == "assistant"
        ]
        assert [m.text_content for m in history] == [reply]
        assert not history[0].interrupted
        assert "speaking" in call.agent_states
        assert abs(call.speaker.captured_s - 0.8) < 0.05


async def test_a_spoken_user_turn_is_transcribed_and_answered(stub: StubHandle) -> None:
    stub.set_script(
        {
            "user_transcripts": ["Good morning, this is support."],
            "replies": ["Hello, my parcel is late."],
            "reply_ms": 600,
        }
    )
    async with agent_call(stub, "SCENARIO PROMPT Y") as call:
        call.mic.push(audio.silence(300) + audio.clip() + audio.silence(700))
        await until("the reply's text", lambda: call.texts("assistant"), 8.0, poll=0.02)

        [conn] = stub.connections()
        assert [s["type"] for s in conn["speech"]] == ["speech_started", "speech_stopped"]
        assert conn["speech"][0]["audio_ms"] == 300
        assert conn["user_transcripts"] == ["Good morning, this is support."]
        assert [(r["auto"], r["status"]) for r in conn["responses"]] == [(True, "completed")]

        finals = [t for t in call.transcripts if t.is_final]
        assert [t.transcript for t in finals] == ["Good morning, this is support."]
        assert finals[0].item_id == conn["speech"][0]["item_id"]
        assert any(not t.is_final and t.transcript for t in call.transcripts)  # partials
        assert call.texts("user") == ["Good morning, this is support."]
        assert call.texts("assistant") == ["Hello, my parcel is late."]
        user_message = next(m for m in call.messages if m.role == "user")
        assert user_message.id == conn["speech"][0]["item_id"]


async def test_speaking_over_the_agent_interrupts_it(stub: StubHandle) -> None:
    stub.set_script(
        {
            "user_transcripts": ["Sorry, can I stop you there?"],
            "replies": ["This answer is long and will be cut short.", "Sure, go ahead."],
            "reply_ms": 4000,
        }
    )
    # no AEC warm-up: it would replace the first 3 s of the user's audio with silence
    async with agent_call(stub, "SCENARIO PROMPT Z", aec_warmup_duration=None) as call:
        handle = call.session.generate_reply()
        # far enough into the reply that the cut lands after its first 400 ms
        await until(
            "half a second of the reply played",
            lambda: call.speaker.position >= 0.5,
            8.0,
            poll=0.02,
        )
        # at real-time pace, as a caller speaks: the plugin's own response.cancel then lands
        # long before the user's turn ends and the stub starts the next response
        speaking = asyncio.create_task(call.mic.push_realtime(audio.clip() + audio.silence(700)))
        await asyncio.wait_for(handle.wait_for_playout(), timeout=8)
        assert handle.interrupted
        stub.set_script({**stub.script.to_dict(), "reply_ms": 600})  # a short answer, next
        await speaking

        conn = await until(
            "two responses",
            lambda: next((c for c in stub.connections() if len(c["responses"]) == 2), None),
            5.0,
            context=stub.summary,
        )
        first, second = conn["responses"]
        assert (first["status"], first["reason"]) == ("cancelled", "turn_detected")
        assert second["auto"] is True
        # the plugin cut its copy of the reply at what was played
        assert "conversation.item.truncate" in conn["client_events"]
        [cut] = [i for i in conn["items"] if "truncated_audio_end_ms" in i]
        assert 400 <= cut["truncated_audio_end_ms"] < 4000

        await until("two replies' texts", lambda: len(call.texts("assistant")) == 2, 8.0, poll=0.02)
        interrupted = next(m for m in call.messages if m.role == "assistant")
        assert interrupted.interrupted
        assert call.texts("user") == ["Sorry, can I stop you there?"]
        assert call.texts("assistant")[1] == "Sure, go ahead."
