"""Recordings of session attempts (attempt_recordings, in the voice schema): which attempt is
recorded, and what became of it."""

from datetime import datetime
from enum import StrEnum
from uuid import UUID

import msgspec
from psycopg.rows import class_row

from ..db import Connection


class RecordingStatus(StrEnum):
    PENDING = "pending"
    """Expected: the call is recorded, the file is not stored yet."""
    STORED = "stored"
    FAILED = "failed"
    """The agent reported that no recording will come."""


class RecordingRow(msgspec.Struct, frozen=True, kw_only=True):
    session_id: str
    attempt: int
    status: str
    """A RecordingStatus value."""
    storage_key: str | None
    size_bytes: int | None
    failure: str | None
    created_at: datetime
    stored_at: datetime | None


class OwnedRecording(msgspec.Struct, frozen=True, kw_only=True):
    """A session's owner and what became of the asked attempt's recording (status None: the
    attempt is not recorded, or does not exist)."""

    owner_id: str | None
    """As SessionRow.owner_id."""
    attempt: int
    status: str | None
    storage_key: str | None
    size_bytes: int | None
    failure: str | None


_GET = """
SELECT session_id, attempt, status, storage_key, size_bytes, failure, created_at, stored_at
FROM attempt_recordings WHERE session_id = %s AND attempt = %s
"""
_GET_FOR_UPDATE = _GET + "FOR UPDATE"


async def get(
    conn: Connection, session_id: UUID, attempt: int, *, for_update: bool = False
) -> RecordingRow | None:
    async with conn.cursor(row_factory=class_row(RecordingRow)) as cur:
        await cur.execute(_GET_FOR_UPDATE if for_update else _GET, (str(session_id), attempt))
        return await cur.fetchone()


async def get_owned(
    conn: Connection, session_id: UUID, attempt: int | None
) -> OwnedRecording | None:
    """One query; None when the session is unknown. No attempt given: the current one."""
    async with conn.cursor(row_factory=class_row(OwnedRecording)) as cur:
        await cur.execute(
            """
            SELECT coalesce(asg.counselor_id, s.user_id) AS owner_id, a.attempt, r.status,
                   r.storage_key, r.size_bytes, r.failure
            FROM public.sessions AS s
            LEFT JOIN public.assignments AS asg ON asg.id = s.assignment_id
            CROSS JOIN LATERAL (SELECT coalesce(%(attempt)s::int, s.current_attempt)) AS a (attempt)
            LEFT JOIN attempt_recordings AS r ON r.session_id = s.id AND r.attempt = a.attempt
            WHERE s.id = %(session_id)s
            """,
            {"session_id": str(session_id), "attempt": attempt},
        )
        return await cur.fetchone()


async def mark_stored(
    conn: Connection, session_id: UUID, attempt: int, *, storage_key: str, size_bytes: int
) -> None:
    await conn.execute(
        """
        UPDATE attempt_recordings
        SET status = 'stored', storage_key = %s, size_bytes = %s, failure = NULL, stored_at = now()
        WHERE session_id = %s AND attempt = %s
        """,
        (storage_key, size_bytes, str(session_id), attempt),
    )


async def mark_failed(conn: Connection, session_id: UUID, attempt: int, reason: str) -> bool:
    """Record why no recording will come; a stored recording is left as it is. False: no row."""
    cur = await conn.execute(
        """
        UPDATE attempt_recordings SET failure = %s,
               status = CASE WHEN status = 'stored' THEN status ELSE 'failed' END
        WHERE session_id = %s AND attempt = %s
        RETURNING 1
        """,
        (reason, str(session_id), attempt),
    )
    return await cur.fetchone() is not None


async def expired(conn: Connection, older_than: datetime) -> list[RecordingRow]:
    """Recordings of attempts that started before `older_than`, oldest first."""
    async with conn.cursor(row_factory=class_row(RecordingRow)) as cur:
        await cur.execute(
            """
            SELECT session_id, attempt, status, storage_key, size_bytes, failure, created_at, stored_at
            FROM attempt_recordings WHERE created_at < %s ORDER BY created_at
            """,
            (older_than,),
        )
        return await cur.fetchall()


async def orphaned(conn: Connection) -> list[RecordingRow]:
    """Recordings of sessions the application deleted (orphans.py)."""
    async with conn.cursor(row_factory=class_row(RecordingRow)) as cur:
        await cur.execute(
            """
            SELECT session_id, attempt, status, storage_key, size_bytes, failure, created_at,
                   stored_at
            FROM attempt_recordings AS t
            WHERE NOT EXISTS (SELECT 1 FROM public.sessions AS s WHERE s.id = t.session_id)
            """
        )
        return await cur.fetchall()


async def delete(conn: Connection, session_id: str, attempt: int) -> RecordingRow | None:
    async with conn.cursor(row_factory=class_row(RecordingRow)) as cur:
        await cur.execute(
            """
            DELETE FROM attempt_recordings WHERE session_id = %s AND attempt = %s
            RETURNING session_id, attempt, status, storage_key, size_bytes, failure, created_at, stored_at
            """,
            (session_id, attempt),
        )
        return await cur.fetchone()
