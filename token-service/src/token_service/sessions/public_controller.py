"""GET /api/sessions/{id}: the frontend reads a session it owns, with every attempt's transcript."""

from uuid import UUID

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.status_codes import HTTP_403_FORBIDDEN, HTTP_404_NOT_FOUND

from training_contracts import ApiErrorCode, SessionView

from ..auth import require_user
from ..db import Connection
from ..errors import ApiError
from . import repository


class SessionController(Controller):
    path = "/api/sessions"
    tags = ("sessions",)
    guards = (require_user,)

    @get("/{session_id:uuid}", operation_id="getSession", summary="A session with its transcript")
    async def get_session(
        self,
        session_id: FromPath[UUID],
        user_id: NamedDependency[UUID],
        db: NamedDependency[Connection],
    ) -> SessionView:
        row = await repository.get_session(db, session_id)
        if row is None:
            raise ApiError(HTTP_404_NOT_FOUND, ApiErrorCode.NOT_FOUND, "session not found")
        if row.user_id != user_id:
            raise ApiError(
                HTTP_403_FORBIDDEN, ApiErrorCode.FORBIDDEN, "the session belongs to another user"
            )
        turns = await repository.get_turns(db, session_id)
        return repository.session_view(row, turns)
