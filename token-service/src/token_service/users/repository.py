"""Users in Postgres (rows the Next.js application owns; this service only reads them)."""

from uuid import UUID

from ..db import Connection


async def user_exists(conn: Connection, user_id: UUID) -> bool:
    cur = await conn.execute("SELECT EXISTS (SELECT 1 FROM users WHERE id = %s)", (user_id,))
    row = await cur.fetchone()
    return bool(row and row[0])
