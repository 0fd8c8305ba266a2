"""SessionStarter: the agent's session creation, as one transaction (attempts.py has its
statements).

Idempotent by key: a request names the attempt it starts by its `idempotencyKey` (the agent's
LiveKit job id) or, without one, by the key the lost-connection middleware gives each request
for its replays (lost_connection.request_key). The key is stored with the attempt it started, in
the same transaction; the same key again returns that session and attempt instead of starting
another, whether the first answer was lost on the way back to the agent or a dead database
connection made the middleware run the request again after the commit.
"""

from uuid import UUID, uuid4

from psycopg import errors as pg_errors

from training_contracts import (
    ApiErrorCode,
    AssignmentSessionRequest,
    CreateSessionRequest,
    CreateSessionResponse,
)

from ..db import Connection, Pool
from ..errors import ApiError
from ..metrics import ServiceMetrics
from . import attempts
from .attempts import KeyedAttempt

FREE_PRACTICE_MODEL_TYPE = "phone"
"""The application's model_type of a voice session that no assignment's scenario decides."""

# A foreign key of the application's that a concurrent delete broke, and what the agent is told.
_DELETED_MEANWHILE = {
    "sessions_user_id_fkey": (ApiErrorCode.USER_NOT_FOUND, "user"),
    "sessions_assignment_id_fkey": (ApiErrorCode.ASSIGNMENT_NOT_FOUND, "assignment"),
    "sessions_scenario_id_fkey": (ApiErrorCode.NOT_FOUND, "scenario"),
}


def _not_found(code: ApiErrorCode, what: str) -> ApiError:
    return ApiError(code, f"{what} not found")


def _same_request(found: KeyedAttempt, request: CreateSessionRequest) -> bool:
    assignment_id = (
        str(request.assignment_id) if isinstance(request, AssignmentSessionRequest) else None
    )
    return found.user_id == str(request.user_id) and found.assignment_id == assignment_id


class SessionStarter:
    """Starts the attempts the agent asks for; one per app."""

    __slots__ = ("_metrics", "_pool", "_record_free_practice")

    def __init__(self, pool: Pool, metrics: ServiceMetrics, *, record_free_practice: bool) -> None:
        self._pool = pool
        self._metrics = metrics
        self._record_free_practice = record_free_practice

    async def start(self, request: CreateSessionRequest, key: str) -> CreateSessionResponse:
        """The new free practice session, or the assignment's next attempt; the same again for a
        key seen before. `user_not_found` and `assignment_not_found` tell the agent that nobody
        of that id exists (nothing to retry); `not_found` is the scenario."""
        try:
            async with self._pool.connection() as conn, conn.transaction():
                found = await attempts.hold_request_key(conn, key)
                if found is not None:
                    return self._again(found, request)
                created = await self._create(conn, request, key)
        except pg_errors.ForeignKeyViolation as exc:
            # a row of the application's deleted between the checks and the insert
            code, what = _DELETED_MEANWHILE.get(
                exc.diag.constraint_name or "", (ApiErrorCode.NOT_FOUND, "user or scenario")
            )
            raise _not_found(code, what) from exc
        self._metrics.sessions_created.labels(request.type.value).inc()
        return created

    @staticmethod
    def _again(found: KeyedAttempt, request: CreateSessionRequest) -> CreateSessionResponse:
        if not _same_request(found, request):
            raise ApiError(
                ApiErrorCode.CONFLICT, "the idempotency key was used for another session request"
            )
        return CreateSessionResponse(
            session_id=UUID(found.session_id), attempt=found.attempt, record=found.recorded
        )

    async def _create(
        self, conn: Connection, request: CreateSessionRequest, key: str
    ) -> CreateSessionResponse:
        user_id = str(request.user_id)
        scenario_id = None if request.scenario_id is None else str(request.scenario_id)
        user_exists, scenario_exists = await attempts.user_and_scenario(conn, user_id, scenario_id)
        if not user_exists:
            raise _not_found(ApiErrorCode.USER_NOT_FOUND, "user")
        if not scenario_exists:
            raise _not_found(ApiErrorCode.NOT_FOUND, "scenario")
        if isinstance(request, AssignmentSessionRequest):
            session_id, attempt, record = await self._next_of_assignment(conn, request)
        else:
            session_id, attempt = str(uuid4()), 1
            record = self._record_free_practice
            await attempts.insert_session(
                conn,
                session_id,
                user_id=user_id,
                assignment_id=None,
                scenario_id=scenario_id,
                model_type=FREE_PRACTICE_MODEL_TYPE,
            )
        await attempts.record_attempt(
            conn, session_id, attempt, request_key=key, record=record, room=request.room_name
        )
        return CreateSessionResponse(session_id=UUID(session_id), attempt=attempt, record=record)

    @staticmethod
    async def _next_of_assignment(
        conn: Connection, request: AssignmentSessionRequest
    ) -> tuple[str, int, bool]:
        """(session, attempt, recorded): the assignment's session counted up, or its first."""
        assignment_id = str(request.assignment_id)
        assignment = await attempts.lock_assignment(conn, assignment_id)
        if assignment is None:
            raise _not_found(ApiErrorCode.ASSIGNMENT_NOT_FOUND, "assignment")
        if assignment.counselor_id != str(request.user_id):
            raise ApiError(ApiErrorCode.FORBIDDEN, "the assignment belongs to another user")
        if request.scenario_id is not None and str(request.scenario_id) != assignment.scenario_id:
            raise ApiError(ApiErrorCode.CONFLICT, "scenarioId is not the assignment's scenario")
        bumped = await attempts.next_attempt(conn, assignment_id)
        if bumped is not None:
            return *bumped, assignment.require_recording
        if assignment.status == "completed":
            raise ApiError(
                ApiErrorCode.CONFLICT, "the assignment is completed and has no session to retry"
            )
        session_id = str(uuid4())
        await attempts.insert_session(
            conn,
            session_id,
            user_id=str(request.user_id),
            assignment_id=assignment_id,
            scenario_id=assignment.scenario_id,
            model_type=assignment.mode,
        )
        await attempts.mark_in_progress(conn, assignment_id)
        return session_id, 1, assignment.require_recording
