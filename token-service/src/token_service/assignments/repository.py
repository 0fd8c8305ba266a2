"""Assignments in Postgres (rows the Next.js application owns; this service only reads them)."""

from uuid import UUID

import msgspec
from psycopg.rows import class_row

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
