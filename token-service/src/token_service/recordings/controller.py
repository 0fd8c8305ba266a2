"""GET /api/sessions/{id}/recording?attempt=N: the owner plays an attempt's recording back.

200 with the whole file, or 206 with the one byte range a `Range` header asks for, so a player can
seek; 403 for another user's session, 404 when the attempt is not recorded (or its recording
failed, or was purged), 409 while the agent is still delivering it.
"""

from typing import Annotated, Any, Final
from uuid import UUID

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.openapi.spec import Example, OpenAPIResponse
from litestar.params import FromPath, HeaderParameter
from litestar.response import Stream
from litestar.status_codes import HTTP_200_OK, HTTP_206_PARTIAL_CONTENT

from training_contracts import (
    RECORDING_MEDIA_TYPE,
    RECORDING_PATH,
    ApiErrorCode,
)

from ..db import Connection
from ..errors import ApiError
from ..lost_connection import STREAMS_FILE
from ..openapi import DATABASE, PATH_ID, QUERY, binary, documented, header
from ..routes import AttemptQuery, route
from . import repository
from .config import Recordings
from .ranges import Unsatisfiable, parse_range
from .repository import OwnedRecording, RecordingStatus

_ACCEPT_RANGES = header("A player may ask for a byte range", pattern="^bytes$")
_SUCCESS: Final = {
    HTTP_200_OK: OpenAPIResponse(
        description="The whole recording (no Range, or one this service does not serve)",
        content=binary(RECORDING_MEDIA_TYPE),
        headers={"Accept-Ranges": _ACCEPT_RANGES},
    ),
    HTTP_206_PARTIAL_CONTENT: OpenAPIResponse(
        description="The one byte range the Range header asked for",
        content=binary(RECORDING_MEDIA_TYPE),
        headers={
            "Accept-Ranges": _ACCEPT_RANGES,
            "Content-Range": header(
                "The range sent and the recording's size", pattern=r"^bytes \d+-\d+/\d+$"
            ),
        },
    ),
}
_UNSATISFIABLE_HEADERS: Final = {
    ApiErrorCode.RANGE_NOT_SATISFIABLE: {
        "Content-Range": header("The recording's size", pattern=r"^bytes \*/\d+$")
    }
}


def _not_found(message: str) -> ApiError:
    return ApiError(ApiErrorCode.NOT_FOUND, message)


def _storage_key(owned: OwnedRecording | None, user_id: UUID) -> str:
    """Where the caller's recording is stored, or the ApiError that says why it cannot be played."""
    if owned is None or owned.owner_id is None:
        raise _not_found("session not found")
    if owned.owner_id != str(user_id):
        raise ApiError(ApiErrorCode.FORBIDDEN, "the session belongs to another user")
    if owned.status == RecordingStatus.PENDING:
        raise ApiError(
            ApiErrorCode.RECORDING_PENDING,
            f"the recording of attempt {owned.attempt} is still being delivered",
        )
    if owned.status == RecordingStatus.FAILED:
        raise _not_found(f"attempt {owned.attempt} was not recorded: {owned.failure}")
    if owned.status is None or owned.storage_key is None:
        raise _not_found(f"attempt {owned.attempt} has no recording")
    return owned.storage_key


class RecordingController(Controller):
    @get(
        route(RECORDING_PATH),
        operation_id="getRecording",
        opt={STREAMS_FILE: True},
        summary="An attempt's recording (Ogg/Opus, trainee left, caller right); Range for seeking",
        media_type=RECORDING_MEDIA_TYPE,
        operation_class=documented(
            ApiErrorCode.UNAUTHORIZED,
            ApiErrorCode.FORBIDDEN,
            ApiErrorCode.NOT_FOUND,
            ApiErrorCode.RECORDING_PENDING,
            ApiErrorCode.RANGE_NOT_SATISFIABLE,
            *PATH_ID,
            *QUERY,
            *DATABASE,
            success=_SUCCESS,
            error_headers=_UNSATISFIABLE_HEADERS,
        ),
    )
    async def get_recording(
        self,
        *,
        session_id: FromPath[UUID],
        user_id: NamedDependency[UUID],
        db: NamedDependency[Connection],
        recordings: NamedDependency[Recordings],
        attempt: AttemptQuery = None,
        byte_range: Annotated[
            str | None,
            HeaderParameter(
                name="Range",
                description="One byte range (RFC 9110): `bytes=<first>-[<last>]` or "
                "`bytes=-<suffix length>`; any other value is ignored (the whole recording)",
                examples=[Example(value="bytes=0-1023"), Example(value="bytes=-4096")],
            ),
        ] = None,
    ) -> Response[Any]:
        owned = await repository.get_owned(db, session_id, attempt)
        stored = await recordings.store.open(_storage_key(owned, user_id))
        if stored is None:
            raise _not_found("the recording is gone")

        headers = {"Accept-Ranges": "bytes", "Cache-Control": "private, no-cache"}
        try:
            wanted = parse_range(byte_range, stored.size)
        except Unsatisfiable:
            raise ApiError(
                ApiErrorCode.RANGE_NOT_SATISFIABLE,
                f"the recording has {stored.size} bytes",
                headers={"Content-Range": f"bytes */{stored.size}"},
            ) from None
        if wanted is None:
            headers["Content-Length"] = str(stored.size)
            return Stream(
                stored.read(0, stored.size),
                status_code=HTTP_200_OK,
                media_type=RECORDING_MEDIA_TYPE,
                headers=headers,
            )
        headers["Content-Length"] = str(wanted.length)
        headers["Content-Range"] = wanted.content_range(stored.size)
        return Stream(
            stored.read(wanted.start, wanted.end),
            status_code=HTTP_206_PARTIAL_CONTENT,
            media_type=RECORDING_MEDIA_TYPE,
            headers=headers,
        )
