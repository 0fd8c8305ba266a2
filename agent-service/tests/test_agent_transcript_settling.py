"""When the recorder numbers a turn: driven by the events AgentSession emits (on an unstarted
session), with the dates and the order the Realtime model gives them, and a stand-in timer."""

import asyncio
import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from livekit.agents import AgentSession, ChatMessage, ConversationItemAddedEvent
from livekit.agents.voice import SpeechCreatedEvent, SpeechHandle, UserStateChangedEvent

from agent_service.transcript import TranscriptRecorder
from training_contracts import TranscriptTurn

_ids = itertools.count(1)


@dataclass
class FakeTimer:
    delay: float
    callback: Callable[[], None]
    cancelled: bool = False

    def cancel(self) -> None:
        self.cancelled = True


@dataclass
class FakeTimers:
    """`loop.call_later` whose timers fire when the test says so."""

    timers: list[FakeTimer] = field(default_factory=list)

    def __call__(self, delay: float, callback: Callable[[], None]) -> FakeTimer:
        timer = FakeTimer(delay, callback)
        self.timers.append(timer)
        return timer

    def live(self) -> list[FakeTimer]:
        return [t for t in self.timers if not t.cancelled]

    def fire(self) -> None:
        for timer in self.live():
            timer.cancelled = True
            timer.callback()


@dataclass
class Call:
    session: AgentSession[None]
    recorder: TranscriptRecorder
    timers: FakeTimers
    settled: list[int] = field(default_factory=list)

    def trainee_starts(self, at: float) -> None:
        self.session.emit(
            "user_state_changed",
            UserStateChangedEvent(old_state="listening", new_state="speaking", created_at=at),
        )

    def trainee_stops(self, at: float) -> None:
        self.session.emit(
            "user_state_changed",
            UserStateChangedEvent(old_state="speaking", new_state="listening", created_at=at),
        )

    def caller_speech(self, at: float) -> SpeechHandle:
        handle = SpeechHandle.create()
        self.session.emit(
            "speech_created",
            SpeechCreatedEvent(
                user_initiated=False, source="generate_reply", speech_handle=handle, created_at=at
            ),
        )
        return handle

    def message(
        self, role: str, text: str, created_at: float, *, interrupted: bool = False
    ) -> None:
        item = ChatMessage(
            id=f"item_{next(_ids)}",
            role=role,  # type: ignore[arg-type]
            content=[text],
            created_at=created_at,
            interrupted=interrupted,
        )
        self.session.emit("conversation_item_added", ConversationItemAddedEvent(item=item))

    def numbered(self) -> list[tuple[int, str, str]]:
        return summary(self.recorder.settled_turns())


async def speech_ends(handle: SpeechHandle) -> None:
    """The speech task finished: livekit-agents marks the handle done after adding its message,
    and the handle's done callbacks run on the next loop iteration."""
    handle._mark_done()
    await asyncio.sleep(0)


def summary(turns: list[TranscriptTurn]) -> list[tuple[int, str, str]]:
    return [(t.turn_order, t.role.value, t.content) for t in turns]


@pytest.fixture
async def call() -> Call:
    """Async, so the session binds to the test's running loop instead of making its own."""
    session: AgentSession[None] = AgentSession(
        vad=None, turn_handling={"turn_detection": "realtime_llm"}
    )
    timers = FakeTimers()
    recorder = TranscriptRecorder(attempt=1, transcript_wait=10.0, call_later=timers)
    recorder.attach(session)
    made = Call(session, recorder, timers)
    recorder.on_settled = lambda: made.settled.append(recorder.settled_count)
    return made


async def test_the_callers_finished_line_settles_when_its_speech_ends(call: Call) -> None:
    """The issue's case: the trainee is silent and nothing of theirs is in flight, so the
    caller's last line is numbered (and sent) at once, without waiting for the trainee."""
    call.trainee_starts(at=1.0)
    call.trainee_stops(at=3.0)
    call.message("user", "Hello, support line.", 1.0)
    assert call.numbered() == [(1, "user", "Hello, support line.")]

    reply = call.caller_speech(at=3.5)
    call.message("assistant", "I lost my job this morning.", 4.0)
    assert call.recorder.pending_count == 1  # its speech has not ended yet
    await speech_ends(reply)
    assert call.numbered() == [
        (1, "user", "Hello, support line."),
        (2, "assistant", "I lost my job this morning."),
    ]
    assert call.settled == [1, 2]
    assert call.timers.live() == []  # the transcript came: nothing left to give up


