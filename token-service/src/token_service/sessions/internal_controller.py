"""The agent's API: create a session (or the next attempt of an assignment's), store transcripts."""

from uuid import UUID

from litestar import Controller, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import (
    HTTP_200_OK,
    HTTP_400_BAD_REQUEST,
    HTTP_403_FORBIDDEN,
    HTTP_404_NOT_FOUND,
    HTTP_413_REQUEST_ENTITY_TOO_LARGE,
)
from psycopg import errors as pg_errors

from training_contracts import (
    MAX_TURNS_PER_BATCH,
    ApiErrorCode,
    CreateSessionRequest,
    CreateSessionResponse,
    SessionType,
    TranscriptAck,
    TranscriptBatch,
)

from ..auth import require_internal_key
from ..db import Connection
from ..errors import ApiError
from . import repository


def _not_found(what: str) -> ApiError:
    return ApiError(HTTP_404_NOT_FOUND, ApiErrorCode.NOT_FOUND, f"{what} not found")


class InternalSessionController(Controller):
    path = "/api/internal/sessions"
    tags = ("internal",)
    guards = (require_internal_key,)

    @post(
        "/",
        operation_id="createSession",
        summary="Create a voice session, or the next attempt of an assignment's session",
        status_code=HTTP_200_OK,
    )
    async def create_session(
        self, data: JSONBody[CreateSessionRequest], db: NamedDependency[Connection]
    ) -> CreateSessionResponse:
        if data.type is SessionType.ASSIGNMENT and data.assignment_id is None:
            raise ApiError(
                HTTP_400_BAD_REQUEST,
                ApiErrorCode.BAD_REQUEST,
                "an assignment session needs assignmentId",
            )
        if data.type is SessionType.FREE_PRACTICE and data.assignment_id is not None:
            raise ApiError(
                HTTP_400_BAD_REQUEST,
                ApiErrorCode.BAD_REQUEST,
                "a free practice session takes no assignmentId",
            )
        found = await repository.lookup_for_create(
            db,
            user_id=data.user_id,
            assignment_id=data.assignment_id,
            scenario_id=data.scenario_id,
        )
        if not found.user_exists:
            raise _not_found("user")
        if data.scenario_id is not None and not found.scenario_exists:
            raise _not_found("scenario")
        try:
            if data.assignment_id is None:
                session_id, attempt = await repository.start_free_practice(
                    db, user_id=data.user_id, scenario_id=data.scenario_id
                )
            else:
                if found.assignment_user_id is None or found.assignment_scenario_id is None:
                    raise _not_found("assignment")
                if found.assignment_user_id != data.user_id:
                    raise ApiError(
                        HTTP_403_FORBIDDEN,
                        ApiErrorCode.FORBIDDEN,
                        "the assignment belongs to another user",
                    )
                if data.scenario_id not in (None, found.assignment_scenario_id):
                    raise ApiError(
                        HTTP_400_BAD_REQUEST,
                        ApiErrorCode.BAD_REQUEST,
                        "scenarioId is not the assignment's scenario",
                    )
                session_id, attempt = await repository.start_assignment_attempt(
                    db,
                    user_id=data.user_id,
                    assignment_id=data.assignment_id,
                    scenario_id=found.assignment_scenario_id,
                )
        except pg_errors.ForeignKeyViolation as exc:
            # deleted between the lookup and the insert
            raise _not_found("user, assignment or scenario") from exc
        return CreateSessionResponse(session_id=session_id, attempt=attempt)

    @post(
        "/{session_id:uuid}/transcript",
        operation_id="storeTranscript",
        summary="Store transcript turns (re-sent ones once); `final` completes the attempt",
        status_code=HTTP_200_OK,
    )
    async def store_transcript(
        self,
        session_id: FromPath[UUID],
        data: JSONBody[TranscriptBatch],
        db: NamedDependency[Connection],
    ) -> TranscriptAck:
        if len(data.turns) > MAX_TURNS_PER_BATCH:
            raise ApiError(
                HTTP_413_REQUEST_ENTITY_TOO_LARGE,
                ApiErrorCode.PAYLOAD_TOO_LARGE,
                f"at most {MAX_TURNS_PER_BATCH} turns per request, got {len(data.turns)}",
            )
        try:
            outcome = await repository.store_transcript(
                db, session_id, data.turns, final=data.final
            )
        except pg_errors.DataError as exc:
            # e.g. a NUL character in a turn, or a turn order beyond Postgres' integer
            raise ApiError(
                HTTP_400_BAD_REQUEST, ApiErrorCode.BAD_REQUEST, f"turns cannot be stored: {exc}"
            ) from exc
        if not outcome.session_found:
            raise _not_found("session")
        if (
            outcome.max_attempt is not None
            and outcome.current_attempt is not None
            and outcome.max_attempt > outcome.current_attempt
        ):
            raise ApiError(
                HTTP_400_BAD_REQUEST,
                ApiErrorCode.BAD_REQUEST,
                f"attemptNumber {outcome.max_attempt} is beyond the session's current attempt "
                f"{outcome.current_attempt}",
            )
        return TranscriptAck(received=len(data.turns), stored=outcome.stored)
