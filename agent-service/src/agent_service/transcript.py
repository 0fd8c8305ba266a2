"""The recorder of final turns: what the trainee and the caller actually said, in order.

Source: AgentSession's `conversation_item_added` events, one per final message (partial user
transcripts arrive as `user_input_transcribed` with is_final=False and are not needed). Items are
de-duplicated by id; items that are not user/assistant messages with text (an AgentHandoff, a
system message, an assistant reply interrupted before it said anything) are skipped; assistant
turns keep their `interrupted` flag. At the end the recorder is reconciled with `session.history`.

Ordering, and when a turn settles
---------------------------------
Turns are ordered by `created_at`, the moment a turn *started*: with the Realtime model the
trainee's final transcript often arrives after the caller's reply to it, dated to when the
trainee began speaking; a caller message arrives when its playout ends, dated to when it began.
So an item can arrive after items it precedes, and numbering turns on arrival would be wrong.

Turns are persisted while the call runs (turnOrder identifies a stored turn), so a number, once
sent, must never change. A turn therefore *settles* (is numbered, and delivery.py sends it) once
it is complete and nothing dated before it can still arrive: under_way.py follows what the call
has under way (trainee utterances whose transcript has not arrived, caller speeches not finished)
and every recorded turn dated before the earliest of those starts is final in position. When the
trainee is not speaking and none of their transcripts is in flight, the caller's finished line
settles as soon as its speech ends; the trainee's turn settles when its transcript arrives,
unless the caller was already speaking before the trainee began (then it waits for that speech
to end). What a worker killed mid-call cannot deliver is what is under way and the turns dated
after its start. If an item ever breaks the assumption (arrives dated before an already numbered
turn), it is placed right after the numbered prefix instead of renumbering stored turns, and a
warning is logged. When the call ends, `finalize()` numbers whatever is still pending.
"""

import asyncio
import bisect
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field

from livekit.agents import AgentSession, llm
from livekit.agents.voice.events import ConversationItemAddedEvent

from training_contracts import MAX_TURN_CONTENT_CHARS, Role, TranscriptTurn

from .under_way import TRANSCRIPT_WAIT_S, CallLater, Timer, UnderWay

logger = logging.getLogger(__name__)

_ROLES = {"user": Role.USER, "assistant": Role.ASSISTANT}


@dataclass(order=True)
class _Turn:
    sort_key: tuple[float, int]
    item_id: str = field(compare=False)
    role: Role = field(compare=False)
    content: str = field(compare=False)
    interrupted: bool = field(compare=False)


def _loop_call_later(delay: float, callback: Callable[[], None]) -> Timer:
    return asyncio.get_running_loop().call_later(delay, callback)


class TranscriptRecorder:
    """Collects final turns of one attempt and numbers them once their position is certain."""

    def __init__(
        self,
        attempt: int,
        *,
        on_settled: Callable[[], None] | None = None,
        transcript_wait: float = TRANSCRIPT_WAIT_S,
        call_later: CallLater = _loop_call_later,
    ) -> None:
        self.attempt = attempt
        self.on_settled = on_settled
        """Called whenever more turns have settled."""
        self.under_way = UnderWay(
            on_change=self._settle, call_later=call_later, transcript_wait=transcript_wait
        )
        self._ids: set[str] = set()
        self._frozen: list[_Turn] = []
        self._pending: list[_Turn] = []
        self._arrivals = 0

    def attach(self, session: AgentSession) -> None:  # type: ignore[type-arg]
        """Follow the session: its final messages, and what it has under way."""
        self.under_way.attach(session)
        session.on("conversation_item_added", self._on_conversation_item_added)

    def _on_conversation_item_added(self, event: ConversationItemAddedEvent) -> None:
        item = event.item
        if isinstance(item, llm.ChatMessage) and item.role == "user":
            # even an empty transcript ends the utterance it belongs to
            self.under_way.trainee_message(item.created_at)
        self.add(item)

    def add(self, item: object) -> bool:
        """Record one chat item and settle what can be; returns whether it became a turn."""
        recorded = self._record(item)
        self._settle()
        return recorded

    def _record(self, item: object) -> bool:
        if not isinstance(item, llm.ChatMessage):
            return False
        role = _ROLES.get(item.role)
        if role is None or item.id in self._ids:
            return False
        text = (item.text_content or "").strip()
        if not text:
            return False
        if len(text) > MAX_TURN_CONTENT_CHARS:
            logger.warning(
                "turn longer than the contract allows, truncated",
                extra={"item_id": item.id, "chars": len(text)},
            )
            text = text[:MAX_TURN_CONTENT_CHARS]

        self._ids.add(item.id)
        self._arrivals += 1
        created_at = item.created_at
        floor = self._frozen[-1].sort_key[0] if self._frozen else -math.inf
        if created_at < floor:
            logger.warning(
                "turn arrived dated before an already numbered turn; placed after it",
                extra={"item_id": item.id, "role": role.value, "late_by": floor - created_at},
            )
        turn = _Turn(
            sort_key=(max(created_at, floor), self._arrivals),
            item_id=item.id,
            role=role,
            content=text,
            interrupted=item.interrupted and role is Role.ASSISTANT,
        )
        bisect.insort(self._pending, turn)
        return True

    def _settle(self) -> None:
        """Number every pending turn dated before the earliest start of what is under way."""
        line = self.under_way.earliest()
        settled = 0
        while settled < len(self._pending) and self._pending[settled].sort_key[0] < line:
            settled += 1
        if settled:
            self._frozen.extend(self._pending[:settled])
            del self._pending[:settled]
            if self.on_settled is not None:
                self.on_settled()

    def reconcile(self, history: llm.ChatContext) -> int:
        """Add what the session's history has and the events missed; returns how many."""
        added = sum(1 for item in history.items if self.add(item))
        if added:
            logger.info("transcript reconciled with session history", extra={"added": added})
        return added

    def finalize(self) -> list[TranscriptTurn]:
        """The call is over: number the pending tail too and return every turn."""
        self.under_way.clear()
        self._frozen.extend(self._pending)
        self._pending.clear()
        return self.settled_turns()

    def settled_turns(self) -> list[TranscriptTurn]:
        """Turns whose order is final, numbered 1..k; later calls only ever append to this list."""
        return [
            TranscriptTurn(
                role=turn.role,
                content=turn.content,
                turn_order=index,
                attempt_number=self.attempt,
                interrupted=turn.interrupted,
            )
            for index, turn in enumerate(self._frozen, start=1)
        ]

    @property
    def settled_count(self) -> int:
        return len(self._frozen)

    @property
    def pending_count(self) -> int:
        return len(self._pending)
