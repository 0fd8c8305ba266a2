"""Transcript batches into the application's transcript_turns, each turn exactly once.

The application's table has no unique key on (session, attempt, turn), and a duplicate row is a
duplicate line in every transcript the application shows. The ledger in the voice schema
(`stored_turns`, primary key session, attempt, turn order) decides: one statement inserts a
batch's turns into the ledger, skipping those already there, and inserts into transcript_turns
exactly the turns the ledger took. A turn sent again finds its ledger row and is skipped; two
requests carrying one turn at once meet on the ledger's key, where the second waits for the
first to commit and then skips it. Both inserts are one statement, so they commit or fail
together. Batches take their ledger rows in key order, so overlapping batches arriving
together (in whatever order) wait for each other instead of deadlocking.

Turns without an attempt number belong to the session's current attempt. Nothing is stored when
a turn names an attempt the session has not reached (max_attempt > current_attempt tells the
caller). `final` marks the batch's attempts as over (the agent's call ended), which is what
evaluation waits for; an attempt closed cut short before is complete after all. Turns new to
an attempt that was already evaluated make that evaluation stale: it goes, and the next request
makes a new one. The session's status and ended_at are the application's evaluate's to set.
"""

from collections.abc import Sequence
from uuid import UUID

import msgspec
from psycopg.rows import class_row

from training_contracts import TranscriptTurn

from ..db import Connection


class TranscriptOutcome(msgspec.Struct, frozen=True, kw_only=True):
    session_found: bool
    current_attempt: int | None
    max_attempt: int | None
    stored: int


_STORE_TRANSCRIPT = """
WITH session AS (
    SELECT id, current_attempt FROM public.sessions WHERE id = %(session_id)s
), batch AS (
    SELECT DISTINCT ON (1, 2)
           coalesce(t.attempt, s.current_attempt) AS attempt, t.turn_order, t.role, t.content,
           t.interrupted
    FROM session AS s,
         unnest(%(attempts)s::int[], %(turn_orders)s::int[], %(roles)s::text[],
                %(contents)s::text[], %(interrupted)s::bool[])
           AS t (attempt, turn_order, role, content, interrupted)
    ORDER BY 1, 2
), valid AS (
    SELECT coalesce(max(b.attempt), 0) <= (SELECT current_attempt FROM session) AS ok,
           max(b.attempt) AS max_attempt
    FROM batch AS b
), claimed AS (
    INSERT INTO stored_turns (session_id, attempt, turn_order, turn_id, interrupted)
    SELECT %(session_id)s, b.attempt, b.turn_order, gen_random_uuid()::text, b.interrupted
    FROM batch AS b
    WHERE (SELECT ok FROM valid)
    ORDER BY b.attempt, b.turn_order
    ON CONFLICT (session_id, attempt, turn_order) DO NOTHING
    RETURNING attempt, turn_order, turn_id
), inserted AS (
    INSERT INTO public.transcript_turns
        (id, session_id, role, content, turn_order, attempt_number)
    SELECT c.turn_id, %(session_id)s, b.role, b.content, b.turn_order, b.attempt
    FROM claimed AS c JOIN batch AS b USING (attempt, turn_order)
    RETURNING attempt_number
), over AS (
    INSERT INTO attempts (session_id, attempt, final_at)
    SELECT %(session_id)s, a.attempt, now()
    FROM (SELECT attempt FROM batch
          UNION SELECT current_attempt FROM session WHERE NOT EXISTS (SELECT 1 FROM batch))
         AS a (attempt)
    WHERE %(final)s AND (SELECT ok FROM valid)
    ON CONFLICT (session_id, attempt) DO UPDATE
       SET final_at = coalesce(attempts.final_at, excluded.final_at), cut_short = NULL,
           closed_at = NULL
), stale AS (
    DELETE FROM attempt_evaluations
    WHERE session_id = %(session_id)s AND attempt IN (SELECT attempt_number FROM inserted)
)
SELECT EXISTS (SELECT 1 FROM session) AS session_found,
       (SELECT current_attempt FROM session) AS current_attempt,
       (SELECT max_attempt FROM valid) AS max_attempt,
       (SELECT count(*) FROM inserted)::int AS stored
"""


async def store_transcript(
    conn: Connection, session_id: UUID, turns: Sequence[TranscriptTurn], *, final: bool
) -> TranscriptOutcome:
    """One round trip for the whole batch (see the module docstring)."""
    async with conn.cursor(row_factory=class_row(TranscriptOutcome)) as cur:
        await cur.execute(
            _STORE_TRANSCRIPT,
            {
                "session_id": str(session_id),
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
