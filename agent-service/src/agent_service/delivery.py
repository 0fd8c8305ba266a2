"""Getting a call's transcript to the token service: while the call goes and when it ends.

During the call, settled turns (see transcript.py) go out as soon as `batch_size` new ones have
settled (by default every turn as it settles, so a worker killed mid-call loses only what was
under way and what settled during the last POST), or every `interval` seconds when fewer have,
which is also how often a failed delivery is tried again. When the call
ends, the whole ordered transcript is sent once more with `final: true` (the endpoint stores a
turn once, so re-sent turns cost nothing, and the final batch alone is a complete transcript).
Every POST has its own timeout and bounded retries. Whatever could not be delivered is written to
the spool (spool.py), which the worker's main process empties (redelivery.py).
"""

import asyncio
import contextlib
import enum
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from uuid import UUID

import msgspec

from training_contracts import MAX_TURNS_PER_BATCH, ModelUsage, TranscriptBatch, TranscriptTurn

from . import metrics
from .api_client import ApiError, InternalApiClient
from .retry_policy import TRANSCRIPT_POLICY, RetryPolicy
from .spool import Spool, SpoolEntry
from .transcript import TranscriptRecorder

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeliveryOptions:
    """How a call's transcript goes out. The defaults are production's; tests shorten them."""

    policy: RetryPolicy = TRANSCRIPT_POLICY
    batch_size: int = 1
    """Settled turns that are worth a batch of their own before `interval` is up: one, so each
    turn is stored as soon as it settles (a turn a minute per role, a request per turn)."""
    interval: float = 10.0


def batches(
    turns: Sequence[TranscriptTurn], *, final: bool, usage: ModelUsage | None = None
) -> list[TranscriptBatch]:
    """Contract-sized batches; only the last one carries `final`, each carries `usage` (running
    totals, so any one of them is the whole figure). No turns: one empty batch."""
    chunks = [
        list(turns[i : i + MAX_TURNS_PER_BATCH]) for i in range(0, len(turns), MAX_TURNS_PER_BATCH)
    ]
    if not chunks:
        chunks = [[]]
    return [
        TranscriptBatch(turns=chunk, final=final and index == len(chunks) - 1, usage=usage)
        for index, chunk in enumerate(chunks)
    ]


class _Stage(enum.Enum):
    CURRENT = "current"
    """Everything known has been delivered, or is about to be; the spool holds nothing of it."""
    BEHIND = "behind"
    """A delivery failed: the spool holds turns the token service has not acknowledged."""
    FINISHED = "finished"
    """The final batch was delivered or spooled; nothing more goes out from this call."""


