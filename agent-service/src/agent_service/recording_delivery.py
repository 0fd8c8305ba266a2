"""Getting a call's recording to the token service: at the call's end, and later from the spool.

At the end of a recorded call the finished file is moved into the recording spool first (so it
is durable whatever happens next), then uploaded within a bounded time. Delivered: the spool file
goes. Not delivered in time, or the service unavailable: it stays, and the worker's main process
sends it on its next redelivery pass. The upload is idempotent per (session, attempt) on the
service's side, so a second send after a lost answer stores nothing twice.

No recording at all (the recorder failed, the session never started) is reported to the service,
so the trainee's player stops waiting. Nothing here ever raises into the call: the recording is
dealt with after the transcript, and its failures are logged, not propagated.
"""

import asyncio
import functools
import logging
from dataclasses import dataclass
from uuid import UUID

from livekit.agents import AgentSession, JobContext

from training_contracts import RecordingAck

from .api_client import ApiError, InternalApiClient, Unavailable
from .recording import RecordingMissing, RecordingSpool, SpooledRecording, take_recording
from .retry_policy import RetryPolicy
from .spool_sending import send_claimed

logger = logging.getLogger(__name__)

RECORDING_POLICY = RetryPolicy(retries=1, backoff=1.0, timeout=60.0)
"""Per upload attempt: long enough for an hour's file over a slow link; the call's end bounds
the whole delivery by `within` anyway, and the redelivery pass is not in a hurry."""


@dataclass(frozen=True)
class RecordingTarget:
    session_id: UUID
    attempt: int


class RecordingDelivery:
    """One recorded call's recording."""

    def __init__(
        self,
        client: InternalApiClient,
        spool: RecordingSpool,
        target: RecordingTarget,
        *,
        policy: RetryPolicy = RECORDING_POLICY,
    ) -> None:
        self._client = client
        self._spool = spool
        self._target = target
        self._policy = policy
        self._taken = False

    @property
    def taken(self) -> bool:
        """The file was moved to the spool, or its absence reported (or logged)."""
        return self._taken

    async def finish(
        self, ctx: JobContext, session: AgentSession[None] | None, *, within: float
    ) -> None:
        """on_session_end: take the file and deliver it within `within` seconds, else leave it
        spooled for the redelivery pass."""
        spooled = await self._take(ctx, session, within=within)
        claimed = self._spool.claim(spooled.path) if spooled is not None else None
        if claimed is None:
            return  # nothing to send, or a redelivery pass claimed it first and sends it
        upload = functools.partial(upload_recording, self._client, policy=self._policy)
        try:
            async with asyncio.timeout(within):
                ack = await send_claimed(self._spool, claimed, upload)
        except (Unavailable, TimeoutError) as exc:
            logger.warning(
                "recording not delivered, spooled",
                extra={
                    "session_id": str(self._target.session_id),
                    "spool_file": str(claimed.original),
                    "error": str(exc) or f"no answer within {within:g} s",
                },
            )
            return
        if ack is not None:
            logger.info(
                "recording delivered",
                extra={
                    "session_id": str(self._target.session_id),
                    "stored": ack.stored,
                    "bytes": ack.size_bytes,
                },
            )

    async def spool_only(self, ctx: JobContext, session: AgentSession[None] | None) -> None:
        """The shutdown callback's safety net when `finish` never ran: keep the file for the
        redelivery pass (the job's folder is deleted next)."""
        await self._take(ctx, session, within=2.0)

    async def _take(
        self, ctx: JobContext, session: AgentSession[None] | None, *, within: float
    ) -> SpooledRecording | None:
        if self._taken:
            return None
        self._taken = True
        target = self._target
        try:
            if session is None:
                raise RecordingMissing("the caller never started")
            return take_recording(
                ctx, session, self._spool, session_id=target.session_id, attempt=target.attempt
            )
        except RecordingMissing as exc:
            reason = str(exc)
        except Exception as exc:
            logger.exception("recording could not be spooled")
            reason = f"{type(exc).__name__}: {exc}"
        await self._report_missing(reason, within=within)
        return None

    async def _report_missing(self, reason: str, *, within: float) -> None:
        target = self._target
        logger.error("call recording missing", extra={"reason": reason})
        try:
            async with asyncio.timeout(within):
                await self._client.report_recording_failure(
                    target.session_id, target.attempt, reason, self._policy
                )
        except (ApiError, TimeoutError) as exc:
            # The player then waits (409) until the recording's retention ends; the log says why.
            logger.error(
                "missing recording could not be reported",
                extra={"reason": reason, "error": str(exc) or "timed out"},
            )


async def upload_recording(
    client: InternalApiClient, recording: SpooledRecording, *, policy: RetryPolicy
) -> RecordingAck:
    """Upload one spooled recording to its session attempt (idempotent on the service's side)."""
    return await client.put_recording(
        recording.session_id, recording.attempt, recording.path, policy
    )
