"""Retention: delete recordings (file and row) of attempts older than the retention period.

Safe to run from cron: a second run while one is going finds the advisory lock taken and does
nothing; each recording goes in its own transaction (row deleted, file deleted, commit), so an
interrupted run leaves every recording either whole or gone, and the next run finishes the rest.
A file that cannot be deleted keeps its row (the transaction rolls back) and is counted as failed.
"""

import logging
from datetime import UTC, datetime, timedelta

import msgspec
import psycopg

from ..db import Connection
from ..settings import load_recording_settings
from . import repository
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


async def purge_recordings(
    conn: Connection, store: RecordingStore, *, older_than: datetime
) -> PurgeReport:
    """`conn` must be in autocommit mode (each recording is its own transaction)."""
    cur = await conn.execute("SELECT pg_try_advisory_lock(%s)", (_LOCK_KEY,))
    locked = await cur.fetchone()
    if not (locked and locked[0]):
        return PurgeReport(older_than=older_than, already_running=True)
    try:
        deleted = freed = failed = 0
        for row in await repository.expired(conn, older_than):
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
        return PurgeReport(older_than=older_than, deleted=deleted, freed_bytes=freed, failed=failed)
    finally:
        await conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))


async def purge_expired(database_url: str) -> PurgeReport:
    """`token-service purge-recordings`: the retention and store from the environment."""
    settings = load_recording_settings()
    older_than = datetime.now(UTC) - timedelta(days=settings.recording_retention_days)
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        return await purge_recordings(
            conn, FilesystemStore(settings.recordings_dir), older_than=older_than
        )
