"""POST /api/livekit/token: a room-scoped LiveKit token that dispatches the training agent.

Free practice (no ids) touches no database; an assignment must be the caller's, a scenario must
exist. Every call gets a fresh room name, because a room's configuration (and so the agent
dispatch) only applies when the join creates the room.
"""

import secrets
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, post
from litestar.datastructures import State
from litestar.openapi.spec import (
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIType,
    Operation,
    RequestBody,
    Schema,
)
from litestar.status_codes import (
    HTTP_200_OK,
    HTTP_400_BAD_REQUEST,
    HTTP_403_FORBIDDEN,
    HTTP_404_NOT_FOUND,
)

from training_contracts import (
    ROOM_NAME_PREFIX,
    AgentDispatchMetadata,
    ApiErrorCode,
    TokenRequest,
    TokenResponse,
    encode_dispatch,
)

from ..auth import user_id_from
from ..db import Connection, Pool
from ..errors import ApiError
from .minting import TokenMinter


async def _assignment(conn: Connection, assignment_id: UUID) -> tuple[UUID, UUID] | None:
    cur = await conn.execute(
        "SELECT user_id, scenario_id FROM assignments WHERE id = %s", (assignment_id,)
    )
    row = await cur.fetchone()
    return (row[0], row[1]) if row is not None else None


async def _scenario_exists(conn: Connection, scenario_id: UUID) -> bool:
    cur = await conn.execute("SELECT 1 FROM scenarios WHERE id = %s", (scenario_id,))
    return await cur.fetchone() is not None


TOKEN_PATH = "/api/livekit/token"  # noqa: S105  (a path, not a secret)

_decode_request = msgspec.json.Decoder(TokenRequest).decode


def decode_token_request(body: bytes) -> TokenRequest | None:
    """The request body, `None` when empty (free practice), or 400."""
    if not body:
        return None
    try:
        return _decode_request(body)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ApiError(HTTP_400_BAD_REQUEST, ApiErrorCode.BAD_REQUEST, str(exc)) from exc


class TokenIssuer:
    """Checks what the token may dispatch and mints it; one per app."""

    __slots__ = ("_minter", "_pool", "_server_url")

    def __init__(self, minter: TokenMinter, server_url: str, pool: Pool) -> None:
        self._minter = minter
        self._server_url = server_url
        self._pool = pool

    async def issue(self, user_id: UUID, request: TokenRequest | None) -> TokenResponse:
        assignment_id = scenario_id = None
        if request is not None and request.assignment_id is not None:
            async with self._pool.connection() as conn:
                assignment = await _assignment(conn, request.assignment_id)
            if assignment is None:
                raise ApiError(HTTP_404_NOT_FOUND, ApiErrorCode.NOT_FOUND, "assignment not found")
            owner_id, scenario_id = assignment
            if owner_id != user_id:
                raise ApiError(
                    HTTP_403_FORBIDDEN,
                    ApiErrorCode.FORBIDDEN,
                    "the assignment belongs to another user",
                )
            assignment_id = request.assignment_id
        elif request is not None and request.scenario_id is not None:
            async with self._pool.connection() as conn:
                found = await _scenario_exists(conn, request.scenario_id)
            if not found:
                raise ApiError(HTTP_404_NOT_FOUND, ApiErrorCode.NOT_FOUND, "scenario not found")
            scenario_id = request.scenario_id
        metadata = encode_dispatch(
            AgentDispatchMetadata(
                user_id=user_id, assignment_id=assignment_id, scenario_id=scenario_id
            )
        )
        identity = str(user_id)
        room = ROOM_NAME_PREFIX + secrets.token_hex(4)
        return TokenResponse(
            token=self._minter.mint(identity, room, metadata),
            server_url=self._server_url,
            room_name=room,
        )


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

    path = TOKEN_PATH.rsplit("/", 1)[0]
    tags = ("tokens",)

    # The hot path of the service: no guard, no dependency injection (each costs ~10 us in
    # Litestar), the body decoded straight into the contract type after the user is known.
    @post(
        "/token",
        operation_id="createLivekitToken",
        summary="A LiveKit token for a fresh room that dispatches the training agent",
        status_code=HTTP_200_OK,
        operation_class=_TokenOperation,
    )
    async def create_token(self, request: Request[Any, State, Any]) -> TokenResponse:
        user_id = user_id_from(request)
        data = decode_token_request(await request.body())
        issuer: TokenIssuer = request.app.state.token_issuer
        return await issuer.issue(user_id, data)
