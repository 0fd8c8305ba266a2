"""Sending spooled transcripts: the worker's main process, on start-up and every
`SPOOL_RETRY_INTERVAL` seconds after.

Transcripts land in the spool (spool.py) when a job could not deliver them; they may be from an
earlier run of the worker. The endpoint stores a turn once, so sending a file again is safe.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

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
from .spool import Spool

logger = logging.getLogger(__name__)

SPOOL_RETRY_INTERVAL = 30.0


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
            for batch in batches(entry.turns, final=entry.final, usage=entry.usage):
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
            metrics.count_batch(metrics.BatchOutcome.REDELIVERED)
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
    """The worker main process's background task that empties the spool.

    It opens its API client on the loop it runs on (an aiohttp session belongs to one loop) and
    closes it when the task ends.
    """

    def __init__(
        self,
        spool: Spool,
        new_client: Callable[[], InternalApiClient],
        *,
        interval: float = SPOOL_RETRY_INTERVAL,
    ) -> None:
        self._spool = spool
        self._new_client = new_client
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
        client = self._new_client()
        try:
            while True:
                await self._pass(client)
                await asyncio.sleep(self._interval)
        finally:
            await client.aclose()

    async def _pass(self, client: InternalApiClient) -> None:
        try:
            report = await redeliver_spool(self._spool, client)
        except Exception:
            logger.exception("spool redelivery pass failed")
            return
        if report.delivered or report.buried:
            logger.info(
                "spool redelivery pass",
                extra={
                    "delivered": report.delivered,
                    "failed": report.failed,
                    "buried": report.buried,
                },
            )
