"""Assignments in Postgres (rows the Next.js application owns; this service only reads them)."""

from uuid import UUID

import msgspec
from psycopg.rows import class_row

from training_contracts import AssignmentView

from ..db import Connection


class AssignmentRow(msgspec.Struct, frozen=True, kw_only=True):
    user_id: UUID
    scenario_id: UUID


async def get_assignment(conn: Connection, assignment_id: UUID) -> AssignmentRow | None:
    async with conn.cursor(row_factory=class_row(AssignmentRow)) as cur:
        await cur.execute(
            "SELECT user_id, scenario_id FROM assignments WHERE id = %s", (assignment_id,)
        )
        return await cur.fetchone()


async def list_for_user(conn: Connection, user_id: UUID) -> list[AssignmentView]:
    """The user's assignments, newest first, with the scenario's title and the calls started."""
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
