"""What the model heard and said in a call, from the OpenAI stub's record (`GET /_stub/state`),
and whether a stored transcript is exactly that: the check of every test that breaks something
mid-call (tests-faults, containers/faulted_calls.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Heard:
    """One turn of the conversation as the model holds it (one of the stub's items)."""

    role: str
    text: str
    completed_at: float | None
    """Wall clock: when the user turn's transcript, or the reply's last audio, was sent in full."""


def heard_and_said(connection: dict[str, Any]) -> list[Heard]:
    """The conversation of one Realtime connection of the stub's state, in order."""
    return [
        Heard(item["role"], item["text"], item.get("completed_at"))
        for item in connection["items"]
        if item.get("type") == "message"
        and item.get("role") in ("user", "assistant")
        and item.get("text")
    ]


@dataclass(frozen=True)
class StoredTurn:
    role: str
    content: str
    turn_order: int


def unlike_heard(
    stored: Sequence[StoredTurn], heard: Sequence[Heard], *, complete_by: float | None = None
) -> str | None:
    """How the stored turns (one attempt's) differ from what the model heard and said; None when
    they are exactly that, in order, each once, numbered 1..n. With `complete_by` (wall clock: a
    call whose worker died then), a prefix of it is enough if it holds every turn complete by
    then: the later ones may be lost."""
    turns = [(t.role, t.content) for t in stored]
    said = [(h.role, h.text) for h in heard]
    if len(set(turns)) != len(turns):
        return f"a turn stored twice: {turns}"
    if [t.turn_order for t in stored] != list(range(1, len(stored) + 1)):
        return f"turn orders not 1..{len(stored)}: {[t.turn_order for t in stored]}"
    if complete_by is None:
        return None if turns == said else f"stored {turns}, the model heard and said {said}"
    if turns != said[: len(turns)]:
        return f"stored {turns} is not a beginning of what the model heard and said {said}"
    complete = [h for h in heard if h.completed_at is not None and h.completed_at <= complete_by]
    if len(turns) < len(complete):
        return (
            f"turns complete by {complete_by:.2f} not stored: stored {turns}, complete "
            f"{[(h.role, h.text, h.completed_at) for h in complete]}"
        )
    return None
