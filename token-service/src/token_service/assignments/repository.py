"""Assignments in Postgres, with their scenario's title and the number of calls started on them."""

from uuid import UUID

from psycopg.rows import class_row

from training_contracts import AssignmentView

from ..db import Connection


async def list_for_user(conn: Connection, user_id: UUID) -> list[AssignmentView]:
    async with conn.cursor(row_factory=class_row(AssignmentView)) as cur:
        await cur.execute(
            """
            SELECT a.id, a.scenario_id, sc.title AS scenario_title, a.status,
                   coalesce(s.current_attempt, 0) AS attempts, a.created_at
            FROM assignments AS a
            JOIN scenarios AS sc ON sc.id = a.scenario_id
            LEFT JOIN sessions AS s ON s.assignment_id = a.id
            WHERE a.user_id = %s
            ORDER BY a.created_at DESC, a.id
            """,
            (user_id,),
        )
        return await cur.fetchall()
