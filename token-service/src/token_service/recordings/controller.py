"""GET RECORDING_PATH?attempt=N: the owner plays an attempt's recording back (playback.py)."""

from typing import Annotated, Final
from uuid import UUID

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.openapi.spec import Example, OpenAPIResponse
from litestar.params import FromPath, HeaderParameter
from litestar.response import Stream
from litestar.status_codes import (
    HTTP_200_OK,
    HTTP_206_PARTIAL_CONTENT,
    HTTP_416_REQUESTED_RANGE_NOT_SATISFIABLE,
)

from training_contracts import RECORDING_MEDIA_TYPE, RECORDING_PATH, ApiErrorCode

from ..lost_connection import STREAMS_FILE
from ..openapi import DATABASE, PATH_ID, QUERY, ApiOperation, binary, errors, header
from ..routes import AttemptOrCurrent, route
from .playback import RecordingPlayback

_ACCEPT_RANGES = header("A player may ask for a byte range", pattern="^bytes$")
_ANSWERS: Final = {
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
    HTTP_416_REQUESTED_RANGE_NOT_SATISFIABLE: {
        "Content-Range": header("The recording's size", pattern=r"^bytes \*/\d+$")
    }
}


class _PlaybackOperation(ApiOperation):
    """The handler answers bytes of its own, with the headers a player seeks by."""

    answers = _ANSWERS
    error_headers = _UNSATISFIABLE_HEADERS


_RANGE = HeaderParameter(
    name="Range",
    description="One byte range (RFC 9110): `bytes=<first>-[<last>]` or "
    "`bytes=-<suffix length>`; any other value is ignored (the whole recording)",
    examples=[Example(value="bytes=0-1023"), Example(value="bytes=-4096")],
)


class RecordingController(Controller):
    @get(
        route(RECORDING_PATH),
        operation_id="getRecording",
        opt={STREAMS_FILE: True},
        summary="An attempt's recording (Ogg/Opus, trainee left, caller right); Range for seeking",
        media_type=RECORDING_MEDIA_TYPE,
        responses=errors(
            ApiErrorCode.UNAUTHORIZED,
            ApiErrorCode.FORBIDDEN,
            ApiErrorCode.NOT_FOUND,
            ApiErrorCode.RECORDING_PENDING,
            ApiErrorCode.RANGE_NOT_SATISFIABLE,
            *PATH_ID,
            *QUERY,
            *DATABASE,
        ),
        operation_class=_PlaybackOperation,
    )
    async def get_recording(
        self,
        *,
        session_id: FromPath[UUID],
        user_id: NamedDependency[UUID],
        recording_playback: NamedDependency[RecordingPlayback],
        attempt: AttemptOrCurrent = None,
        byte_range: Annotated[str | None, _RANGE] = None,
    ) -> Stream:
        played = await recording_playback.play(session_id, user_id, attempt, byte_range)
        return Stream(
            played.chunks,
            status_code=played.status,
            media_type=RECORDING_MEDIA_TYPE,
            headers=played.headers,
        )
