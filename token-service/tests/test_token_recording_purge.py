"""Retention: purge-recordings deletes old recordings' files and rows, and nothing else."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import psycopg
import pytest
from token_test_helpers import Rows

from token_service.recordings import repository
from token_service.recordings.purge import _LOCK_KEY, purge_recordings
from token_service.recordings.storage import FilesystemStore, recording_key

Conn = psycopg.AsyncConnection[tuple[object, ...]]


@pytest.fixture
async def conn(fresh_database_url: str) -> AsyncIterator[Conn]:
    async with await psycopg.AsyncConnection.connect(fresh_database_url, autocommit=True) as c:
        yield c


async def chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def recorded_attempt(
    conn: Conn, store: FilesystemStore, *, age: timedelta, stored: bool
) -> UUID:
    rows = Rows(conn)
    user = await rows.user()
    cur = await conn.execute(
        "INSERT INTO sessions (type, user_id) VALUES ('free_practice', %s) RETURNING id", (user,)
    )
    row = await cur.fetchone()
    assert row is not None
    session_id: UUID = row[0]  # type: ignore[assignment]
    await repository.expect(conn, session_id, 1)
    await conn.execute(
        "UPDATE recordings SET created_at = now() - %s WHERE session_id = %s", (age, session_id)
    )
    if stored:
        staged = await store.stage(chunks(b"OggS" + b"\0" * 96), max_bytes=1000)
        key = recording_key(session_id, 1)
        await staged.commit(key)
        await repository.mark_stored(conn, session_id, 1, storage_key=key, size_bytes=100)
    return session_id


async def test_purge_deletes_old_files_and_rows_only(conn: Conn, tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path)
    old_stored = await recorded_attempt(conn, store, age=timedelta(days=40), stored=True)
    old_pending = await recorded_attempt(conn, store, age=timedelta(days=40), stored=False)
    recent = await recorded_attempt(conn, store, age=timedelta(days=1), stored=True)
    cutoff = datetime.now(UTC) - timedelta(days=30)

    report = await purge_recordings(conn, store, older_than=cutoff)

    assert (report.deleted, report.freed_bytes, report.failed) == (2, 100, 0)
    assert not report.already_running
    assert await repository.get(conn, old_stored, 1) is None
    assert await repository.get(conn, old_pending, 1) is None
    assert await store.open(recording_key(old_stored, 1)) is None
    assert await repository.get(conn, recent, 1) is not None
    assert await store.open(recording_key(recent, 1)) is not None
    # Run again (cron): nothing left to do.
    again = await purge_recordings(conn, store, older_than=cutoff)
    assert (again.deleted, again.failed) == (0, 0)


async def test_a_second_run_while_one_is_going_does_nothing(
    conn: Conn, fresh_database_url: str, tmp_path: Path
) -> None:
    store = FilesystemStore(tmp_path)
    old = await recorded_attempt(conn, store, age=timedelta(days=40), stored=True)
    async with await psycopg.AsyncConnection.connect(fresh_database_url, autocommit=True) as other:
        await other.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
        report = await purge_recordings(conn, store, older_than=datetime.now(UTC))
    assert report.already_running
    assert report.deleted == 0
    assert await repository.get(conn, old, 1) is not None


class ReadOnlyDisk(FilesystemStore):
    """The filesystem refusing the unlink (a read-only mount, say)."""

    async def delete(self, key: str) -> bool:
        raise PermissionError(13, "Read-only file system", key)


async def test_a_file_that_cannot_be_deleted_keeps_its_row(conn: Conn, tmp_path: Path) -> None:
    store = ReadOnlyDisk(tmp_path)
    old = await recorded_attempt(conn, store, age=timedelta(days=40), stored=True)
    report = await purge_recordings(conn, store, older_than=datetime.now(UTC))
    assert (report.deleted, report.failed) == (0, 1)
    assert await repository.get(conn, old, 1) is not None
    assert await store.open(recording_key(old, 1)) is not None
