"""The agent's API: create a session (or the next attempt of an assignment's), store transcripts."""

import contextlib
from uuid import UUID

from litestar import Controller
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from psycopg import errors as pg_errors

from training_contracts import (
    INTERNAL_SESSIONS_PATH,
    INTERNAL_TRANSCRIPT_PATH,
    MAX_TURNS_PER_BATCH,
    ApiErrorCode,
    AssignmentSessionRequest,
    CreateSessionRequest,
    CreateSessionResponse,
    TranscriptAck,
    TranscriptBatch,
)

from ..db import Connection
from ..errors import ApiError
from ..metrics import ServiceMetrics
from ..openapi import BODY, DATABASE, PATH_ID, documented, session_links
from ..recordings import repository as recordings_repository
from ..recordings.config import Recordings
from ..rooms import repository as rooms
from ..routes import post_ok
from ..usage.repository import UsageSource, record_usage
from . import repository


def _not_found(what: str, code: ApiErrorCode = ApiErrorCode.NOT_FOUND) -> ApiError:
    return ApiError(code, f"{what} not found")


async def _start(
    db: Connection, data: CreateSessionRequest, found: repository.CreateLookup
) -> tuple[UUID, int]:
    """The new free practice session, or the assignment's next attempt: (session, attempt)."""
    if not isinstance(data, AssignmentSessionRequest):
        return await repository.start_free_practice(
            db, user_id=data.user_id, scenario_id=data.scenario_id
        )
    if found.assignment_user_id is None or found.assignment_scenario_id is None:
        raise _not_found("assignment", ApiErrorCode.ASSIGNMENT_NOT_FOUND)
    if found.assignment_user_id != data.user_id:
        raise ApiError(ApiErrorCode.FORBIDDEN, "the assignment belongs to another user")
    if data.scenario_id not in (None, found.assignment_scenario_id):
        raise ApiError(ApiErrorCode.CONFLICT, "scenarioId is not the assignment's scenario")
    return await repository.start_assignment_attempt(
        db,
        user_id=data.user_id,
        assignment_id=data.assignment_id,
        scenario_id=found.assignment_scenario_id,
    )


class InternalSessionController(Controller):
    @post_ok(
        INTERNAL_SESSIONS_PATH,
        operation_id="createSession",
        summary="Create a voice session, or the next attempt of an assignment's session",
        operation_class=documented(
            ApiErrorCode.UNAUTHORIZED,
            ApiErrorCode.FORBIDDEN,
            ApiErrorCode.USER_NOT_FOUND,
            ApiErrorCode.ASSIGNMENT_NOT_FOUND,
            ApiErrorCode.NOT_FOUND,
            ApiErrorCode.CONFLICT,
            *BODY,
            *DATABASE,
            links=session_links("sessionId", "attempt"),
        ),
    )
    async def create_session(
        self,
        data: JSONBody[CreateSessionRequest],
        db: NamedDependency[Connection],
        metrics: NamedDependency[ServiceMetrics],
        recordings: NamedDependency[Recordings],
    ) -> CreateSessionResponse:
        """`user_not_found` and `assignment_not_found` tell the agent that nobody of that id
        exists (nothing to retry); `not_found` is the scenario."""
        assignment_id = data.assignment_id if isinstance(data, AssignmentSessionRequest) else None
        found = await repository.lookup_for_create(
            db,
            user_id=data.user_id,
            assignment_id=assignment_id,
            scenario_id=data.scenario_id,
        )
        if not found.user_exists:
            raise _not_found("user", ApiErrorCode.USER_NOT_FOUND)
        if data.scenario_id is not None and not found.scenario_exists:
            raise _not_found("scenario")
        record = (
            recordings.record_free_practice
            if assignment_id is None
            else found.assignment_requires_recording
        )
        # A recorded attempt and its pending recording exist together or not at all; an
        # unrecorded one stays a single autocommitted statement.
        together = db.transaction() if record else contextlib.nullcontext()
        try:
            async with together:
                session_id, attempt = await _start(db, data, found)
                if record:
                    await recordings_repository.expect(db, session_id, attempt)
        except pg_errors.ForeignKeyViolation as exc:
            # deleted between the lookup and the insert
            raise _not_found("user, assignment or scenario") from exc
        metrics.sessions_created.labels(data.type.value).inc()
        if data.room_name is not None:
            await rooms.record_session(db, data.room_name, session_id, attempt)
        return CreateSessionResponse(session_id=session_id, attempt=attempt, record=record)

    @post_ok(
        INTERNAL_TRANSCRIPT_PATH,
        operation_id="storeTranscript",
        summary="Store transcript turns",
        operation_class=documented(
            ApiErrorCode.UNAUTHORIZED,
            ApiErrorCode.NOT_FOUND,
            ApiErrorCode.CONFLICT,
            *PATH_ID,
            *BODY,
            *DATABASE,
        ),
    )
    async def store_transcript(
        self,
        session_id: FromPath[UUID],
        data: JSONBody[TranscriptBatch],
        db: NamedDependency[Connection],
        metrics: NamedDependency[ServiceMetrics],
    ) -> TranscriptAck:
        """Turns sent again are stored once; `final` completes the attempt. The batch's `usage`
        belongs to the attempt its turns name (none named: the current one)."""
        if len(data.turns) > MAX_TURNS_PER_BATCH:
            raise ApiError(
                ApiErrorCode.PAYLOAD_TOO_LARGE,
                f"at most {MAX_TURNS_PER_BATCH} turns per request, got {len(data.turns)}",
            )
        try:
            outcome = await repository.store_transcript(
                db, session_id, data.turns, final=data.final
            )
        except pg_errors.DataError as exc:
            # e.g. a NUL character in a turn, or a turn order beyond Postgres' integer
            raise ApiError(ApiErrorCode.BAD_REQUEST, f"turns cannot be stored: {exc}") from exc
        if not outcome.session_found:
            raise _not_found("session")
        if (
            outcome.max_attempt is not None
            and outcome.current_attempt is not None
            and outcome.max_attempt > outcome.current_attempt
        ):
            raise ApiError(
                ApiErrorCode.CONFLICT,
                f"attemptNumber {outcome.max_attempt} is beyond the session's current attempt "
                f"{outcome.current_attempt}",
            )
        metrics.turns_stored.inc(outcome.stored)
        attempt = outcome.max_attempt or outcome.current_attempt
        if data.usage is not None and attempt is not None:
            await record_usage(db, session_id, attempt, UsageSource.REALTIME, data.usage)
        return TranscriptAck(received=len(data.turns), stored=outcome.stored)
