"""Who may ask for a token: a user id the database knows, remembered for a while.

The token endpoint refuses an unknown user with 401 before any room exists, so a typo or a stale
id never reaches the agent. It is the service's hot path, so the users confirmed lately are kept
in a bounded cache (least recently confirmed dropped first) and a hit costs no query.

A user deleted from the database keeps getting tokens for at most `ttl_s` after the last time
this process confirmed it; such a token's call then ends at the agent, whose session creation
looks the user up again (uncached) and publishes `user_or_assignment_not_found`. Unknown ids are
never cached: a user created a moment ago is known at once.
"""

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Final
from uuid import UUID

from training_contracts import USER_ID_HEADER, ApiErrorCode

from ..db import Pool
from ..errors import ApiError
from .repository import user_exists

KNOWN_USER_TTL_S: Final = 60.0
KNOWN_USERS_CAPACITY: Final = 10_000


class KnownUsers:
    """`require(user_id)` passes for a user the database knows, else raises 401."""

    __slots__ = ("_capacity", "_clock", "_confirmed", "_pool", "_ttl_s")

    def __init__(
        self,
        pool: Pool,
        *,
        ttl_s: float = KNOWN_USER_TTL_S,
        capacity: int = KNOWN_USERS_CAPACITY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`clock`: seconds on a clock that never goes back, what `ttl_s` is measured on."""
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self._pool = pool
        self._ttl_s = ttl_s
        self._capacity = capacity
        self._clock = clock
        self._confirmed: OrderedDict[UUID, float] = OrderedDict()

    def __len__(self) -> int:
        return len(self._confirmed)

    async def require(self, user_id: UUID) -> None:
        confirmed_at = self._confirmed.get(user_id)
        if confirmed_at is not None and self._clock() - confirmed_at < self._ttl_s:
            return
        async with self._pool.connection() as conn:
            exists = await user_exists(conn, user_id)
        if not exists:
            self._confirmed.pop(user_id, None)
            raise ApiError(ApiErrorCode.UNAUTHORIZED, f"{USER_ID_HEADER} names no known user")
        self._confirmed[user_id] = self._clock()
        self._confirmed.move_to_end(user_id)
        while len(self._confirmed) > self._capacity:
            self._confirmed.popitem(last=False)
