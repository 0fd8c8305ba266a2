"""Issuing a token: who asks and what it may dispatch are checked, then it is minted.

The user must be one the database knows (401 otherwise: users/known.py, which answers the users
confirmed lately without a query); an assignment must be theirs, a scenario must exist. Every
call gets a fresh room name, because a room's configuration (and so the agent dispatch) only
applies when the join creates the room.
"""

import secrets
from uuid import UUID

from prometheus_client import Counter

from training_contracts import (
    ROOM_NAME_PREFIX,
    AgentDispatchMetadata,
    ApiErrorCode,
    TokenRequest,
    TokenResponse,
    encode_dispatch,
)

from ..assignments.repository import get_assignment
from ..db import Pool
from ..errors import ApiError
from ..scenarios.repository import get_scenario
from ..users.known import KnownUsers
from .minting import TokenMinter


class TokenIssuer:
    """Checks what the token may dispatch and mints it; one per app."""

    __slots__ = ("_minted", "_minter", "_pool", "_server_url", "_users")

    def __init__(
        self,
        minter: TokenMinter,
        server_url: str,
        pool: Pool,
        users: KnownUsers,
        minted: Counter | None = None,
    ) -> None:
        """`minted` counts the tokens by kind (assignment, scenario, free_practice)."""
        self._minter = minter
        self._server_url = server_url
        self._pool = pool
        self._users = users
        self._minted = minted

    async def issue(self, user_id: UUID, request: TokenRequest | None) -> TokenResponse:
        await self._users.require(user_id)
        metadata, kind = AgentDispatchMetadata(user_id=user_id), "free_practice"
        if request is not None and request.assignment_id is not None:
            metadata, kind = (
                await self._for_assignment(user_id, request.assignment_id),
                "assignment",
            )
        elif request is not None and request.scenario_id is not None:
            metadata, kind = await self._for_scenario(user_id, request.scenario_id), "scenario"
        room = ROOM_NAME_PREFIX + secrets.token_hex(4)
        token = self._minter.mint(str(user_id), room, encode_dispatch(metadata))
        if self._minted is not None:
            self._minted.labels(kind).inc()
        return TokenResponse(token=token, server_url=self._server_url, room_name=room)

    async def _for_assignment(self, user_id: UUID, assignment_id: UUID) -> AgentDispatchMetadata:
        """The assignment's own scenario wins over one given beside it."""
        async with self._pool.connection() as conn:
            assignment = await get_assignment(conn, assignment_id)
        if assignment is None:
            raise ApiError(ApiErrorCode.NOT_FOUND, "assignment not found")
        learner_id, scenario_id = assignment
        if learner_id != str(user_id):
            raise ApiError(ApiErrorCode.FORBIDDEN, "the assignment belongs to another user")
        return AgentDispatchMetadata(
            user_id=user_id, assignment_id=assignment_id, scenario_id=scenario_id
        )

    async def _for_scenario(self, user_id: UUID, scenario_id: UUID) -> AgentDispatchMetadata:
        async with self._pool.connection() as conn:
            scenario = await get_scenario(conn, scenario_id)
        if scenario is None:
            raise ApiError(ApiErrorCode.NOT_FOUND, "scenario not found")
        return AgentDispatchMetadata(user_id=user_id, scenario_id=scenario_id)