class TranscriptDelivery:
    """Delivers one session attempt's transcript."""

    def __init__(
        self,
        client: InternalApiClient,
        spool: Spool,
        session_id: UUID,
        attempt: int,
        options: DeliveryOptions = DeliveryOptions(),
        *,
        usage: Callable[[], ModelUsage | None] = lambda: None,
    ) -> None:
        """`usage` reads the Realtime model's usage of the call so far, for every batch."""
        self.session_id = session_id
        self._usage = usage
        self.attempt = attempt
        self._client = client
        self._spool = spool
        self._options = options
        self._delivered = 0
        self._stage = _Stage.CURRENT
        self._lock = asyncio.Lock()

    @property
    def delivered(self) -> int:
        """How many of the settled turns the token service has acknowledged."""
        return self._delivered

    @property
    def finished(self) -> bool:
        """The final batch was delivered or spooled."""
        return self._stage is _Stage.FINISHED

    async def run(self, recorder: TranscriptRecorder) -> None:
        """Deliver the recorder's settled turns as the call goes, until cancelled."""
        enough = asyncio.Event()

        def on_settled() -> None:
            if recorder.settled_count - self._delivered >= self._options.batch_size:
                enough.set()

        recorder.on_settled = on_settled
        on_settled()  # turns that settled before this task first ran
        try:
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(enough.wait(), self._options.interval)
                enough.clear()
                await self.deliver_settled(recorder.settled_turns())
        finally:
            recorder.on_settled = None

    async def deliver_settled(self, turns: list[TranscriptTurn]) -> bool:
        """Send the settled turns not delivered yet; on failure spool everything known so far."""
        async with self._lock:
            if self.finished or len(turns) <= self._delivered:
                return True
            try:
                usage = self._usage()
                for batch in batches(turns[self._delivered :], final=False, usage=usage):
                    await self._client.post_transcript(self.session_id, batch, self._options.policy)
                    self._delivered += len(batch.turns)
                    metrics.count_batch(metrics.BatchOutcome.DELIVERED)
            except ApiError as exc:
                logger.warning(
                    "transcript batch not delivered, spooled",
                    extra={"turns": len(turns), "delivered": self._delivered, "error": str(exc)},
                )
                self._write_spool(turns, final=False, reason=str(exc))
                return False
            logger.debug("transcript batch delivered", extra={"delivered": self._delivered})
            self._caught_up(len(turns), _Stage.CURRENT)
            return True

    async def finish(self, turns: list[TranscriptTurn], *, within: float) -> bool:
        """Send the complete transcript with `final: true` within `within` seconds, else spool it."""
        async with self._lock:
            if self.finished:
                return True
            started = time.monotonic()
            try:
                async with asyncio.timeout(within):
                    for batch in batches(turns, final=True, usage=self._usage()):
                        await self._client.post_transcript(
                            self.session_id, batch, self._options.policy
                        )
                        metrics.count_batch(metrics.BatchOutcome.DELIVERED)
            except (ApiError, TimeoutError) as exc:
                reason = str(exc) or f"no answer within {within:g} s"
                path = self._write_spool(turns, final=True, reason=reason)
                logger.warning(
                    "final transcript not delivered, spooled for redelivery",
                    extra={"turns": len(turns), "spool_file": str(path), "error": reason},
                )
                self._stage = _Stage.FINISHED
                return False
            self._caught_up(len(turns), _Stage.FINISHED)
            logger.info(
                "final transcript delivered",
                extra={"turns": len(turns), "elapsed": round(time.monotonic() - started, 3)},
            )
            return True

    def spool_final(self, turns: list[TranscriptTurn], reason: str) -> None:
        """The safety net when `finish` never ran: keep the transcript for redelivery."""
        if self.finished:
            return
        path = self._write_spool(turns, final=True, reason=reason)
        self._stage = _Stage.FINISHED
        logger.warning(
            "call ended without a final delivery; transcript spooled",
            extra={"turns": len(turns), "spool_file": str(path), "reason": reason},
        )

    def _caught_up(self, delivered: int, stage: _Stage) -> None:
        """`delivered` turns are acknowledged, which covers whatever the spool held of them."""
        self._delivered = delivered
        if self._stage is _Stage.BEHIND:
            self._spool.remove(self.session_id, self.attempt)
        self._stage = stage

    def _write_spool(self, turns: list[TranscriptTurn], *, final: bool, reason: str) -> str | None:
        """The spool file's path, or None when even the spool failed (then the log has it all)."""
        entry = SpoolEntry(
            session_id=self.session_id,
            attempt=self.attempt,
            turns=turns,
            final=final,
            spooled_at=time.time(),
            reason=reason,
            usage=self._usage(),
        )
        try:
            path = self._spool.write(entry)
        except OSError:
            # The last place the transcript can go: the log, in full, so it can be recovered.
            logger.exception(
                "transcript could not be spooled",
                extra={
                    "spool_dir": str(self._spool.directory),
                    "lk.pii.transcript": msgspec.json.encode(entry).decode(),
                },
            )
            return None
        metrics.count_batch(metrics.BatchOutcome.SPOOLED)
        self._stage = _Stage.BEHIND
        return str(path)
