"""TOKEN_PATH: a room-scoped LiveKit token that dispatches the training agent (see service.py)."""

from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request
from litestar.datastructures import State
from litestar.openapi.spec import (
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIType,
    Operation,
    RequestBody,
    Schema,
)

from training_contracts import TOKEN_PATH, TokenResponse

from ..auth import user_id_from
from ..routes import post_ok
from ..services import services_of
from .service import decode_token_request


@dataclass
class _TokenOperation(Operation):
    """The OpenAPI operation with its request body, which the handler decodes itself."""

    def __post_init__(self) -> None:
        uuid = Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.UUID)
        self.request_body = RequestBody(
            required=False,
            description="TokenRequest; an empty object or no body asks for free practice",
            content={
                "application/json": OpenAPIMediaType(
                    schema=Schema(
                        type=OpenAPIType.OBJECT,
                        title="TokenRequest",
                        properties={"assignmentId": uuid, "scenarioId": uuid},
                    )
                )
            },
        )


class TokenController(Controller):
    """Also served, faster, by fast_route.TokenFastRoute in front of the app (see there)."""

    tags = ("tokens",)

    # The hot path of the service: no guard and no dependency injection, which cost more per
    # request in Litestar than the token; the body is decoded straight into the contract type
    # once the user is known.
    @post_ok(
        TOKEN_PATH,
        operation_id="createLivekitToken",
        summary="A LiveKit token for a fresh room that dispatches the training agent",
        operation_class=_TokenOperation,
    )
    async def create_token(self, request: Request[Any, State, Any]) -> TokenResponse:
        user_id = user_id_from(request)
        data = decode_token_request(await request.body())
        return await services_of(request.app.state).token_issuer.issue(user_id, data)
