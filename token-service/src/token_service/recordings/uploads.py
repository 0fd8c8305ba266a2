"""RecordingUploads: the agent uploads an attempt's recording, or reports that none will come.

An upload is idempotent per (session, attempt): the first complete upload is stored, any later one
is read, acknowledged with `stored: false` and discarded, so a redelivery after a lost answer never
stores the file twice. The body is streamed to the store (never held in memory), checked page by
page as an Ogg/Opus stream on the way (nothing else is stored), bounded by MAX_RECORDING_BYTES and
by the upload timeout; no database connection is held while it streams.
"""

import logging
from collections.abc import AsyncIterator
from uuid import UUID

import anyio

from training_contracts import (
    MAX_RECORDING_BYTES,
    RECORDING_MEDIA_TYPE,
    ApiErrorCode,
    RecordingAck,
)

from ..db import Pool
from ..errors import ApiError
from . import repository
from .ogg import NotOgg, OggCheck
from .repository import RecordingStatus
from .storage import RecordingStore, Staged, TooLarge, recording_key

logger = logging.getLogger(__name__)


def _no_recording(session_id: UUID, attempt: int) -> ApiError:
    return ApiError(
        ApiErrorCode.NOT_FOUND,
        f"attempt {attempt} of session {session_id} is not recorded",
    )


async def _bounded(chunks: AsyncIterator[bytes], timeout_s: float) -> AsyncIterator[bytes]:
    """The body's chunks, or 408 when the whole body takes longer than `timeout_s`."""
    deadline = anyio.current_time() + timeout_s
    try:
        while True:
            with anyio.fail_after(max(0.0, deadline - anyio.current_time())):
                chunk = await anext(chunks, None)
            if chunk is None:
                return
            yield chunk
    except TimeoutError:
        raise ApiError(
            ApiErrorCode.REQUEST_TIMEOUT,
            f"the recording did not arrive within {timeout_s:g} s",
        ) from None


async def _ogg_only(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """The body's chunks, each page checked as it completes; NotOgg ends the upload."""
    check = OggCheck()
    async for chunk in chunks:
        check.feed(chunk)
        yield chunk
    check.finish()


class RecordingUploads:
    """The agent's side of recordings; one per app."""

    __slots__ = ("_pool", "_store", "_timeout_s")

    def __init__(self, pool: Pool, store: RecordingStore, *, upload_timeout_s: float) -> None:
        """`upload_timeout_s`: the longest one upload's body may take to arrive."""
        self._pool = pool
        self._store = store
        self._timeout_s = upload_timeout_s

    async def store(
        self, session_id: UUID, attempt: int, media_type: str, body: AsyncIterator[bytes]
    ) -> RecordingAck:
        """Store `body`, of `media_type`, as the attempt's recording unless one is stored."""
        if media_type != RECORDING_MEDIA_TYPE:
            raise ApiError(
                ApiErrorCode.BAD_REQUEST,
                f"a recording is {RECORDING_MEDIA_TYPE}, not {media_type or 'untyped'}",
            )
        async with self._pool.connection() as conn:
            row = await repository.get(conn, session_id, attempt)
        if row is None:
            raise _no_recording(session_id, attempt)
        if row.status == RecordingStatus.STORED:
            assert row.size_bytes is not None
            logger.info(
                "recording of %s attempt %d already stored, upload ignored", session_id, attempt
            )
            return RecordingAck(stored=False, size_bytes=row.size_bytes)
        try:
            staged = await self._store.stage(
                _ogg_only(_bounded(body, self._timeout_s)), max_bytes=MAX_RECORDING_BYTES
            )
        except TooLarge:
            raise ApiError(
                ApiErrorCode.PAYLOAD_TOO_LARGE,
                f"a recording has at most {MAX_RECORDING_BYTES} bytes",
            ) from None
        except NotOgg as exc:
            raise ApiError(ApiErrorCode.BAD_REQUEST, f"not an Ogg/Opus recording: {exc}") from None
        try:
            return await self._commit(session_id, attempt, staged)
        finally:
            await staged.discard()

    async def _commit(self, session_id: UUID, attempt: int, staged: Staged) -> RecordingAck:
        # The row lock orders two uploads of one attempt that arrive together: the first
        # commits, the second sees `stored` and its staged copy is discarded.
        async with self._pool.connection() as conn, conn.transaction():
            row = await repository.get(conn, session_id, attempt, for_update=True)
            if row is None:
                raise _no_recording(session_id, attempt)  # purged while the body streamed
            if row.status == RecordingStatus.STORED:
                assert row.size_bytes is not None
                return RecordingAck(stored=False, size_bytes=row.size_bytes)
            key = recording_key(session_id, attempt)
            await staged.commit(key)
            await repository.mark_stored(
                conn, session_id, attempt, storage_key=key, size_bytes=staged.size
            )
        logger.info(
            "recording of %s attempt %d stored (%d bytes)", session_id, attempt, staged.size
        )
        return RecordingAck(stored=True, size_bytes=staged.size)

    async def report_failure(self, session_id: UUID, attempt: int, reason: str) -> None:
        """No recording will come for the attempt (a stored one is kept)."""
        async with self._pool.connection() as conn:
            found = await repository.mark_failed(conn, session_id, attempt, reason)
        if not found:
            raise _no_recording(session_id, attempt)
        logger.warning("recording of %s attempt %d failed: %s", session_id, attempt, reason)
