"""What a call has under way that may still add a turn dated in the past.

The recorder (transcript.py) numbers a turn only once no turn dated before it can still arrive.
A turn is dated to when it *started*, and only two things can still deliver one dated before now:
- a trainee utterance that has started but whose final transcript has not arrived: the Realtime
  model sends it after the trainee stopped speaking, often after the caller's reply to it, dated
  to when the trainee began (livekit-agents stamps `created_at` at `speech_started`);
- a caller speech (a SpeechHandle) that has not finished: its message is added when its playout
  ends, dated to its first frame, which comes after the handle was created.
Anything that has not started yet will be dated later than now. So the earliest start among
what is under way is the line before which every recorded turn is final in position.

Both are followed through the AgentSession's events: `user_state_changed` (the model's
`speech_started`/`speech_stopped`) opens and stops an utterance, the trainee's message arriving
(`conversation_item_added`, dated to the utterance's start) closes it, and `speech_created`
opens a speech that its handle's done callback closes. A transcription that fails without a
partial transcript tells the session nothing, so an utterance that stopped `transcript_wait`
seconds ago without one is given up: later turns stop waiting for it (if its transcript does
come after all, the recorder places it after the turns already numbered).
"""

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from livekit.agents import AgentSession
from livekit.agents.voice import SpeechCreatedEvent, SpeechHandle, UserStateChangedEvent

logger = logging.getLogger(__name__)

TRANSCRIPT_WAIT_S = 10.0
"""How long after the trainee stopped speaking their transcript is waited for; the model's
transcription normally lands within a second or two, so only a failed one is given up."""
SAME_UTTERANCE_S = 0.25
"""A trainee message belongs to the open utterance whose start it carries. The plugin stamps the
message and the session stamps the user-state event within the same callback, microseconds
apart; utterances themselves are at least the model's silence window apart."""


class Timer(Protocol):
    def cancel(self) -> None: ...


CallLater = Callable[[float, Callable[[], None]], Timer]
"""`loop.call_later`, or a test's stand-in."""


@dataclass(eq=False)
class _Utterance:
    """Compared by identity: two utterances may start at the same instant in a test."""

    started_at: float
    stopped: bool = False
    timer: Timer | None = None


class UnderWay:
    """The trainee utterances and caller speeches of one call that are not recorded yet."""

    def __init__(
        self,
        *,
        on_change: Callable[[], None],
        call_later: CallLater,
        transcript_wait: float = TRANSCRIPT_WAIT_S,
    ) -> None:
        """`on_change` is called when something under way ended without a turn of its own
        arriving (a speech finished, an utterance given up): turns may have settled."""
        self._on_change = on_change
        self._call_later = call_later
        self._transcript_wait = transcript_wait
        self._utterances: list[_Utterance] = []
        self._speeches: dict[SpeechHandle, float] = {}

    def attach(self, session: AgentSession) -> None:  # type: ignore[type-arg]
        session.on("user_state_changed", self._on_user_state_changed)
        session.on("speech_created", self._on_speech_created)

    def earliest(self) -> float:
        """The earliest start among what is under way; infinity when nothing is."""
        starts = [u.started_at for u in self._utterances] + list(self._speeches.values())
        return min(starts, default=math.inf)

    @property
    def trainee_utterances(self) -> int:
        """Trainee utterances started whose transcript has not arrived."""
        return len(self._utterances)

    def trainee_message(self, created_at: float) -> None:
        """A trainee message arrived: it closes the utterance whose start it carries."""
        if not self._utterances:
            return
        nearest = min(self._utterances, key=lambda u: abs(u.started_at - created_at))
        if abs(nearest.started_at - created_at) <= SAME_UTTERANCE_S:
            self._close(nearest)

    def clear(self) -> None:
        """The call is over: nothing more will arrive."""
        for utterance in list(self._utterances):
            self._close(utterance)
        self._speeches.clear()

    def _on_user_state_changed(self, event: UserStateChangedEvent) -> None:
        if event.new_state == "speaking":
            self._utterances.append(_Utterance(started_at=event.created_at))
        elif event.old_state == "speaking":
            speaking = [u for u in self._utterances if not u.stopped]
            if speaking:
                utterance = speaking[-1]
                utterance.stopped = True
                utterance.timer = self._call_later(
                    self._transcript_wait, lambda: self._give_up(utterance)
                )

    def _on_speech_created(self, event: SpeechCreatedEvent) -> None:
        handle = event.speech_handle
        if handle.done():
            return
        self._speeches[handle] = event.created_at
        handle.add_done_callback(self._speech_done)

    def _speech_done(self, handle: SpeechHandle) -> None:
        if self._speeches.pop(handle, None) is not None:
            self._on_change()

    def _give_up(self, utterance: _Utterance) -> None:
        if not any(u is utterance for u in self._utterances):
            return
        logger.warning(
            "no transcript of the trainee's turn; later turns no longer wait for it",
            extra={"waited_s": self._transcript_wait},
        )
        self._close(utterance)
        self._on_change()

    def _close(self, utterance: _Utterance) -> None:
        if utterance.timer is not None:
            utterance.timer.cancel()
        self._utterances = [u for u in self._utterances if u is not utterance]
