"""Retention: delete recordings (file and row) of attempts older than the retention period, and
the voice state of sessions the application deleted (orphans.py), their recordings first.

Safe to run from cron: a second run while one is going finds the advisory lock taken and does
nothing; each recording goes in its own transaction (row deleted, file deleted, commit), so an
interrupted run leaves every recording either whole or gone, and the next run finishes the rest.
A file that cannot be deleted keeps its row (the transaction rolls back) and is counted as failed.
"""

import logging
from datetime import UTC, datetime, timedelta

import msgspec

from ..db import Connection, connect
from ..orphans import sweep_orphans
from ..settings import load_purge_settings
from . import repository
from .repository import RecordingRow
from .storage import FilesystemStore, RecordingStore

logger = logging.getLogger(__name__)

# Any constant will do, as long as nothing else in the database uses it as an advisory lock key.
_LOCK_KEY = 7_263_401_188_512_014


class PurgeReport(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """What `token-service purge-recordings` prints."""

    older_than: datetime
    deleted: int = 0
    freed_bytes: int = 0
    failed: int = 0
    already_running: bool = False
    orphaned_sessions: int = 0
    """Sessions the application deleted whose voice state went (recordings counted above)."""


async def purge_recordings(
    conn: Connection, store: RecordingStore, *, older_than: datetime
) -> PurgeReport:
    """`conn` must be in autocommit mode (each recording is its own transaction)."""
    cur = await conn.execute("SELECT pg_try_advisory_lock(%s)", (_LOCK_KEY,))
    locked = await cur.fetchone()
    if not (locked and locked[0]):
        return PurgeReport(older_than=older_than, already_running=True)
    try:
        expired = await repository.expired(conn, older_than)
        deleted, freed, failed = await _delete(
            conn, store, expired + await repository.orphaned(conn)
        )
        return PurgeReport(
            older_than=older_than,
            deleted=deleted,
            freed_bytes=freed,
            failed=failed,
            orphaned_sessions=await sweep_orphans(conn),
        )
    finally:
        await conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))


async def _delete(
    conn: Connection, store: RecordingStore, rows: list[RecordingRow]
) -> tuple[int, int, int]:
    """Each recording's row and file in a transaction of its own: (deleted, freed bytes, failed)."""
    deleted = freed = failed = 0
    seen: set[tuple[str, int]] = set()
    for row in rows:
        if (row.session_id, row.attempt) in seen:  # expired and orphaned at once
            continue
        seen.add((row.session_id, row.attempt))
        try:
            async with conn.transaction():
                gone = await repository.delete(conn, row.session_id, row.attempt)
                if gone is not None and gone.storage_key is not None:
                    await store.delete(gone.storage_key)
        except OSError:
            logger.exception(
                "recording of %s attempt %d could not be deleted; kept for the next run",
                row.session_id,
                row.attempt,
            )
            failed += 1
            continue
        if gone is not None:
            deleted += 1
            freed += gone.size_bytes or 0
    return deleted, freed, failed


async def purge_expired() -> PurgeReport:
    """`token-service purge-recordings`: the database, retention and store from the environment."""
    settings = load_purge_settings()
    older_than = datetime.now(UTC) - timedelta(days=settings.recording_retention_days)
    async with await connect(settings.database_url, settings.voice_schema) as conn:
        return await purge_recordings(
            conn, FilesystemStore(settings.recordings_dir), older_than=older_than
        )
