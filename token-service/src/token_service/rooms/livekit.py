"""What the token service asks of livekit-server about a room: dispatch the caller again, and
tell the page about its caller through the room's metadata (training_contracts.rooms)."""

import enum
import logging
import time
from dataclasses import dataclass

import msgspec
from livekit import api

from training_contracts import AGENT_NAME, CallerStatus, RoomNotice

logger = logging.getLogger("token_service.rooms")


class Redispatch(enum.Enum):
    DISPATCHED = "dispatched"
    CALLER_COMING = "caller_coming"
    """A worker took a job for the room since the trainee started waiting, within
    ACCEPTED_JOB_BOUND_S: its caller is on its way (a busy worker's job process may be slow)."""
    ROOM_GONE = "room_gone"
    NO_TRAINEE = "no_trainee"
    """Nobody is waiting after all (the webhook of the trainee's leaving was lost)."""
    NO_DISPATCH = "no_dispatch"
    """The room has no dispatch of the caller to copy: it was not made by the token service."""


@dataclass(frozen=True)
class DispatchAgain:
    """Dispatch the caller into the room again, with its original dispatch's metadata (the
    token's: the same assignment, scenario and user)."""

    metadata: str


RedispatchPlan = DispatchAgain | Redispatch
"""What `plan_redispatch` found: dispatch again, or the outcome that makes it needless."""


def _not_found(exc: api.TwirpError) -> bool:
    return exc.code == api.TwirpErrorCode.NOT_FOUND


ACCEPTED_JOB_BOUND_S = 30.0
"""How long a job a worker accepted may take to bring its caller into the room before another
is dispatched: two callers in one room would be worse than a late one."""


class RoomControl:
    """livekit-server's API for the rooms of training calls; one per process."""

    def __init__(self, lkapi: api.LiveKitAPI) -> None:
        self._api = lkapi

    async def trainee_present(self, room: str) -> bool:
        """Whether a trainee is in the room now, as livekit-server sees it (webhooks can be lost:
        livekit-server drops one it could not deliver for 30 s)."""
        try:
            participants = await self._api.room.list_participants(
                api.ListParticipantsRequest(room=room)
            )
        except api.TwirpError as exc:
            if _not_found(exc):
                return False
            raise
        return any(p.kind == api.ParticipantInfo.Kind.STANDARD for p in participants.participants)

    async def plan_redispatch(self, room: str, jobs_since: float) -> RedispatchPlan:
        """Whether to dispatch the caller into `room` again (DispatchAgain), or why not to:
        nobody waits, the room is gone, it has no dispatch of ours, or a worker took a job for
        it since `jobs_since` (epoch seconds), less than ACCEPTED_JOB_BOUND_S ago."""
        if not await self.trainee_present(room):
            return Redispatch.NO_TRAINEE
        try:
            dispatches = await self._api.agent_dispatch.list_dispatch(room)
        except api.TwirpError as exc:
            if _not_found(exc):
                return Redispatch.ROOM_GONE
            raise
        ours = [d for d in dispatches if d.agent_name == AGENT_NAME]
        if not ours:
            return Redispatch.NO_DISPATCH
        since_ns = max(jobs_since, time.time() - ACCEPTED_JOB_BOUND_S) * 1e9
        if any(job.state.started_at >= since_ns for d in ours for job in d.state.jobs):
            return Redispatch.CALLER_COMING
        return DispatchAgain(metadata=ours[0].metadata)

    async def dispatch(self, room: str, metadata: str) -> Redispatch:
        request = api.CreateAgentDispatchRequest(
            agent_name=AGENT_NAME, room=room, metadata=metadata
        )
        try:
            await self._api.agent_dispatch.create_dispatch(request)
        except api.TwirpError as exc:
            if _not_found(exc):
                return Redispatch.ROOM_GONE
            raise
        return Redispatch.DISPATCHED

    async def set_notice(self, room: str, caller: CallerStatus | None) -> None:
        """The room's metadata: a RoomNotice, or empty once the caller is back."""
        metadata = (
            msgspec.json.encode(RoomNotice(caller=caller)).decode() if caller is not None else ""
        )
        try:
            await self._api.room.update_room_metadata(
                api.UpdateRoomMetadataRequest(room=room, metadata=metadata)
            )
        except api.TwirpError as exc:
            if not _not_found(exc):
                raise


def webhook_receiver(api_key: str, api_secret: str) -> api.WebhookReceiver:
    """Verifies a webhook's signature: a JWT of the API key holding the body's SHA-256."""
    return api.WebhookReceiver(api.TokenVerifier(api_key, api_secret))
