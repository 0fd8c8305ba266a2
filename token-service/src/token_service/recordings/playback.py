"""RecordingPlayback: the owner plays an attempt's recording back.

The whole file (200), or the one byte range a `Range` header asks for (206), so a player can seek;
403 for another user's session, 404 when the attempt is not recorded (or its recording failed, or
was purged), 409 while the agent is still delivering it, 416 for a range past its end.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from uuid import UUID

from litestar.status_codes import HTTP_200_OK, HTTP_206_PARTIAL_CONTENT

from training_contracts import ApiErrorCode

from ..db import Pool
from ..errors import ApiError
from . import repository
from .ranges import Unsatisfiable, parse_range
from .repository import OwnedRecording, RecordingStatus
from .storage import RecordingStore


@dataclass(frozen=True, slots=True)
class Played:
    """What to answer: its status, headers and the bytes, as they are read."""

    status: int
    headers: dict[str, str]
    chunks: AsyncIterator[bytes]


def _not_found(message: str) -> ApiError:
    return ApiError(ApiErrorCode.NOT_FOUND, message)


def _storage_key(owned: OwnedRecording | None, user_id: UUID) -> str:
    """Where the caller's recording is stored, or the ApiError that says why it cannot be played."""
    if owned is None or owned.owner_id is None:
        raise _not_found("session not found")
    if owned.owner_id != str(user_id):
        raise ApiError(ApiErrorCode.FORBIDDEN, "the session belongs to another user")
    if owned.status == RecordingStatus.PENDING:
        raise ApiError(
            ApiErrorCode.RECORDING_PENDING,
            f"the recording of attempt {owned.attempt} is still being delivered",
        )
    if owned.status == RecordingStatus.FAILED:
        raise _not_found(f"attempt {owned.attempt} was not recorded: {owned.failure}")
    if owned.status is None or owned.storage_key is None:
        raise _not_found(f"attempt {owned.attempt} has no recording")
    return owned.storage_key


class RecordingPlayback:
    """One per app."""

    __slots__ = ("_pool", "_store")

    def __init__(self, pool: Pool, store: RecordingStore) -> None:
        self._pool = pool
        self._store = store

    async def play(
        self, session_id: UUID, user_id: UUID, attempt: int | None, byte_range: str | None
    ) -> Played:
        """The attempt's recording (None: the current attempt's) as `user_id` may hear it, the
        range `byte_range` (a Range header) asks for."""
        async with self._pool.connection() as conn:
            owned = await repository.get_owned(conn, session_id, attempt)
        stored = await self._store.open(_storage_key(owned, user_id))
        if stored is None:
            raise _not_found("the recording is gone")
        headers = {"Accept-Ranges": "bytes", "Cache-Control": "private, no-cache"}
        try:
            wanted = parse_range(byte_range, stored.size)
        except Unsatisfiable:
            raise ApiError(
                ApiErrorCode.RANGE_NOT_SATISFIABLE,
                f"the recording has {stored.size} bytes",
                headers={"Content-Range": f"bytes */{stored.size}"},
            ) from None
        if wanted is None:
            headers["Content-Length"] = str(stored.size)
            return Played(HTTP_200_OK, headers, stored.read(0, stored.size))
        headers["Content-Length"] = str(wanted.length)
        headers["Content-Range"] = wanted.content_range(stored.size)
        return Played(HTTP_206_PARTIAL_CONTENT, headers, stored.read(wanted.start, wanted.end))
