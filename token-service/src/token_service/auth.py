"""The two ways in: the frontend's `x-user-id` header and the agent's internal service key.

Both are guards, so an unauthenticated request is refused with 401 before its body is read.
"""

import hmac
from typing import Any
from uuid import UUID

from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from training_contracts import INTERNAL_KEY_HEADER, USER_ID_HEADER, ApiErrorCode

from .errors import ApiError
from .services import services_of

_INTERNAL_KEY_HEADER = INTERNAL_KEY_HEADER.lower()


def parse_user_id(raw: str | None) -> UUID:
    """A user id from the `x-user-id` header's value, or 401."""
    if raw:
        try:
            return UUID(raw)
        except ValueError:
            pass
    raise ApiError(ApiErrorCode.UNAUTHORIZED, f"{USER_ID_HEADER} must be a user UUID")


def user_id_from(connection: ASGIConnection[Any, Any, Any, Any]) -> UUID:
    """The caller's user id from `x-user-id`, or 401."""
    return parse_user_id(connection.headers.get(USER_ID_HEADER))


async def require_user(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    user_id_from(connection)


async def require_internal_key(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    expected = services_of(connection.app.state).internal_key
    given = connection.headers.get(_INTERNAL_KEY_HEADER, "").encode()
    if not hmac.compare_digest(given, expected):
        raise ApiError(ApiErrorCode.UNAUTHORIZED, f"{INTERNAL_KEY_HEADER} is missing or wrong")
