"""The statements that start an attempt: in the application's tables as its own code does, and
the attempt's state in the voice schema. SessionStarter (service.py) runs them in one transaction.

What the application's code does (docs/app-database.md): an assignment has one session, whose
`current_attempt` goes up by one per call and whose status becomes `active`; a new one is
inserted with the scenario's `mode` as `model_type`, and the assignment becomes `in_progress`
with `started_at`. A free practice call is a new session of `model_type` `phone`. Ids are UUID
strings the writer generates; timestamps are UTC.
"""

from typing import Final

import msgspec
from psycopg.rows import class_row

from ..db import Connection

# The first of advisory_xact_lock's two keys: its own space for the idempotency keys' hashes.
_REQUEST_KEY_LOCKS: Final = 19_021


class KeyedAttempt(msgspec.Struct, frozen=True, kw_only=True):
    """The attempt an idempotency key started, and what it was started for."""

    session_id: str
    attempt: int
    user_id: str | None
    assignment_id: str | None
    recorded: bool


class LockedAssignment(msgspec.Struct, frozen=True, kw_only=True):
    counselor_id: str
    scenario_id: str
    status: str
    require_recording: bool
    mode: str
    """The scenario's: the session's model_type."""


async def hold_request_key(conn: Connection, key: str) -> KeyedAttempt | None:
    """Until the transaction ends, no other request with `key` goes on; the attempt an earlier
    request with it started, if any (read after the lock: a racing twin has committed)."""
    await conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_REQUEST_KEY_LOCKS, key))
    async with conn.cursor(row_factory=class_row(KeyedAttempt)) as cur:
        await cur.execute(
            """
            SELECT a.session_id, a.attempt, s.user_id, s.assignment_id,
                   EXISTS (SELECT 1 FROM attempt_recordings AS r
                           WHERE r.session_id = a.session_id AND r.attempt = a.attempt) AS recorded
            FROM attempts AS a
            JOIN public.sessions AS s ON s.id = a.session_id
            WHERE a.request_key = %s
            """,
            (key,),
        )
        return await cur.fetchone()


async def user_and_scenario(
    conn: Connection, user_id: str, scenario_id: str | None
) -> tuple[bool, bool]:
    """Whether the user exists, and the scenario (True when none is named)."""
    cur = await conn.execute(
        """
        SELECT EXISTS (SELECT 1 FROM public.users WHERE id = %(user)s),
               %(scenario)s::text IS NULL
               OR EXISTS (SELECT 1 FROM public.scenarios WHERE id = %(scenario)s)
        """,
        {"user": user_id, "scenario": scenario_id},
    )
    row = await cur.fetchone()
    assert row is not None  # one row always
    return bool(row[0]), bool(row[1])


async def lock_assignment(conn: Connection, assignment_id: str) -> LockedAssignment | None:
    """The assignment, its row locked until the transaction ends: calls starting together on one
    assignment take turns, so each gets an attempt of its own."""
    async with conn.cursor(row_factory=class_row(LockedAssignment)) as cur:
        await cur.execute(
            """
            SELECT a.counselor_id, a.scenario_id, a.status, a.require_recording, sc.mode
            FROM public.assignments AS a
            JOIN public.scenarios AS sc ON sc.id = a.scenario_id
            WHERE a.id = %s
            FOR NO KEY UPDATE OF a
            """,
            (assignment_id,),
        )
        return await cur.fetchone()


async def next_attempt(conn: Connection, assignment_id: str) -> tuple[str, int] | None:
    """The assignment's session with its attempt counted up and active again, if it has one."""
    cur = await conn.execute(
        """
        UPDATE public.sessions SET current_attempt = current_attempt + 1, status = 'active'
        WHERE assignment_id = %s
        RETURNING id, current_attempt
        """,
        (assignment_id,),
    )
    row = await cur.fetchone()
    return None if row is None else (str(row[0]), int(row[1]))


async def insert_session(
    conn: Connection,
    session_id: str,
    *,
    user_id: str,
    assignment_id: str | None,
    scenario_id: str | None,
    model_type: str,
) -> None:
    """A new session at its first attempt (current_attempt and started_at: the table's defaults)."""
    await conn.execute(
        """
        INSERT INTO public.sessions (id, assignment_id, user_id, scenario_id, model_type, status)
        VALUES (%s, %s, %s, %s, %s, 'active')
        """,
        (session_id, assignment_id, user_id, scenario_id, model_type),
    )


async def mark_in_progress(conn: Connection, assignment_id: str) -> None:
    await conn.execute(
        """
        UPDATE public.assignments
        SET status = 'in_progress', started_at = now() AT TIME ZONE 'UTC'
        WHERE id = %s
        """,
        (assignment_id,),
    )


async def record_attempt(
    conn: Connection,
    session_id: str,
    attempt: int,
    *,
    request_key: str,
    record: bool,
    room: str | None,
) -> None:
    """The attempt's voice state: the attempt, its pending recording when it is recorded, and the
    LiveKit room it runs in (the room's webhooks then close it when its caller is lost)."""
    await conn.execute(
        """
        WITH attempt AS (
            INSERT INTO attempts (session_id, attempt, request_key)
            VALUES (%(sid)s, %(att)s, %(key)s)
        ), recording AS (
            INSERT INTO attempt_recordings (session_id, attempt)
            SELECT %(sid)s, %(att)s WHERE %(record)s
        )
        INSERT INTO call_rooms (room_name, session_id, attempt)
        SELECT %(room)s, %(sid)s, %(att)s WHERE %(room)s::text IS NOT NULL
        ON CONFLICT (room_name) DO UPDATE
           SET session_id = excluded.session_id, attempt = excluded.attempt, updated_at = now()
        """,
        {"sid": session_id, "att": attempt, "key": request_key, "record": record, "room": room},
    )
