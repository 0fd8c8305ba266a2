"""No silent room, no attempt left open by a lost caller: LiveKit's webhooks kept as room state in
Postgres (repository.py), and the sweep that acts on it.

- A trainee in a room without a caller for `join_bound_s` (no worker could take the job, e.g.
  during a deploy) gets the caller dispatched again; so does a trainee whose caller left while
  they were still there (its worker was lost), at once. At most `tries` dispatches per wait,
  `backoff_s` apart, doubling up to `backoff_max_s` (a worker that registers meanwhile gets the
  trainee within that); then the room's metadata says `unavailable`. While one is
  being dispatched it says `redialing`; a caller joining clears it.
- The caller leaving a room its trainee is still in, or the room finishing, closes the room's
  session attempt with the turns stored so far, marked cut short, unless the agent's final
  transcript completed it already.

Webhooks for one room can land on any token service process, and every process sweeps: the
state is in Postgres and the sweep claims due rooms with FOR UPDATE SKIP LOCKED.
"""

import asyncio
import contextlib
import logging
from dataclasses import dataclass

import psycopg
from livekit.protocol.models import ParticipantInfo
from livekit.protocol.webhook import WebhookEvent

from training_contracts import ATTR_ERROR, ROOM_NAME_PREFIX, CallerStatus

from ..db import Pool
from . import repository
from .livekit import DispatchAgain, Redispatch, RoomControl

logger = logging.getLogger("token_service.rooms")

_TRAINEE = ParticipantInfo.Kind.STANDARD
_AGENT = ParticipantInfo.Kind.AGENT
_LEFT = frozenset({"participant_left", "participant_connection_aborted"})


@dataclass(frozen=True, slots=True)
class RoomPolicy:
    join_bound_s: float
    """A trainee without a caller this long gets a new dispatch."""
    tries: int
    """Dispatches per wait, at most."""
    backoff_s: float
    """Between the first two tries; doubles after each, up to `backoff_max_s`."""
    backoff_max_s: float


class CallRooms:
    def __init__(self, pool: Pool, control: RoomControl, policy: RoomPolicy) -> None:
        self._pool = pool
        self._control = control
        self._policy = policy

    # -- webhooks --------------------------------------------------------------------------------

    async def apply(self, event: WebhookEvent) -> None:
        """Take one verified webhook into the room's state; rooms of other apps are ignored."""
        room = event.room.name
        if not room.startswith(ROOM_NAME_PREFIX):
            return
        kind = event.participant.kind
        sid = event.participant.sid
        if event.event == "room_started":
            async with self._pool.connection() as conn:
                await repository.room_started(conn, room)
        elif event.event == "room_finished":
            await self._room_finished(room)
        elif event.event == "participant_joined" and kind == _TRAINEE:
            async with self._pool.connection() as conn:
                await repository.trainee_joined(conn, room, sid, self._policy.join_bound_s)
        elif event.event == "participant_joined" and kind == _AGENT:
            async with self._pool.connection() as conn:
                had_notice = await repository.agent_joined(conn, room, sid)
            if had_notice:
                await self._control.set_notice(room, None)
        elif event.event in _LEFT and kind == _TRAINEE:
            async with self._pool.connection() as conn:
                await repository.trainee_left(conn, room, sid)
        elif event.event in _LEFT and kind == _AGENT:
            # A caller that published `error` ended the call itself and told the page why.
            replace = not event.participant.attributes.get(ATTR_ERROR)
            async with self._pool.connection() as conn:
                left = await repository.agent_left(conn, room, sid, replace=replace)
            if not left.lost:
                return
            if not await self._control.trainee_present(room):
                # The trainee's leaving never reached us: a hang-up, not a lost caller.
                async with self._pool.connection() as conn:
                    await repository.trainee_left(conn, room, None)
                return
            logger.warning("caller lost with the trainee in room %s", room)
            await self._close(left.session_id, left.attempt, "agent_left", room)

    async def _room_finished(self, room: str) -> None:
        async with self._pool.connection() as conn:
            session_id, attempt = await repository.room_finished(conn, room)
        await self._close(session_id, attempt, "room_finished", room)

    async def _close(
        self, session_id: str | None, attempt: int | None, reason: str, room: str
    ) -> None:
        if session_id is None or attempt is None:
            return
        async with self._pool.connection() as conn:
            closed = await repository.close_cut_short(conn, session_id, attempt, reason)
        if closed:
            logger.warning(
                "attempt %d of session %s (room %s) closed cut short: %s",
                attempt,
                session_id,
                room,
                reason,
            )

    # -- the sweep -------------------------------------------------------------------------------

    async def sweep(self) -> None:
        """One round: dispatch the caller into rooms whose trainee waited past the due time,
        and tell the rooms whose last try ran out that no caller is coming."""
        policy = self._policy
        async with self._pool.connection() as conn:
            due = await repository.claim_due(
                conn,
                tries=policy.tries,
                backoff_s=policy.backoff_s,
                backoff_max_s=policy.backoff_max_s,
            )
            given_up = await repository.claim_given_up(conn, tries=policy.tries)
        for room in due:
            await self._redispatch(room)
        for name in given_up:
            logger.error("no caller came to room %s after the last dispatch", name)
            await self._notify(name, CallerStatus.UNAVAILABLE)

    async def _redispatch(self, due: repository.DueRoom) -> None:
        # A lost caller's job does not count; the first caller's job may predate the webhook
        # that started the wait.
        jobs_since = due.waiting_since.timestamp() if due.agent_seen else 0.0
        match await self._control.plan_redispatch(due.room, jobs_since):
            case DispatchAgain(metadata=metadata):
                if due.dispatches == 1:
                    # Before the dispatch: the caller it brings clears the notice when it joins.
                    await self._notify(due.room, CallerStatus.REDIALING)
                outcome = await self._control.dispatch(due.room, metadata)
            case Redispatch() as needless:
                outcome = needless
        logger.warning(
            "trainee without a caller in %s: try %d: %s", due.room, due.dispatches, outcome.value
        )
        if outcome is Redispatch.NO_TRAINEE:
            async with self._pool.connection() as conn:
                await repository.trainee_left(conn, due.room, None)
        elif outcome is Redispatch.ROOM_GONE:
            await self._room_finished(due.room)

    async def _notify(self, room: str, caller: CallerStatus) -> None:
        # The row first: a caller joining from now on finds a notice to clear.
        async with self._pool.connection() as conn:
            await repository.set_notice(conn, room, caller.value)
        await self._control.set_notice(room, caller)


class Sweeper:
    """Sweeps every `interval_s` in a task of its own until `aclose`; a failed round is logged
    and the next one runs. Stopping waits for the round under way, at most STOP_TIMEOUT_S (a
    stop flag, not only a cancellation: a driver may absorb a cancellation mid-query)."""

    STOP_TIMEOUT_S = 5.0

    def __init__(self, rooms: CallRooms, interval_s: float) -> None:
        self._rooms = rooms
        self._interval_s = interval_s
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="room_sweeper")

    async def aclose(self) -> None:
        if self._task is None:
            return
        self._stop.set()
        try:
            await asyncio.wait_for(self._task, self.STOP_TIMEOUT_S)
        except TimeoutError:
            logger.warning("room sweep did not stop in time; cancelled")

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                await self._rooms.sweep()
            except psycopg.OperationalError as exc:
                logger.warning("room sweep skipped, database unavailable: %s", exc)
            except Exception:
                logger.exception("room sweep failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self._interval_s)
