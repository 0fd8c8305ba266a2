"""The agent's side: upload an attempt's recording, or report that none will come.

PUT is idempotent per (session, attempt): the first complete upload is stored, any later one is
read, acknowledged with `stored: false` and discarded, so a redelivery after a lost answer never
stores the file twice. The body is streamed to the store (never held in memory), checked page by
page as an Ogg/Opus stream on the way (nothing else is stored), bounded by MAX_RECORDING_BYTES and
by the upload timeout; no database connection is held while it streams.
"""

import logging
from collections.abc import AsyncIterator
from typing import Annotated, Any
from uuid import UUID

import anyio
from litestar import Controller, Request, post, put
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.openapi.spec import RequestBody
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import (
    HTTP_200_OK,
    HTTP_204_NO_CONTENT,
)

from training_contracts import (
    ATTEMPT_QUERY,
    INTERNAL_RECORDING_FAILURE_PATH,
    INTERNAL_RECORDING_PATH,
    MAX_RECORDING_BYTES,
    MAX_TURN_NUMBER,
    RECORDING_MEDIA_TYPE,
    ApiErrorCode,
    RecordingAck,
    RecordingFailure,
)

from ..db import Pool
from ..errors import ApiError
from ..lost_connection import STREAMS_FILE
from ..openapi import (
    BODY,
    DATABASE,
    PATH_ID,
    QUERY,
    UPLOADED_RECORDING_LINKS,
    binary,
    documented,
)
from ..routes import route
from . import repository
from .config import Recordings
from .ogg import NotOgg, OggCheck
from .repository import RecordingStatus
from .storage import Staged, TooLarge, recording_key

logger = logging.getLogger(__name__)

Attempt = Annotated[
    int,
    QueryParameter(
        name=ATTEMPT_QUERY, ge=1, le=MAX_TURN_NUMBER, description="The attempt recorded"
    ),
]

_OGG_UPLOAD = RequestBody(
    content=binary(RECORDING_MEDIA_TYPE),
    required=True,
    description=f"The Ogg/Opus file, at most {MAX_RECORDING_BYTES} bytes: every page intact "
    "(its CRC), the first one beginning the Opus stream (OpusHead), ending where a page ends",
)


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


class InternalRecordingController(Controller):
    @put(
        route(INTERNAL_RECORDING_PATH),
        operation_id="storeRecording",
        opt={STREAMS_FILE: True},
        summary="Store an attempt's recording (Ogg/Opus body); a repeated upload is discarded",
        status_code=HTTP_200_OK,
        request_max_body_size=MAX_RECORDING_BYTES,
        operation_class=documented(
            ApiErrorCode.UNAUTHORIZED,
            ApiErrorCode.NOT_FOUND,
            ApiErrorCode.REQUEST_TIMEOUT,
            *PATH_ID,
            *QUERY,
            *BODY,
            *DATABASE,
            request_body=_OGG_UPLOAD,
            links=UPLOADED_RECORDING_LINKS,
        ),
    )
    async def store_recording(
        self,
        request: Request[Any, Any, State],
        session_id: FromPath[UUID],
        attempt: Attempt,
        db_pool: NamedDependency[Pool],
        recordings: NamedDependency[Recordings],
    ) -> RecordingAck:
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type != RECORDING_MEDIA_TYPE:
            raise ApiError(
                ApiErrorCode.BAD_REQUEST,
                f"a recording is {RECORDING_MEDIA_TYPE}, not {media_type or 'untyped'}",
            )
        async with db_pool.connection() as conn:
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
            staged = await recordings.store.stage(
                _ogg_only(_bounded(request.stream(), recordings.upload_timeout_s)),
                max_bytes=MAX_RECORDING_BYTES,
            )
        except TooLarge:
            raise ApiError(
                ApiErrorCode.PAYLOAD_TOO_LARGE,
                f"a recording has at most {MAX_RECORDING_BYTES} bytes",
            ) from None
        except NotOgg as exc:
            raise ApiError(ApiErrorCode.BAD_REQUEST, f"not an Ogg/Opus recording: {exc}") from None
        try:
            return await self._commit(db_pool, session_id, attempt, staged)
        finally:
            await staged.discard()

    async def _commit(
        self, db_pool: Pool, session_id: UUID, attempt: int, staged: Staged
    ) -> RecordingAck:
        # The row lock orders two uploads of one attempt that arrive together: the first
        # commits, the second sees `stored` and its staged copy is discarded.
        async with db_pool.connection() as conn, conn.transaction():
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

    @post(
        route(INTERNAL_RECORDING_FAILURE_PATH),
        operation_id="reportRecordingFailure",
        summary="No recording will come for this attempt (the recorder failed)",
        status_code=HTTP_204_NO_CONTENT,
        operation_class=documented(
            ApiErrorCode.UNAUTHORIZED,
            ApiErrorCode.NOT_FOUND,
            *PATH_ID,
            *QUERY,
            *BODY,
            *DATABASE,
        ),
    )
    async def report_failure(
        self,
        session_id: FromPath[UUID],
        attempt: Attempt,
        data: JSONBody[RecordingFailure],
        db_pool: NamedDependency[Pool],
    ) -> None:
        async with db_pool.connection() as conn:
            found = await repository.mark_failed(conn, session_id, attempt, data.reason)
        if not found:
            raise _no_recording(session_id, attempt)
        logger.warning("recording of %s attempt %d failed: %s", session_id, attempt, data.reason)
