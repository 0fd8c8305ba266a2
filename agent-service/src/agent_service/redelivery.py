"""Sending spooled transcripts and recordings: the worker's main process, on start-up and
whenever the spools hold something.

Transcripts land in the spool (spool.py) when a job could not deliver them, recordings in the
recording spool (recording.py) at the end of every recorded call, delivered or not yet; either
may be from an earlier run of the worker. Both are sent by spool_sending.py's one loop: claimed
first, so no two senders send a file at once, then settled (sent, refused for good, or put back).

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
from collections.abc import Callable

from training_contracts import TranscriptAck

from . import metrics
from .api_client import InternalApiClient
from .delivery import batches
from .recording import RecordingSpool
from .recording_delivery import RECORDING_POLICY, upload_recording
from .retry_policy import TRANSCRIPT_POLICY, RetryPolicy
from .spool import Spool, SpoolEntry
from .spool_sending import SpoolPass, send_spooled

logger = logging.getLogger(__name__)

PROBE_FIRST_S = 0.5
PROBE_MAX_S = 4.0
PROBE_TIMEOUT_S = 2.0


async def redeliver_spool(
    spool: Spool, client: InternalApiClient, *, policy: RetryPolicy = TRANSCRIPT_POLICY
) -> SpoolPass:
    """One pass over the transcript spool. Stops at the first file the service cannot take now."""

    async def post(entry: SpoolEntry) -> list[TranscriptAck]:
        acks = [
            await client.post_transcript(entry.session_id, batch, policy)
            for batch in batches(entry.turns, final=entry.final, usage=entry.usage)
        ]
        metrics.count_batch(metrics.BatchOutcome.REDELIVERED)
        return acks

    return await send_spooled(
        spool,
        post,
        what="transcript",
        session_of=lambda entry: entry.session_id,
        logged=lambda entry, _: {
            "attempt": entry.attempt,
            "turns": len(entry.turns),
            "final": entry.final,
        },
    )


async def redeliver_recordings(
    spool: RecordingSpool, client: InternalApiClient, *, policy: RetryPolicy = RECORDING_POLICY
) -> SpoolPass:
    """One pass over the recording spool. Stops at the first file the service cannot take now."""
    return await send_spooled(
        spool,
        functools.partial(upload_recording, client, policy=policy),
        what="recording",
        session_of=lambda recording: recording.session_id,
        logged=lambda recording, ack: {
            "attempt": recording.attempt,
            "stored": ack.stored,
            "bytes": ack.size_bytes,
        },
    )


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
