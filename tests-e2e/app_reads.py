"""The reads the Next.js application's own code makes of voice sessions, as SQL on its tables
(what its Prisma queries amount to), for checking that the application sees our writes:

- its evaluate endpoint (POST /api/sessions/[id]/evaluate): the session's owner (the
  assignment's learner, else the session's user) and the turns of its current attempt ordered by
  turn_order; fewer than two answer 425;
- its External API transcript (GET /api/external/assignments/[id]/transcript): one attempt's
  turns (default: the latest) ordered by turn_order, with totalAttempts = current_attempt;
- its assignments list (GET /api/assignments, the dashboard's sessions): each assignment with
  its session's id and whether that session has any turn.
"""

from datetime import datetime
from typing import Any

import psycopg

from devstack.app_database import ApplicationDatabase, application_database, public_schema
from devstack.postgres import PostgresServer

Conn = psycopg.Connection[Any]


class AppDatabase:
    """The suite's database: the cluster, the application's side of it, and `public`'s schema as
    it was before the stack started."""

    def __init__(self, pg: PostgresServer) -> None:
        self.pg = pg
        self.app: ApplicationDatabase = application_database(pg)
        self.public_schema_before = public_schema(pg)


def _turns(conn: Conn, session_id: str, attempt: int) -> list[dict[str, Any]]:
    cur = conn.execute(
        "SELECT id, role, content, turn_order, created_at FROM transcript_turns"
        " WHERE session_id = %s AND attempt_number = %s ORDER BY turn_order ASC",
        (session_id, attempt),
    )
    return [
        {"id": i, "role": r, "content": c, "turnOrder": o, "createdAt": t}
        for i, r, c, o, t in cur.fetchall()
    ]


def evaluate_read(conn: Conn, session_id: str) -> tuple[int, str | None, list[dict[str, Any]]]:
    """(the status the endpoint goes on with: 200, or 425 for fewer than two turns; the owner;
    the current attempt's turns)."""
    row = conn.execute(
        "SELECT s.current_attempt, coalesce(a.counselor_id, s.user_id) FROM sessions AS s"
        " LEFT JOIN assignments AS a ON a.id = s.assignment_id WHERE s.id = %s",
        (session_id,),
    ).fetchone()
    assert row is not None, f"session {session_id} not found"
    turns = _turns(conn, session_id, row[0])
    return (425 if len(turns) < 2 else 200), row[1], turns


def external_transcript(
    conn: Conn, assignment_id: str, attempt: int | None = None
) -> dict[str, Any]:
    row = conn.execute(
        "SELECT s.id, s.current_attempt, u.external_id, sc.id, sc.title FROM assignments AS a"
        " JOIN users AS u ON u.id = a.counselor_id JOIN scenarios AS sc ON sc.id = a.scenario_id"
        " LEFT JOIN sessions AS s ON s.assignment_id = a.id WHERE a.id = %s",
        (assignment_id,),
    ).fetchone()
    assert row is not None, f"assignment {assignment_id} not found (404)"
    assert row[0] is not None, "no session: training not started (409)"
    session_id, current, counselor, scenario_id, title = row
    number = current if attempt is None else attempt
    return {
        "assignmentId": assignment_id,
        "sessionId": session_id,
        "counselorId": counselor,
        "scenarioId": scenario_id,
        "scenarioTitle": title,
        "attemptNumber": number,
        "totalAttempts": current,
        "turns": _turns(conn, session_id, number),
    }


def assignments_list(conn: Conn, counselor_id: str) -> list[dict[str, Any]]:
    cur = conn.execute(
        """
        SELECT a.id, a.status, a.started_at, a.completed_at, sc.mode, s.id,
               EXISTS (SELECT 1 FROM transcript_turns AS t WHERE t.session_id = s.id)
        FROM assignments AS a
        JOIN scenarios AS sc ON sc.id = a.scenario_id
        LEFT JOIN sessions AS s ON s.assignment_id = a.id
        WHERE a.counselor_id = %s ORDER BY a.created_at DESC
        """,
        (counselor_id,),
    )
    keys = (
        "id",
        "status",
        "startedAt",
        "completedAt",
        "scenarioMode",
        "sessionId",
        "hasTranscript",
    )
    return [dict(zip(keys, row, strict=True)) for row in cur.fetchall()]


def utc_now(conn: Conn) -> datetime:
    """Now, as the application's timestamp(3) columns hold it."""
    row = conn.execute("SELECT now() AT TIME ZONE 'UTC'").fetchone()
    assert row is not None
    value: datetime = row[0]
    return value
