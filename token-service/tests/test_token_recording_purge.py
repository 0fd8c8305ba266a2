"""Retention: purge-recordings deletes old recordings' files and rows, and nothing else; and the
voice state of sessions the application deleted."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import psycopg
import pytest
from token_test_helpers import Rows

from token_service.recordings import repository
from token_service.recordings.purge import _LOCK_KEY, purge_recordings
from token_service.recordings.storage import FilesystemStore, recording_key

Conn = psycopg.AsyncConnection[tuple[object, ...]]


@pytest.fixture
async def conn(fresh_database_url: str) -> AsyncIterator[Conn]:
    async with await Rows.connect(fresh_database_url) as c:
        yield c


async def chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def recorded_attempt(
    conn: Conn, store: FilesystemStore, *, age: timedelta, stored: bool
) -> UUID:
    rows = Rows(conn)
    user = await rows.user()
    session_id = uuid4()
    await conn.execute(
        "INSERT INTO public.sessions (id, user_id, model_type) VALUES (%s, %s, 'phone')",
        (session_id, user),
    )
    await conn.execute(
        "INSERT INTO attempt_recordings (session_id, attempt, created_at)"
        " VALUES (%s, 1, now() - %s)",
        (session_id, age),
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


async def test_the_voice_state_of_a_session_the_application_deleted_goes(
    conn: Conn, tmp_path: Path
) -> None:
    """No foreign keys into the application's tables: its delete leaves voice rows behind, which
    the next run removes (the recording's file first); a live session's rows stay."""
    store = FilesystemStore(tmp_path)
    deleted = await recorded_attempt(conn, store, age=timedelta(days=1), stored=True)
    kept = await recorded_attempt(conn, store, age=timedelta(days=1), stored=True)
    for session_id in (deleted, kept):
        await conn.execute(
            """
            WITH a AS (INSERT INTO attempts (session_id, attempt) VALUES (%(s)s, 1)),
                 t AS (INSERT INTO stored_turns (session_id, attempt, turn_order, turn_id)
                       VALUES (%(s)s, 1, 1, 'x')),
                 e AS (INSERT INTO attempt_evaluations (session_id, attempt, overall_score,
                       summary, strengths, improvements, model)
                       VALUES (%(s)s, 1, 50, 's', '[]', '[]', 'm')),
                 u AS (INSERT INTO attempt_usage (session_id, attempt, source, model)
                       VALUES (%(s)s, 1, 'realtime', 'm'))
            INSERT INTO call_rooms (room_name, session_id, attempt) VALUES (%(room)s, %(s)s, 1)
            """,
            {"s": session_id, "room": f"training-{session_id.hex[:8]}"},
        )
    await conn.execute("DELETE FROM public.sessions WHERE id = %s", (deleted,))

    report = await purge_recordings(conn, store, older_than=datetime.now(UTC) - timedelta(days=30))

    assert (report.deleted, report.freed_bytes, report.orphaned_sessions) == (1, 100, 1)
    assert await store.open(recording_key(deleted, 1)) is None
    assert await store.open(recording_key(kept, 1)) is not None
    for table in (
        "attempts",
        "stored_turns",
        "attempt_evaluations",
        "attempt_usage",
        "attempt_recordings",
    ):
        left = await conn.execute(
            f"SELECT session_id FROM {table} ORDER BY session_id".encode()  # noqa: S608
        )
        assert [row[0] for row in await left.fetchall()] == [str(kept)], table
    rooms = await conn.execute("SELECT session_id FROM call_rooms ORDER BY session_id NULLS FIRST")
    assert [row[0] for row in await rooms.fetchall()] == [None, str(kept)]
    again = await purge_recordings(conn, store, older_than=datetime.now(UTC) - timedelta(days=30))
    assert (again.deleted, again.orphaned_sessions) == (0, 0)
