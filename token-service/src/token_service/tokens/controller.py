"""TOKEN_PATH: a room-scoped LiveKit token that dispatches the training agent (service.py).

Also served, faster, by fast_route.TokenFastRoute in front of the app, which answers every
request as this handler does (tests hold the two to the same answers); this one keeps the app
whole and documented.
"""

from typing import Annotated
from uuid import UUID

from litestar import Controller
from litestar.di import NamedDependency
from litestar.params import Body

from training_contracts import TOKEN_PATH, ApiErrorCode, TokenRequest, TokenResponse

from ..auth import require_user
from ..openapi import BODY, DATABASE, USER, ApiOperation, errors
from ..routes import post_ok
from .service import TokenIssuer

_FREE_PRACTICE = "An empty body (or `{}`) asks for free practice"


class TokenController(Controller):
    tags = ("tokens",)
    guards = (require_user,)
    security = USER

    @post_ok(
        TOKEN_PATH,
        operation_id="createLivekitToken",
        summary="A LiveKit token for a fresh room that dispatches the training agent",
        responses=errors(
            ApiErrorCode.UNAUTHORIZED,
            ApiErrorCode.FORBIDDEN,
            ApiErrorCode.NOT_FOUND,
            *BODY,
            *DATABASE,
        ),
        operation_class=ApiOperation,
    )
    async def create_token(
        self,
        user_id: NamedDependency[UUID],
        token_issuer: NamedDependency[TokenIssuer],
        data: Annotated[TokenRequest | None, Body(description=_FREE_PRACTICE)] = None,
    ) -> TokenResponse:
        return await token_issuer.issue(user_id, data)
