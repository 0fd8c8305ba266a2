"""The recorder of final turns: what the trainee and the caller actually said, in order.

Source: AgentSession's `conversation_item_added` events, one per final message (partial user
transcripts arrive as `user_input_transcribed` with is_final=False and are not needed). Items are
de-duplicated by id; items that are not user/assistant messages with text (an AgentHandoff, a
system message, an assistant reply interrupted before it said anything) are skipped; assistant
turns keep their `interrupted` flag. At the end the recorder is reconciled with `session.history`.

Ordering, and why turns "settle" before they are numbered
---------------------------------------------------------
Turns are ordered by `created_at`, the moment a turn *started*: with the Realtime model the
trainee's final transcript often arrives after the caller's reply to it, dated to when the trainee
began speaking; an assistant message arrives when its playout ends, dated to when it began. So an
item can arrive after items it precedes, and numbering turns on arrival would be wrong.

Turns are persisted while the call runs (turnOrder identifies a stored turn), so a number, once
sent, must never change. The recorder therefore only numbers a *settled prefix*: within one role,
turns start one after the other, so a future item of role R cannot be dated before the newest R
item seen so far. Every future item is thus dated at or after the watermark
`min(newest user created_at, newest assistant created_at)`, and every pending turn dated at or
before it is final in position (a future item dated exactly at the watermark sorts after it, by
arrival). Those turns are frozen with turn orders 1..k; the tail stays pending until both roles
have moved past it, or until the call ends and `finalize()` numbers the rest. In a conversation
that alternates, the tail is the newest final turn alone: that, and what was being said, is what
a worker killed mid-call cannot deliver (delivery.py sends every turn as it settles). If an item ever breaks the assumption (arrives dated before an already numbered turn), it
is placed right after the numbered prefix instead of renumbering stored turns, and a warning is
logged.
"""

import bisect
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field

from livekit.agents import AgentSession, llm
from livekit.agents.voice.events import ConversationItemAddedEvent

from training_contracts import MAX_TURN_CONTENT_CHARS, Role, TranscriptTurn

logger = logging.getLogger(__name__)

_ROLES = {"user": Role.USER, "assistant": Role.ASSISTANT}


@dataclass(order=True)
class _Turn:
    sort_key: tuple[float, int]
    item_id: str = field(compare=False)
    role: Role = field(compare=False)
    content: str = field(compare=False)
    interrupted: bool = field(compare=False)


class TranscriptRecorder:
    """Collects final turns of one attempt and numbers them once their position is certain."""

    def __init__(self, attempt: int, *, on_settled: Callable[[], None] | None = None) -> None:
        self.attempt = attempt
        self.on_settled = on_settled
        """Called whenever more turns have settled."""
        self._ids: set[str] = set()
        self._frozen: list[_Turn] = []
        self._pending: list[_Turn] = []
        self._newest: dict[Role, float] = {}
        self._arrivals = 0

    def attach(self, session: AgentSession) -> None:  # type: ignore[type-arg]
        session.on("conversation_item_added", self._on_conversation_item_added)

    def _on_conversation_item_added(self, event: ConversationItemAddedEvent) -> None:
        self.add(event.item)

    def add(self, item: object) -> bool:
        """Record one chat item; returns whether it became a turn."""
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
        self._newest[role] = max(self._newest.get(role, -math.inf), created_at)
        self._settle()
        return True

    def _settle(self) -> None:
        if len(self._newest) < len(_ROLES):
            return
        watermark = min(self._newest.values())
        settled = 0
        while settled < len(self._pending) and self._pending[settled].sort_key[0] <= watermark:
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
