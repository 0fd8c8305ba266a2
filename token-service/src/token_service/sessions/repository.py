"""A session as the frontend reads it: the application's session and turns with voice training's
per-attempt state (the ledger's `interrupted`, whether the current attempt's call is over).

Reads start from the application's `public.sessions`, so the voice state of a session the
application deleted is never shown (purge-recordings removes it).
"""

from datetime import datetime
from uuid import UUID

import msgspec
from psycopg.rows import class_row

from training_contracts import AttemptUsage, Role, SessionType, SessionView, TurnView

from ..db import Connection


class SessionRow(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    owner_id: str | None
    """The assignment's learner, or the free practice session's user (the application's rule);
    None once the application deleted them."""
    assignment_id: str | None
    scenario_id: str | None
    current_attempt: int
    status: str
    """`completed` once the current attempt's call is over (its final transcript stored, or the
    attempt closed cut short) or the application's evaluate completed the session; else the
    application's status (`active`, `abandoned`)."""
    created_at: datetime
    updated_at: datetime
    cut_short: bool

    def owned_by(self, user_id: UUID) -> bool:
        return self.owner_id == str(user_id)


_GET_SESSION = """
SELECT s.id::uuid AS id, coalesce(a.counselor_id, s.user_id) AS owner_id, s.assignment_id,
       s.scenario_id, s.current_attempt,
       CASE WHEN s.status = 'completed' OR c.final_at IS NOT NULL OR c.cut_short IS NOT NULL
            THEN 'completed' ELSE s.status END AS status,
       s.started_at AT TIME ZONE 'UTC' AS created_at,
       greatest(s.started_at AT TIME ZONE 'UTC', c.started_at, c.final_at, c.closed_at,
                (SELECT max(t.stored_at) FROM stored_turns AS t WHERE t.session_id = s.id))
           AS updated_at,
       c.cut_short IS NOT NULL AS cut_short
FROM public.sessions AS s
LEFT JOIN public.assignments AS a ON a.id = s.assignment_id
LEFT JOIN attempts AS c ON c.session_id = s.id AND c.attempt = s.current_attempt
WHERE s.id = %s
"""


async def get_session(conn: Connection, session_id: UUID) -> SessionRow | None:
    async with conn.cursor(row_factory=class_row(SessionRow)) as cur:
        await cur.execute(_GET_SESSION, (str(session_id),))
        return await cur.fetchone()


async def get_turns(
    conn: Connection, session_id: UUID, *, attempt: int | None = None
) -> list[TurnView]:
    """Turns of one attempt, or of every attempt, ordered by attempt then turn order."""
    cur = await conn.execute(
        """
        SELECT t.role, t.content, t.turn_order, t.attempt_number,
               coalesce(l.interrupted, false)
        FROM public.transcript_turns AS t
        LEFT JOIN stored_turns AS l
               ON l.session_id = t.session_id AND l.attempt = t.attempt_number
              AND l.turn_order = t.turn_order
        WHERE t.session_id = %(session_id)s
          AND (%(attempt)s::int IS NULL OR t.attempt_number = %(attempt)s)
        ORDER BY t.attempt_number, t.turn_order
        """,
        {"session_id": str(session_id), "attempt": attempt},
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
        type=SessionType.FREE_PRACTICE if row.assignment_id is None else SessionType.ASSIGNMENT,
        status=row.status,
        attempt=row.current_attempt,
        created_at=row.created_at,
        updated_at=row.updated_at,
        turns=turns,
        assignment_id=None if row.assignment_id is None else UUID(row.assignment_id),
        scenario_id=None if row.scenario_id is None else UUID(row.scenario_id),
        usage=usage or [],
        cut_short=row.cut_short,
    )