async def test_a_late_trainee_transcript_holds_the_reply_it_precedes(call: Call) -> None:
    """The Realtime model: the caller's reply ends before the trainee's transcript arrives,
    dated to when the trainee began; the reply waits for it, then both settle in order."""
    call.trainee_starts(at=1.0)
    call.trainee_stops(at=3.0)
    reply = call.caller_speech(at=3.2)
    call.message("assistant", "Oh... okay. Hi.", 3.5)
    await speech_ends(reply)
    assert call.numbered() == []
    assert call.recorder.under_way.trainee_utterances == 1

    call.message("user", "Hello, this is the helpline.", 1.0)
    assert call.numbered() == [
        (1, "user", "Hello, this is the helpline."),
        (2, "assistant", "Oh... okay. Hi."),
    ]
    assert call.settled == [2]


async def test_a_trainee_turn_waits_for_the_caller_speech_it_interrupted(call: Call) -> None:
    """The trainee speaks over the caller: the interrupted line, dated before the trainee's
    turn, may still arrive after the trainee's transcript, so that turn waits for the speech."""
    reply = call.caller_speech(at=1.0)
    call.trainee_starts(at=2.0)
    call.trainee_stops(at=3.0)
    call.message("user", "Sorry, go on.", 2.0)
    assert call.numbered() == []

    call.message("assistant", "I don't really know why I", 1.2, interrupted=True)
    await speech_ends(reply)
    assert call.numbered() == [
        (1, "assistant", "I don't really know why I"),
        (2, "user", "Sorry, go on."),
    ]
    assert [t.interrupted for t in call.recorder.settled_turns()] == [True, False]


async def test_turns_before_what_is_under_way_settle_and_later_ones_wait(call: Call) -> None:
    call.trainee_starts(at=1.0)
    call.trainee_stops(at=2.0)
    call.message("user", "One.", 1.0)
    first = call.caller_speech(at=2.5)
    call.message("assistant", "Two.", 3.0)
    await speech_ends(first)
    call.trainee_starts(at=5.0)  # speaking: the caller's next line cannot start before it ends
    assert call.numbered() == [(1, "user", "One."), (2, "assistant", "Two.")]
    call.trainee_stops(at=6.0)
    second = call.caller_speech(at=6.5)
    call.message("assistant", "Four.", 7.0)
    await speech_ends(second)
    assert call.recorder.pending_count == 1  # "Four." waits for the trainee's transcript
    call.message("user", "Three.", 5.0)
    assert [turn for _, _, turn in call.numbered()] == ["One.", "Two.", "Three.", "Four."]


async def test_a_transcript_that_never_comes_is_given_up_after_the_wait(
    call: Call, caplog: pytest.LogCaptureFixture
) -> None:
    call.trainee_starts(at=1.0)
    call.trainee_stops(at=3.0)
    [timer] = call.timers.live()
    assert timer.delay == 10.0
    reply = call.caller_speech(at=3.2)
    call.message("assistant", "Hello? Are you there?", 3.5)
    await speech_ends(reply)
    assert call.numbered() == []

    with caplog.at_level(logging.WARNING, logger="agent_service.under_way"):
        call.timers.fire()
    assert call.numbered() == [(1, "assistant", "Hello? Are you there?")]
    assert "no transcript of the trainee's turn" in caplog.text

    # Should it come after all, it goes after what is numbered: numbers never change.
    call.message("user", "Hi, sorry.", 1.0)
    assert summary(call.recorder.finalize()) == [
        (1, "assistant", "Hello? Are you there?"),
        (2, "user", "Hi, sorry."),
    ]


async def test_an_empty_transcript_ends_its_utterance(call: Call) -> None:
    call.trainee_starts(at=1.0)
    call.trainee_stops(at=1.5)
    call.message("user", "", 1.0)  # a cough: the model transcribed nothing
    assert call.recorder.under_way.trainee_utterances == 0
    assert call.timers.live() == []
    reply = call.caller_speech(at=2.0)
    call.message("assistant", "Hello?", 2.5)
    await speech_ends(reply)
    assert call.numbered() == [(1, "assistant", "Hello?")]


async def test_a_message_not_from_an_utterance_leaves_it_open(call: Call) -> None:
    """A trainee message dated far from every open utterance's start (typed text) does not
    end the utterance still being transcribed."""
    call.trainee_starts(at=1.0)
    call.trainee_stops(at=2.0)
    call.message("user", "typed hello", 2.5)
    assert call.recorder.under_way.trainee_utterances == 1
    assert call.numbered() == []
    call.message("user", "Hello.", 1.0)
    assert call.numbered() == [(1, "user", "Hello."), (2, "user", "typed hello")]


async def test_finalize_numbers_what_is_still_under_way(call: Call) -> None:
    call.trainee_starts(at=1.0)
    call.caller_speech(at=0.5)
    call.message("assistant", "Hi.", 0.8)
    call.trainee_stops(at=2.0)
    assert call.numbered() == []
    assert summary(call.recorder.finalize()) == [(1, "assistant", "Hi.")]
    assert call.timers.live() == []
    assert call.recorder.under_way.trainee_utterances == 0
