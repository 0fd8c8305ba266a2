"""GET SESSION_PATH: the frontend reads a session it owns, with every attempt's transcript."""

from uuid import UUID

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath

from training_contracts import SESSION_PATH, ApiErrorCode, SessionView

from ..db import Connection
from ..errors import ApiError
from ..openapi import DATABASE, PATH_ID, documented
from ..routes import route
from ..usage.repository import list_usage
from . import repository


class SessionController(Controller):
    @get(
        route(SESSION_PATH),
        operation_id="getSession",
        summary="A session with its transcript",
        operation_class=documented(
            ApiErrorCode.UNAUTHORIZED,
            ApiErrorCode.FORBIDDEN,
            ApiErrorCode.NOT_FOUND,
            *PATH_ID,
            *DATABASE,
        ),
    )
    async def get_session(
        self,
        session_id: FromPath[UUID],
        user_id: NamedDependency[UUID],
        db: NamedDependency[Connection],
    ) -> SessionView:
        row = await repository.get_session(db, session_id)
        if row is None or row.owner_id is None:
            raise ApiError(ApiErrorCode.NOT_FOUND, "session not found")
        if not row.owned_by(user_id):
            raise ApiError(ApiErrorCode.FORBIDDEN, "the session belongs to another user")
        turns = await repository.get_turns(db, session_id)
        return repository.session_view(row, turns, await list_usage(db, session_id))
