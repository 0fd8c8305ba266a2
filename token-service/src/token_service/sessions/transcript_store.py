"""TranscriptStore: the agent's transcript batches stored (transcripts.py), what they cost
recorded (usage/), and every refusal as the contract's error."""

from uuid import UUID

from psycopg import errors as pg_errors

from training_contracts import MAX_TURNS_PER_BATCH, ApiErrorCode, TranscriptAck, TranscriptBatch

from ..db import Pool
from ..errors import ApiError
from ..metrics import ServiceMetrics
from ..usage.repository import UsageSource, record_usage
from . import transcripts


class TranscriptStore:
    """One per app."""

    __slots__ = ("_metrics", "_pool")

    def __init__(self, pool: Pool, metrics: ServiceMetrics) -> None:
        self._pool = pool
        self._metrics = metrics

    async def store(self, session_id: UUID, batch: TranscriptBatch) -> TranscriptAck:
        """Turns sent again are stored once; `final` ends the attempt's call. The batch's `usage`
        belongs to the attempt its turns name (none named: the current one)."""
        if len(batch.turns) > MAX_TURNS_PER_BATCH:
            raise ApiError(
                ApiErrorCode.PAYLOAD_TOO_LARGE,
                f"at most {MAX_TURNS_PER_BATCH} turns per request, got {len(batch.turns)}",
            )
        async with self._pool.connection() as conn:
            try:
                outcome = await transcripts.store_transcript(
                    conn, session_id, batch.turns, final=batch.final
                )
            except pg_errors.DataError as exc:
                # e.g. a turn order beyond Postgres' integer
                raise ApiError(ApiErrorCode.BAD_REQUEST, f"turns cannot be stored: {exc}") from exc
            except pg_errors.ForeignKeyViolation as exc:
                # the application deleted the session while the batch was on its way
                raise ApiError(ApiErrorCode.NOT_FOUND, "session not found") from exc
            if not outcome.session_found:
                raise ApiError(ApiErrorCode.NOT_FOUND, "session not found")
            if (
                outcome.max_attempt is not None
                and outcome.current_attempt is not None
                and outcome.max_attempt > outcome.current_attempt
            ):
                raise ApiError(
                    ApiErrorCode.CONFLICT,
                    f"attemptNumber {outcome.max_attempt} is beyond the session's current "
                    f"attempt {outcome.current_attempt}",
                )
            self._metrics.turns_stored.inc(outcome.stored)
            attempt = outcome.max_attempt or outcome.current_attempt
            if batch.usage is not None and attempt is not None:
                await record_usage(conn, session_id, attempt, UsageSource.REALTIME, batch.usage)
        return TranscriptAck(received=len(batch.turns), stored=outcome.stored)
