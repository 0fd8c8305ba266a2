"""Sending spooled transcripts and recordings: the worker's main process, on start-up and
whenever the spools hold something.

Transcripts land in the spool (spool.py) when a job could not deliver them, recordings in the
recording spool (recording.py) at the end of every recorded call, delivered or not yet; either
may be from an earlier run of the worker. Both endpoints store a thing once, so sending a file
again is safe, and a file is claimed before it is sent, so no two senders send it at once.

The spools are looked at every `spool_retry_interval` seconds (settings.py; a directory listing).
When a pass finds the token service unavailable, the redeliverer waits for it to answer its
readiness check, probing `PROBE_FIRST_S` after the failure and then twice as long each time up to
`PROBE_MAX_S`: a service that is down sees one cheap GET every few seconds from each worker, and
a spooled transcript goes out within `PROBE_MAX_S` of the service answering again.
"""

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from uuid import UUID

from . import metrics
from .api_client import (
    TRANSCRIPT_POLICY,
    InternalApiClient,
    NotFound,
    Rejected,
    RetryPolicy,
    Unavailable,
)
from .delivery import batches
from .recording import ClaimedRecording, RecordingSpool
from .recording_delivery import RECORDING_POLICY, send
from .spool import ClaimedEntry, Spool

logger = logging.getLogger(__name__)

PROBE_FIRST_S = 0.5
PROBE_MAX_S = 4.0
PROBE_TIMEOUT_S = 2.0


@dataclass
class RedeliveryReport:
    delivered: int = 0
    failed: int = 0
    buried: int = 0


Logged = dict[str, object]
"""What a delivery's log line says about what was sent."""


async def redeliver_spool(
    spool: Spool, client: InternalApiClient, *, policy: RetryPolicy = TRANSCRIPT_POLICY
) -> RedeliveryReport:
    """One pass over the spool. Stops at the first file the service cannot take right now."""

    async def send_one(claimed: ClaimedEntry) -> Logged | None:
        entry = claimed.entry
        try:
            for batch in batches(entry.turns, final=entry.final, usage=entry.usage):
                await client.post_transcript(entry.session_id, batch, policy)
        except (NotFound, Rejected) as exc:
            spool.bury(claimed, str(exc))
            return None
        except BaseException:
            spool.release(claimed)
            raise
        spool.done(claimed)
        metrics.count_batch(metrics.BatchOutcome.REDELIVERED)
        return {"attempt": entry.attempt, "turns": len(entry.turns), "final": entry.final}

    sends = ((c.entry.session_id, functools.partial(send_one, c)) for c in spool.claim_all())
    return await _drain(sends, "transcript")


async def redeliver_recordings(
    spool: RecordingSpool, client: InternalApiClient, *, policy: RetryPolicy = RECORDING_POLICY
) -> RedeliveryReport:
    """One pass over the recording spool. Stops at the first file the service cannot take now."""

    async def send_one(claimed: ClaimedRecording) -> Logged | None:
        ack = await send(spool, claimed, client, policy)
        if ack is None:
            return None
        return {"attempt": claimed.recording.attempt, "stored": ack.stored, "bytes": ack.size_bytes}

    sends = ((c.recording.session_id, functools.partial(send_one, c)) for c in spool.claim_all())
    return await _drain(sends, "recording")


async def _drain(
    sends: Iterator[tuple[UUID, Callable[[], Awaitable[Logged | None]]]], what: str
) -> RedeliveryReport:
    """Send one spooled file after the other: delivered (what to log), buried (None), or
    Unavailable, which ends the pass; the sends are lazy, so the rest stays unclaimed."""
    report = RedeliveryReport()
    for session_id, send_one in sends:
        try:
            delivered = await send_one()
        except Unavailable as exc:
            report.failed += 1
            logger.warning(
                f"token service still unavailable, spooled {what}s kept",
                extra={"session_id": str(session_id), "error": str(exc)},
            )
            break
        if delivered is None:
            report.buried += 1
            continue
        report.delivered += 1
        logger.info(f"spooled {what} delivered", extra={"session_id": str(session_id), **delivered})
    return report


class SpoolRedeliverer:
    """The worker main process's background task that empties the spool.

    It opens its API client on the loop it runs on (an aiohttp session belongs to one loop) and
    closes it when the task ends.
    """

    def __init__(
        self,
        spool: Spool,
        recordings: RecordingSpool,
        new_client: Callable[[], InternalApiClient],
        *,
        interval: float,
        probe_first: float = PROBE_FIRST_S,
        probe_max: float = PROBE_MAX_S,
    ) -> None:
        self._spool = spool
        self._recordings = recordings
        self._new_client = new_client
        self._interval = interval
        self._probe_first = probe_first
        self._probe_max = probe_max
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
        client = self._new_client()
        try:
            while True:
                if not await self._pass(client):
                    await self._until_ready(client)
                    continue
                await asyncio.sleep(self._interval)
        finally:
            await client.aclose()

    async def _until_ready(self, client: InternalApiClient) -> None:
        delay = self._probe_first
        while True:
            await asyncio.sleep(delay)
            if await client.ready(PROBE_TIMEOUT_S):
                logger.info("token service ready again, redelivering the spool")
                return
            delay = min(delay * 2, self._probe_max)

    async def _pass(self, client: InternalApiClient) -> bool:
        """One pass over both spools; False when the token service could not take a file."""
        available = True
        for what, one_pass in (
            ("transcripts", functools.partial(redeliver_spool, self._spool, client)),
            ("recordings", functools.partial(redeliver_recordings, self._recordings, client)),
        ):
            try:
                report = await one_pass()
            except Exception:
                logger.exception("spool redelivery pass failed", extra={"spooled": what})
                available = False
                continue
            available = available and report.failed == 0
            if report.delivered or report.buried:
                logger.info(
                    "spool redelivery pass",
                    extra={
                        "spooled": what,
                        "delivered": report.delivered,
                        "failed": report.failed,
                        "buried": report.buried,
                    },
                )
        return available
