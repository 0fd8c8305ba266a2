"""GET SESSION_PATH: the frontend reads a session it owns (views.py)."""

from uuid import UUID

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath

from training_contracts import SESSION_PATH, ApiErrorCode, SessionView

from ..openapi import DATABASE, PATH_ID, ApiOperation, errors
from ..routes import route
from .views import SessionViews


class SessionController(Controller):
    @get(
        route(SESSION_PATH),
        operation_id="getSession",
        summary="A session with its transcript",
        responses=errors(
            ApiErrorCode.UNAUTHORIZED,
            ApiErrorCode.FORBIDDEN,
            ApiErrorCode.NOT_FOUND,
            *PATH_ID,
            *DATABASE,
        ),
        operation_class=ApiOperation,
    )
    async def get_session(
        self,
        session_id: FromPath[UUID],
        user_id: NamedDependency[UUID],
        session_views: NamedDependency[SessionViews],
    ) -> SessionView:
        return await session_views.view(session_id, user_id)
