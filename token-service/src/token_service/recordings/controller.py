"""GET /api/sessions/{id}/recording?attempt=N: the owner plays an attempt's recording back.

200 with the whole file, or 206 with the one byte range a `Range` header asks for, so a player can
seek; 403 for another user's session, 404 when the attempt is not recorded (or its recording
failed, or was purged), 409 while the agent is still delivering it.
"""

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, QueryParameter
from litestar.response import Stream
from litestar.status_codes import (
    HTTP_200_OK,
    HTTP_206_PARTIAL_CONTENT,
    HTTP_403_FORBIDDEN,
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
    HTTP_416_REQUESTED_RANGE_NOT_SATISFIABLE,
)

from training_contracts import (
    ATTEMPT_QUERY,
    RECORDING_MEDIA_TYPE,
    RECORDING_PATH,
    ApiErrorCode,
    ErrorBody,
)

from ..db import Connection
from ..errors import ApiError, error_response
from ..routes import route
from . import repository
from .config import Recordings
from .ranges import Unsatisfiable, parse_range
from .repository import RecordingStatus

_ERROR_RESPONSES = {
    status: ResponseSpec(data_container=ErrorBody, description=description)
    for status, description in (
        (HTTP_403_FORBIDDEN, "The session belongs to another user"),
        (HTTP_404_NOT_FOUND, "No such session, or the attempt has no recording"),
        (HTTP_409_CONFLICT, "The recording is still being delivered by the agent"),
        (HTTP_416_REQUESTED_RANGE_NOT_SATISFIABLE, "The range starts past the end"),
    )
}


def _not_found(message: str) -> ApiError:
    return ApiError(ApiErrorCode.NOT_FOUND, message)


class RecordingController(Controller):
    @get(
        route(RECORDING_PATH),
        operation_id="getRecording",
        summary="An attempt's recording (Ogg/Opus, trainee left, caller right); Range for seeking",
        media_type=RECORDING_MEDIA_TYPE,
        responses={
            HTTP_206_PARTIAL_CONTENT: ResponseSpec(
                data_container=bytes,
                media_type=RECORDING_MEDIA_TYPE,
                description="The byte range asked for, with Content-Range",
            ),
            **_ERROR_RESPONSES,
        },
    )
    async def get_recording(
        self,
        *,
        request: Request[object, object, State],
        session_id: FromPath[UUID],
        user_id: NamedDependency[UUID],
        db: NamedDependency[Connection],
        recordings: NamedDependency[Recordings],
        attempt: Annotated[
            int | None,
            QueryParameter(name=ATTEMPT_QUERY, ge=1, description="Default: the current attempt"),
        ] = None,
    ) -> Response[Any]:
        owned = await repository.get_owned(db, session_id, attempt)
        if owned is None:
            raise _not_found("session not found")
        if owned.user_id != user_id:
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
        stored = await recordings.store.open(owned.storage_key)
        if stored is None:
            raise _not_found(f"the recording of attempt {owned.attempt} is gone")

        headers = {"Accept-Ranges": "bytes", "Cache-Control": "private, no-cache"}
        try:
            wanted = parse_range(request.headers.get("range"), stored.size)
        except Unsatisfiable:
            refused = error_response(
                ApiErrorCode.RANGE_NOT_SATISFIABLE,
                f"the recording has {stored.size} bytes",
            )
            refused.headers["Content-Range"] = f"bytes */{stored.size}"
            return refused
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
