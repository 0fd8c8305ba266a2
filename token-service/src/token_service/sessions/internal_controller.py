"""The agent's API: create a session (or the next attempt of an assignment's), store transcripts.

Handlers parse and hand over: SessionStarter (service.py) and TranscriptStore
(transcript_store.py) do the work.
"""

from uuid import UUID

from litestar import Controller
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from training_contracts import (
    INTERNAL_SESSIONS_PATH,
    INTERNAL_TRANSCRIPT_PATH,
    ApiErrorCode,
    CreateSessionRequest,
    CreateSessionResponse,
    TranscriptAck,
    TranscriptBatch,
)

from ..openapi import BODY, DATABASE, PATH_ID, ApiOperation, errors, session_links
from ..routes import post_ok
from .service import SessionStarter
from .transcript_store import TranscriptStore


class _CreateSessionOperation(ApiOperation):
    links = session_links("sessionId", "attempt")


class InternalSessionController(Controller):
    @post_ok(
        INTERNAL_SESSIONS_PATH,
        operation_id="createSession",
        summary="Create a voice session, or the next attempt of an assignment's session",
        responses=errors(
            ApiErrorCode.UNAUTHORIZED,
            ApiErrorCode.FORBIDDEN,
            ApiErrorCode.USER_NOT_FOUND,
            ApiErrorCode.ASSIGNMENT_NOT_FOUND,
            ApiErrorCode.NOT_FOUND,
            ApiErrorCode.CONFLICT,
            *BODY,
            *DATABASE,
        ),
        operation_class=_CreateSessionOperation,
    )
    async def create_session(
        self,
        data: JSONBody[CreateSessionRequest],
        session_starter: NamedDependency[SessionStarter],
        request_key: NamedDependency[str],
    ) -> CreateSessionResponse:
        """`user_not_found` and `assignment_not_found` tell the agent that nobody of that id
        exists (nothing to retry); `not_found` is the scenario. The same `idempotencyKey` again
        returns the same session and attempt."""
        return await session_starter.start(data, data.idempotency_key or request_key)

    @post_ok(
        INTERNAL_TRANSCRIPT_PATH,
        operation_id="storeTranscript",
        summary="Store transcript turns",
        responses=errors(
            ApiErrorCode.UNAUTHORIZED,
            ApiErrorCode.NOT_FOUND,
            ApiErrorCode.CONFLICT,
            *PATH_ID,
            *BODY,
            *DATABASE,
        ),
        operation_class=ApiOperation,
    )
    async def store_transcript(
        self,
        session_id: FromPath[UUID],
        data: JSONBody[TranscriptBatch],
        transcript_store: NamedDependency[TranscriptStore],
    ) -> TranscriptAck:
        """Turns sent again are stored once; `final` completes the attempt. The batch's `usage`
        belongs to the attempt its turns name (none named: the current one)."""
        return await transcript_store.store(session_id, data)
