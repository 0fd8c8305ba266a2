"""Sessions and their transcripts in Postgres: plain SQL, one statement per unit of work."""

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import msgspec
from psycopg.rows import class_row

from training_contracts import (
    AttemptUsage,
    Role,
    SessionType,
    SessionView,
    TranscriptTurn,
    TurnView,
)

from ..db import Connection


class CreateLookup(msgspec.Struct, frozen=True, kw_only=True):
    """What a session creation refers to, looked up in one query."""

    user_exists: bool
    assignment_user_id: UUID | None
    assignment_scenario_id: UUID | None
    scenario_exists: bool
    assignment_requires_recording: bool


class SessionRow(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    type: str
    user_id: UUID
    assignment_id: UUID | None
    scenario_id: UUID | None
    current_attempt: int
    status: str
    created_at: datetime
    updated_at: datetime
    cut_short: bool


class TranscriptOutcome(msgspec.Struct, frozen=True, kw_only=True):
    session_found: bool
    current_attempt: int | None
    max_attempt: int | None
    stored: int


async def lookup_for_create(
    conn: Connection, *, user_id: UUID, assignment_id: UUID | None, scenario_id: UUID | None
) -> CreateLookup:
    async with conn.cursor(row_factory=class_row(CreateLookup)) as cur:
        await cur.execute(
            """
            SELECT EXISTS (SELECT 1 FROM users WHERE id = %(user_id)s) AS user_exists,
                   a.user_id AS assignment_user_id,
                   a.scenario_id AS assignment_scenario_id,
                   EXISTS (SELECT 1 FROM scenarios WHERE id = %(scenario_id)s) AS scenario_exists,
                   coalesce(a.require_recording, false) AS assignment_requires_recording
            FROM (VALUES (1)) AS one (n)
            LEFT JOIN assignments AS a ON a.id = %(assignment_id)s
            """,
            {"user_id": user_id, "assignment_id": assignment_id, "scenario_id": scenario_id},
        )
        row = await cur.fetchone()
    assert row is not None  # the query always yields exactly one row
    return row


async def start_assignment_attempt(
    conn: Connection, *, user_id: UUID, assignment_id: UUID, scenario_id: UUID
) -> tuple[UUID, int]:
    """The assignment's session with its attempt counted up (attempt 1 when it is new), and the
    assignment marked in progress, atomically: concurrent calls each get their own attempt."""
    cur = await conn.execute(
        """
        WITH session AS (
            INSERT INTO sessions (type, user_id, assignment_id, scenario_id)
            VALUES ('assignment', %(user_id)s, %(assignment_id)s, %(scenario_id)s)
            ON CONFLICT (assignment_id) WHERE assignment_id IS NOT NULL DO UPDATE
               SET current_attempt = sessions.current_attempt + 1,
                   status = 'active',
                   ended_at = NULL,
                   updated_at = now()
            RETURNING id, current_attempt
        ), started AS (
            UPDATE assignments SET status = 'in_progress'
            WHERE id = %(assignment_id)s AND status <> 'in_progress'
        )
        SELECT id, current_attempt FROM session
        """,
        {"user_id": user_id, "assignment_id": assignment_id, "scenario_id": scenario_id},
    )
    row = await cur.fetchone()
    assert row is not None
    return row[0], row[1]


async def start_free_practice(
    conn: Connection, *, user_id: UUID, scenario_id: UUID | None
) -> tuple[UUID, int]:
    cur = await conn.execute(
        """
        INSERT INTO sessions (type, user_id, scenario_id)
        VALUES ('free_practice', %(user_id)s, %(scenario_id)s)
        RETURNING id, current_attempt
        """,
        {"user_id": user_id, "scenario_id": scenario_id},
    )
    row = await cur.fetchone()
    assert row is not None
    return row[0], row[1]


# One round trip for a whole batch. Turns without an attempt number belong to the session's
# current attempt. Nothing is stored when a turn names an attempt the session has not reached
# (max_attempt > current_attempt tells the caller). `final` completes the session when the batch
# is about its current attempt. Every CTE sees the same snapshot, and the data-modifying ones
# run exactly once whatever the outer SELECT reads. Turns new to an attempt that was already
# evaluated (it was closed cut short, then its transcript came after all) make that evaluation
# stale: it goes, and the next request makes a new one. A final batch for an attempt closed cut
# short completes it for real.
_STORE_TRANSCRIPT = """
WITH session AS (
    SELECT id, current_attempt FROM sessions WHERE id = %(session_id)s
), batch AS (
    SELECT coalesce(t.attempt, s.current_attempt) AS attempt,
           t.turn_order, t.role, t.content, t.interrupted
    FROM session AS s,
         unnest(%(attempts)s::int[], %(turn_orders)s::int[], %(roles)s::text[],
                %(contents)s::text[], %(interrupted)s::bool[])
           AS t (attempt, turn_order, role, content, interrupted)
), valid AS (
    SELECT coalesce(max(b.attempt), 0) <= (SELECT current_attempt FROM session) AS ok,
           max(b.attempt) AS max_attempt,
           bool_and(b.attempt = (SELECT current_attempt FROM session)) AS all_current
    FROM batch AS b
), inserted AS (
    INSERT INTO transcript_turns (session_id, attempt, turn_order, role, content, interrupted)
    SELECT %(session_id)s, b.attempt, b.turn_order, b.role, b.content, b.interrupted
    FROM batch AS b
    WHERE (SELECT ok FROM valid)
    ON CONFLICT (session_id, attempt, turn_order) DO NOTHING
    RETURNING 1
), completed AS (
    UPDATE sessions SET status = 'completed', ended_at = now(), updated_at = now()
    WHERE id = %(session_id)s AND %(final)s
      AND (SELECT ok FROM valid) AND coalesce((SELECT all_current FROM valid), true)
      -- re-checked on the latest row version: a new attempt started meanwhile stays active
      AND current_attempt = (SELECT current_attempt FROM session)
), stale AS (
    DELETE FROM evaluations
    WHERE session_id = %(session_id)s AND EXISTS (SELECT 1 FROM inserted)
      AND attempt IN (SELECT attempt FROM batch)
), whole AS (
    DELETE FROM attempt_cut_short
    WHERE session_id = %(session_id)s AND %(final)s AND (SELECT ok FROM valid)
      AND attempt IN (SELECT attempt FROM batch)
)
SELECT EXISTS (SELECT 1 FROM session) AS session_found,
       (SELECT current_attempt FROM session) AS current_attempt,
       (SELECT max_attempt FROM valid) AS max_attempt,
       (SELECT count(*) FROM inserted)::int AS stored
"""


async def store_transcript(
    conn: Connection, session_id: UUID, turns: Sequence[TranscriptTurn], *, final: bool
) -> TranscriptOutcome:
    async with conn.cursor(row_factory=class_row(TranscriptOutcome)) as cur:
        await cur.execute(
            _STORE_TRANSCRIPT,
            {
                "session_id": session_id,
                "attempts": [turn.attempt_number for turn in turns],
                "turn_orders": [turn.turn_order for turn in turns],
                "roles": [turn.role.value for turn in turns],
                "contents": [turn.content for turn in turns],
                "interrupted": [turn.interrupted for turn in turns],
                "final": final,
            },
        )
        row = await cur.fetchone()
    assert row is not None
    return row


async def get_session(conn: Connection, session_id: UUID) -> SessionRow | None:
    async with conn.cursor(row_factory=class_row(SessionRow)) as cur:
        await cur.execute(
            """
            SELECT id, type, user_id, assignment_id, scenario_id, current_attempt, status,
                   created_at, updated_at,
                   EXISTS (SELECT 1 FROM attempt_cut_short AS c
                           WHERE c.session_id = s.id AND c.attempt = s.current_attempt)
                       AS cut_short
            FROM sessions AS s WHERE id = %s
            """,
            (session_id,),
        )
        return await cur.fetchone()


async def get_turns(
    conn: Connection, session_id: UUID, *, attempt: int | None = None
) -> list[TurnView]:
    """Turns of one attempt, or of every attempt, ordered by attempt then turn order."""
    cur = await conn.execute(
        """
        SELECT role, content, turn_order, attempt, interrupted
        FROM transcript_turns
        WHERE session_id = %(session_id)s AND (%(attempt)s::int IS NULL OR attempt = %(attempt)s)
        ORDER BY attempt, turn_order
        """,
        {"session_id": session_id, "attempt": attempt},
    )
    return [
        TurnView(
            role=Role(role),
            content=content,
            turn_order=turn_order,
            attempt_number=attempt_number,
            interrupted=interrupted,
        )
        for role, content, turn_order, attempt_number, interrupted in await cur.fetchall()
    ]


def session_view(
    row: SessionRow, turns: list[TurnView], usage: list[AttemptUsage] | None = None
) -> SessionView:
    return SessionView(
        id=row.id,
        type=SessionType(row.type),
        status=row.status,
        attempt=row.current_attempt,
        created_at=row.created_at,
        updated_at=row.updated_at,
        turns=turns,
        assignment_id=row.assignment_id,
        scenario_id=row.scenario_id,
        usage=usage or [],
        cut_short=row.cut_short,
    )
