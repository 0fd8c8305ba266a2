"""Scenarios in Postgres."""

from uuid import UUID

from psycopg.rows import class_row

from training_contracts import ScenarioResponse

from ..db import Connection


async def get_scenario(conn: Connection, scenario_id: UUID) -> ScenarioResponse | None:
    async with conn.cursor(row_factory=class_row(ScenarioResponse)) as cur:
        await cur.execute(
            "SELECT id, title, caller_prompt AS prompt FROM scenarios WHERE id = %s",
            (scenario_id,),
        )
        return await cur.fetchone()
