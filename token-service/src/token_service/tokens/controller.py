"""TOKEN_PATH: a room-scoped LiveKit token that dispatches the training agent (see service.py)."""

from typing import Any

from litestar import Controller, Request
from litestar.datastructures import State
from litestar.openapi.spec import (
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIType,
    RequestBody,
    Schema,
)

from training_contracts import TOKEN_PATH, ApiErrorCode, TokenResponse

from ..auth import user_id_from
from ..openapi import BODY, DATABASE, USER, documented
from ..routes import post_ok
from ..services import services_of
from .service import decode_token_request

_UUID = Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.UUID)

# The handler decodes its body itself (see below), so the document is told its shape here.
_TOKEN_REQUEST_BODY = RequestBody(
    required=False,
    description="TokenRequest; an empty object or no body asks for free practice",
    content={
        "application/json": OpenAPIMediaType(
            schema=Schema(
                type=OpenAPIType.OBJECT,
                title="TokenRequest",
                properties={"assignmentId": _UUID, "scenarioId": _UUID},
            )
        )
    },
)


class TokenController(Controller):
    """Also served, faster, by fast_route.TokenFastRoute in front of the app (see there)."""

    tags = ("tokens",)
    security = USER

    # The hot path of the service: no guard and no dependency injection, which cost more per
    # request in Litestar than the token; the body is decoded straight into the contract type
    # once the user is known.
    @post_ok(
        TOKEN_PATH,
        operation_id="createLivekitToken",
        summary="A LiveKit token for a fresh room that dispatches the training agent",
        operation_class=documented(
            ApiErrorCode.UNAUTHORIZED,
            ApiErrorCode.FORBIDDEN,
            ApiErrorCode.NOT_FOUND,
            *BODY,
            *DATABASE,
            request_body=_TOKEN_REQUEST_BODY,
        ),
    )
    async def create_token(self, request: Request[Any, State, Any]) -> TokenResponse:
        user_id = user_id_from(request)
        data = decode_token_request(await request.body())
        return await services_of(request.app.state).token_issuer.issue(user_id, data)
