"""The agent's side: upload an attempt's recording, or report that none will come (uploads.py)."""

from typing import Any
from uuid import UUID

from litestar import Controller, Request, post, put
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.openapi.spec import RequestBody
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from training_contracts import (
    INTERNAL_RECORDING_FAILURE_PATH,
    INTERNAL_RECORDING_PATH,
    MAX_RECORDING_BYTES,
    RECORDING_MEDIA_TYPE,
    ApiErrorCode,
    RecordingAck,
    RecordingFailure,
)

from ..lost_connection import STREAMS_FILE
from ..openapi import (
    BODY,
    DATABASE,
    PATH_ID,
    QUERY,
    UPLOADED_RECORDING_LINKS,
    ApiOperation,
    binary,
    errors,
)
from ..routes import Attempt, route
from .uploads import RecordingUploads


class _UploadOperation(ApiOperation):
    """The handler streams its body, a file, to the store itself."""

    body = RequestBody(
        content=binary(RECORDING_MEDIA_TYPE),
        required=True,
        description=f"The Ogg/Opus file, at most {MAX_RECORDING_BYTES} bytes: every page intact "
        "(its CRC), the first one beginning the Opus stream (OpusHead), ending where a page ends",
    )
    links = UPLOADED_RECORDING_LINKS


class InternalRecordingController(Controller):
    @put(
        route(INTERNAL_RECORDING_PATH),
        operation_id="storeRecording",
        opt={STREAMS_FILE: True},
        summary="Store an attempt's recording (Ogg/Opus body); a repeated upload is discarded",
        status_code=HTTP_200_OK,
        request_max_body_size=MAX_RECORDING_BYTES,
        responses=errors(
            ApiErrorCode.UNAUTHORIZED,
            ApiErrorCode.NOT_FOUND,
            ApiErrorCode.REQUEST_TIMEOUT,
            *PATH_ID,
            *QUERY,
            *BODY,
            *DATABASE,
        ),
        operation_class=_UploadOperation,
    )
    async def store_recording(
        self,
        request: Request[Any, Any, State],
        session_id: FromPath[UUID],
        attempt: Attempt,
        recording_uploads: NamedDependency[RecordingUploads],
    ) -> RecordingAck:
        return await recording_uploads.store(
            session_id, attempt, request.content_type[0], request.stream()
        )

    @post(
        route(INTERNAL_RECORDING_FAILURE_PATH),
        operation_id="reportRecordingFailure",
        summary="No recording will come for this attempt (the recorder failed)",
        status_code=HTTP_204_NO_CONTENT,
        responses=errors(
            ApiErrorCode.UNAUTHORIZED,
            ApiErrorCode.NOT_FOUND,
            *PATH_ID,
            *QUERY,
            *BODY,
            *DATABASE,
        ),
        operation_class=ApiOperation,
    )
    async def report_failure(
        self,
        session_id: FromPath[UUID],
        attempt: Attempt,
        data: JSONBody[RecordingFailure],
        recording_uploads: NamedDependency[RecordingUploads],
    ) -> None:
        await recording_uploads.report_failure(session_id, attempt, data.reason)
