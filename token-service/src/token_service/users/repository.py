"""Users: the application's `public.users`, read only."""

from uuid import UUID

from ..db import Connection


async def user_exists(conn: Connection, user_id: UUID) -> bool:
    cur = await conn.execute(
        "SELECT EXISTS (SELECT 1 FROM public.users WHERE id = %s)", (str(user_id),)
    )
    row = await cur.fetchone()
    return bool(row and row[0])
