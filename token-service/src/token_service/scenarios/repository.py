"""Scenarios: the application's `public.scenarios`, read only; `prompt` is the caller's
instructions."""

from uuid import UUID

from psycopg.rows import class_row

from training_contracts import ScenarioResponse

from ..db import Connection


async def get_scenario(conn: Connection, scenario_id: UUID) -> ScenarioResponse | None:
    async with conn.cursor(row_factory=class_row(ScenarioResponse)) as cur:
        await cur.execute(
            "SELECT id::uuid AS id, title, prompt FROM public.scenarios WHERE id = %s",
            (str(scenario_id),),
        )
        return await cur.fetchone()
