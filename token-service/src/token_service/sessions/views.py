"""SessionViews: the frontend reads a session it owns, with every attempt's transcript and what
each attempt cost (repository.py has the statements)."""

from uuid import UUID

from training_contracts import ApiErrorCode, SessionView

from ..db import Pool
from ..errors import ApiError
from ..usage.repository import list_usage
from . import repository


class SessionViews:
    """One per app."""

    __slots__ = ("_pool",)

    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def view(self, session_id: UUID, user_id: UUID) -> SessionView:
        """The session as `user_id` may read it: 404 for none, 403 for another user's."""
        async with self._pool.connection() as conn:
            row = await repository.get_session(conn, session_id)
            if row is None or row.owner_id is None:
                raise ApiError(ApiErrorCode.NOT_FOUND, "session not found")
            if not row.owned_by(user_id):
                raise ApiError(ApiErrorCode.FORBIDDEN, "the session belongs to another user")
            turns = await repository.get_turns(conn, session_id)
            return repository.session_view(row, turns, await list_usage(conn, session_id))
