"""Getting transcripts to the token service: during the call, at its end, and after failures.

During the call, settled turns (see transcript.py) go out in small batches: as soon as
`batch_size` new ones have settled, or every `interval` seconds when fewer have. When the call
ends, the whole ordered transcript is sent once more with `final: true` (the endpoint stores a
turn once, so re-sent turns cost nothing, and the final batch alone is a complete transcript).
Every POST has its own timeout and bounded retries. Whatever could not be delivered is written to
the spool (spool.py) and sent later by the worker's main process: on start-up and every
`SPOOL_RETRY_INTERVAL` seconds after.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from uuid import UUID

import msgspec

from training_contracts import MAX_TURNS_PER_BATCH, TranscriptBatch, TranscriptTurn

from .api_client import (
    TRANSCRIPT_POLICY,
    ApiError,
    InternalApiClient,
    NotFound,
    Rejected,
    RetryPolicy,
    Unavailable,
)
from .spool import Spool, SpoolEntry

logger = logging.getLogger(__name__)

SPOOL_RETRY_INTERVAL = 30.0


def batches(turns: Sequence[TranscriptTurn], *, final: bool) -> list[TranscriptBatch]:
    """Contract-sized batches; only the last one carries `final`. No turns: one empty batch."""
    chunks = [
        list(turns[i : i + MAX_TURNS_PER_BATCH]) for i in range(0, len(turns), MAX_TURNS_PER_BATCH)
    ]
    if not chunks:
        chunks = [[]]
    return [
        TranscriptBatch(turns=chunk, final=final and index == len(chunks) - 1)
        for index, chunk in enumerate(chunks)
    ]


class TranscriptDelivery:
    """Delivers one session attempt's transcript."""

    def __init__(
        self,
        client: InternalApiClient,
        spool: Spool,
        session_id: UUID,
        attempt: int,
        *,
        policy: RetryPolicy = TRANSCRIPT_POLICY,
        batch_size: int = 4,
        interval: float = 10.0,
    ) -> None:
        self.session_id = session_id
        self.attempt = attempt
        self._client = client
        self._spool = spool
        self._policy = policy
        self._batch_size = batch_size
        self._interval = interval
        self._delivered = 0
        self._spooled = False
        self._finished = False
        self._lock = asyncio.Lock()
        self._kick = asyncio.Event()

    @property
    def delivered(self) -> int:
        """How many of the settled turns the token service has acknowledged."""
        return self._delivered

    @property
    def finished(self) -> bool:
        """The final batch was delivered or spooled."""
        return self._finished

    def notify_settled(self, settled: int) -> None:
        if settled - self._delivered >= self._batch_size:
            self._kick.set()

    async def run(self, settled_turns: Callable[[], list[TranscriptTurn]]) -> None:
        """Deliver settled turns as the call goes, until cancelled."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._kick.wait(), self._interval)
            self._kick.clear()
            await self.deliver_settled(settled_turns())

    async def deliver_settled(self, turns: list[TranscriptTurn]) -> bool:
        """Send the settled turns not delivered yet; on failure spool everything known so far."""
        async with self._lock:
            if self._finished or len(turns) <= self._delivered:
                return True
            try:
                for batch in batches(turns[self._delivered :], final=False):
                    await self._client.post_transcript(self.session_id, batch, self._policy)
                    self._delivered += len(batch.turns)
            except ApiError as exc:
                logger.warning(
                    "transcript batch not delivered, spooled",
                    extra={"turns": len(turns), "delivered": self._delivered, "error": str(exc)},
                )
                self._write_spool(turns, final=False, reason=str(exc))
                return False
            logger.debug("transcript batch delivered", extra={"delivered": self._delivered})
            if self._spooled:
                self._spool.remove(self.session_id, self.attempt)
                self._spooled = False
            return True

    async def finish(self, turns: list[TranscriptTurn], *, within: float) -> bool:
        """Send the complete transcript with `final: true` within `within` seconds, else spool it."""
        async with self._lock:
            if self._finished:
                return True
            started = time.monotonic()
            try:
                async with asyncio.timeout(within):
                    for batch in batches(turns, final=True):
                        await self._client.post_transcript(self.session_id, batch, self._policy)
            except (ApiError, TimeoutError) as exc:
                reason = str(exc) or f"no answer within {within:g} s"
                path = self._write_spool(turns, final=True, reason=reason)
                logger.warning(
                    "final transcript not delivered, spooled for redelivery",
                    extra={"turns": len(turns), "spool_file": str(path), "error": reason},
                )
                self._finished = True
                return False
            self._delivered = len(turns)
            self._finished = True
            if self._spooled:
                self._spool.remove(self.session_id, self.attempt)
                self._spooled = False
            logger.info(
                "final transcript delivered",
                extra={"turns": len(turns), "elapsed": round(time.monotonic() - started, 3)},
            )
            return True

    def spool_final(self, turns: list[TranscriptTurn], reason: str) -> None:
        """The safety net when `finish` never ran: keep the transcript for redelivery."""
        if self._finished:
            return
        path = self._write_spool(turns, final=True, reason=reason)
        self._finished = True
        logger.warning(
            "call ended without a final delivery; transcript spooled",
            extra={"turns": len(turns), "spool_file": str(path), "reason": reason},
        )

    def _write_spool(self, turns: list[TranscriptTurn], *, final: bool, reason: str) -> str | None:
        """The spool file's path, or None when even the spool failed (then the log has it all)."""
        entry = SpoolEntry(
            session_id=self.session_id,
            attempt=self.attempt,
            turns=turns,
            final=final,
            spooled_at=time.time(),
            reason=reason,
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
        self._spooled = True
        return str(path)


@dataclass
class RedeliveryReport:
    delivered: int = 0
    failed: int = 0
    buried: int = 0


async def redeliver_spool(
    spool: Spool, client: InternalApiClient, *, policy: RetryPolicy = TRANSCRIPT_POLICY
) -> RedeliveryReport:
    """One pass over the spool. Stops at the first file the service cannot take right now."""
    report = RedeliveryReport()
    for claimed in spool.claim_all():
        entry = claimed.entry
        try:
            for batch in batches(entry.turns, final=entry.final):
                await client.post_transcript(entry.session_id, batch, policy)
        except (NotFound, Rejected) as exc:
            spool.bury(claimed, str(exc))
            report.buried += 1
        except Unavailable as exc:
            spool.release(claimed)
            report.failed += 1
            logger.warning(
                "token service still unavailable, spooled transcripts kept",
                extra={"session_id": str(entry.session_id), "error": str(exc)},
            )
            break
        except BaseException:
            spool.release(claimed)
            raise
        else:
            spool.done(claimed)
            report.delivered += 1
            logger.info(
                "spooled transcript delivered",
                extra={
                    "session_id": str(entry.session_id),
                    "attempt": entry.attempt,
                    "turns": len(entry.turns),
                    "final": entry.final,
                },
            )
    return report


class SpoolRedeliverer:
    """The worker main process's background task that empties the spool."""

    def __init__(
        self,
        spool: Spool,
        client: InternalApiClient,
        *,
        interval: float = SPOOL_RETRY_INTERVAL,
    ) -> None:
        self._spool = spool
        self._client = client
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="spool_redelivery")

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        try:
            while True:
                try:
                    report = await redeliver_spool(self._spool, self._client)
                except Exception:
                    logger.exception("spool redelivery pass failed")
                else:
                    if report.delivered or report.buried:
                        logger.info(
                            "spool redelivery pass",
                            extra={
                                "delivered": report.delivered,
                                "failed": report.failed,
                                "buried": report.buried,
                            },
                        )
                await asyncio.sleep(self._interval)
        finally:
            await self._client.aclose()
