"""Whether the trainee is still on the call.

RoomIO closes the session when the trainee leaves on purpose; this watcher covers every other way
of going (tab closed, connection lost): once no trainee is in the room and none comes back within
the grace a reconnecting client needs, it calls `on_gone`.
"""

import asyncio
import logging
from collections.abc import Callable

from livekit import rtc

logger = logging.getLogger(__name__)

_MAY_REJOIN = frozenset(
    {
        rtc.DisconnectReason.UNKNOWN_REASON,
        rtc.DisconnectReason.SIGNAL_CLOSE,
        rtc.DisconnectReason.MIGRATION,
        rtc.DisconnectReason.STATE_MISMATCH,
        rtc.DisconnectReason.MEDIA_FAILURE,
    }
)
"""Disconnect reasons after which the trainee's client may rejoin as a new participant."""


class TraineePresence:
    def __init__(self, room: rtc.Room, *, rejoin_grace: float, on_gone: Callable[[], None]) -> None:
        self._room = room
        self._rejoin_grace = rejoin_grace
        self._on_gone = on_gone
        self._gone: asyncio.TimerHandle | None = None

    def watch(self) -> None:
        """From now on; a trainee not in the room yet gets the grace to (re)join."""
        self._room.on("participant_connected", self._on_participant_connected)
        self._room.on("participant_disconnected", self._on_participant_disconnected)
        if not self._present():
            self._schedule_gone(self._rejoin_grace)

    def close(self) -> None:
        """The call is ending: stop watching."""
        self._room.off("participant_connected", self._on_participant_connected)
        self._room.off("participant_disconnected", self._on_participant_disconnected)
        if self._gone is not None:
            self._gone.cancel()
            self._gone = None

    def _present(self) -> bool:
        return any(
            p.kind == rtc.ParticipantKind.PARTICIPANT_KIND_STANDARD
            for p in self._room.remote_participants.values()
        )

    def _on_participant_connected(self, participant: rtc.RemoteParticipant) -> None:
        if self._gone is not None and self._present():
            self._gone.cancel()
            self._gone = None
            logger.info("trainee rejoined", extra={"participant": participant.identity})

    def _on_participant_disconnected(self, participant: rtc.RemoteParticipant) -> None:
        if participant.kind != rtc.ParticipantKind.PARTICIPANT_KIND_STANDARD:
            return
        reason = participant.disconnect_reason or rtc.DisconnectReason.UNKNOWN_REASON
        logger.info(
            "trainee left",
            extra={
                "participant": participant.identity,
                "reason": rtc.DisconnectReason.Name(reason),
            },
        )
        if not self._present():
            # A leave, a removal or a connection the server already timed out will not come
            # back; a dropped signal connection may, as a fresh participant, within seconds.
            self._schedule_gone(self._rejoin_grace if reason in _MAY_REJOIN else 0.0)

    def _schedule_gone(self, grace: float) -> None:
        if self._gone is None:
            self._gone = asyncio.get_running_loop().call_later(grace, self._end_if_absent)

    def _end_if_absent(self) -> None:
        self._gone = None
        if not self._present():
            self._on_gone()
