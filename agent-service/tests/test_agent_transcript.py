"""The transcript recorder, fed with the events AgentSession emits (on an unstarted session)."""

import itertools

import pytest
from livekit.agents import (
    AgentHandoff,
    AgentSession,
    ChatContext,
    ChatMessage,
    ConversationItemAddedEvent,
    UserInputTranscribedEvent,
)

from agent_service.transcript import TranscriptRecorder
from training_contracts import MAX_TURN_CONTENT_CHARS, Role, TranscriptTurn

_ids = itertools.count(1)


def message(
    role: str, text: str, created_at: float, *, item_id: str = "", interrupted: bool = False
) -> ChatMessage:
    return ChatMessage(
        id=item_id or f"item_{next(_ids)}",
        role=role,  # type: ignore[arg-type]
        content=[text],
        created_at=created_at,
        interrupted=interrupted,
    )


@pytest.fixture
def session() -> AgentSession[None]:
    return AgentSession(vad=None, turn_handling={"turn_detection": "realtime_llm"})


def added(session: AgentSession[None], item: ChatMessage | AgentHandoff) -> None:
    session.emit("conversation_item_added", ConversationItemAddedEvent(item=item))


def summary(turns: list[TranscriptTurn]) -> list[tuple[int, str, str]]:
    return [(t.turn_order, t.role.value, t.content) for t in turns]


def test_partial_transcripts_are_ignored(session: AgentSession[None]) -> None:
    recorder = TranscriptRecorder(attempt=1)
    recorder.attach(session)
    for text in ("I", "I just", "I just wanted"):
        session.emit(
            "user_input_transcribed",
            UserInputTranscribedEvent(transcript=text, is_final=False, item_id="u1"),
        )
    assert recorder.finalize() == []


def test_duplicate_item_ids_are_recorded_once(session: AgentSession[None]) -> None:
    recorder = TranscriptRecorder(attempt=1)
    recorder.attach(session)
    first = message("user", "Are you there?", 1.0, item_id="item_dup")
    added(session, first)
    added(session, message("user", "Are you there?", 1.0, item_id="item_dup"))
    added(session, first)
    assert summary(recorder.finalize()) == [(1, "user", "Are you there?")]


def test_handoffs_system_messages_and_empty_items_are_skipped(
    session: AgentSession[None],
) -> None:
    recorder = TranscriptRecorder(attempt=1)
    recorder.attach(session)
    added(session, AgentHandoff(new_agent_id="caller_agent"))
    added(session, message("system", "You are a caller.", 0.5))
    added(session, message("developer", "be brief", 0.6))
    added(session, message("assistant", "   ", 0.7, interrupted=True))
    added(session, message("user", "Hi, you've reached the line.", 1.0))
    assert summary(recorder.finalize()) == [(1, "user", "Hi, you've reached the line.")]


def test_interrupted_flag_is_kept_for_assistant_turns(session: AgentSession[None]) -> None:
    recorder = TranscriptRecorder(attempt=1)
    recorder.attach(session)
    added(session, message("user", "Hello?", 1.0))
    added(session, message("assistant", "I don't really know why I", 2.0, interrupted=True))
    added(session, message("user", "Take your time.", 3.0))
    added(session, message("assistant", "Thanks.", 4.0))
    turns = recorder.finalize()
    assert [t.interrupted for t in turns] == [False, True, False, False]
    assert turns[1].role is Role.ASSISTANT


def test_numbered_turns_never_move() -> None:
    """An item dated before an already numbered turn goes after the numbered prefix."""
    recorder = TranscriptRecorder(attempt=1)
    recorder.add(message("user", "One.", 1.0))
    recorder.add(message("assistant", "Two.", 2.0))
    recorder.add(message("user", "Three.", 3.0))
    before = recorder.settled_turns()
    assert summary(before) == [(1, "user", "One."), (2, "assistant", "Two."), (3, "user", "Three.")]

    recorder.add(message("user", "Very late, dated 1.5.", 1.5))
    after = recorder.finalize()
    assert after[: len(before)] == before
    assert summary(after[3:]) == [(4, "user", "Very late, dated 1.5.")]


def test_reconcile_adds_what_the_events_missed(session: AgentSession[None]) -> None:
    recorder = TranscriptRecorder(attempt=1)
    recorder.attach(session)
    seen = message("user", "Hello?", 1.0)
    added(session, seen)
    history = ChatContext(
        [
            message("system", "persona", 0.0),
            seen,
            message("assistant", "Hi. Sorry. I...", 2.0),
        ]
    )
    assert recorder.reconcile(history) == 1
    assert summary(recorder.finalize()) == [
        (1, "user", "Hello?"),
        (2, "assistant", "Hi. Sorry. I..."),
    ]


def test_overlong_turns_are_truncated_to_the_contract_limit() -> None:
    recorder = TranscriptRecorder(attempt=1)
    recorder.add(message("user", "a" * (MAX_TURN_CONTENT_CHARS + 10), 1.0))
    (turn,) = recorder.finalize()
    assert len(turn.content) == MAX_TURN_CONTENT_CHARS
