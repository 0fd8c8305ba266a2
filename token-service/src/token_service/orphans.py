"""The voice state of sessions the application deleted.

The voice schema refers to the application's sessions by id, without foreign keys (a foreign key
would need REFERENCES on the application's table and would make its deletes fail or cascade into
state it knows nothing of). So a session the application deletes leaves its voice rows behind.
They are never shown (every read starts from `public.sessions`), and `token-service
purge-recordings` removes them: each recording's file and row first (recordings/purge.py), then
here the attempts, the ledger of stored turns, evaluations and usage; the rooms that named such a
session forget it.

Nothing can be swept too early: a session and its first voice rows are written in one
transaction, and a ledger row only in the statement that writes its turn to the application's
table.
"""

from .db import Connection

_SWEEP = """
WITH attempts_gone AS (
    DELETE FROM attempts AS t WHERE NOT EXISTS (SELECT 1 FROM public.sessions AS s WHERE s.id = t.session_id) RETURNING session_id
), turns_gone AS (
    DELETE FROM stored_turns AS t WHERE NOT EXISTS (SELECT 1 FROM public.sessions AS s WHERE s.id = t.session_id) RETURNING session_id
), evaluations_gone AS (
    DELETE FROM attempt_evaluations AS t WHERE NOT EXISTS (SELECT 1 FROM public.sessions AS s WHERE s.id = t.session_id) RETURNING session_id
), usage_gone AS (
    DELETE FROM attempt_usage AS t WHERE NOT EXISTS (SELECT 1 FROM public.sessions AS s WHERE s.id = t.session_id) RETURNING session_id
), rooms_forgotten AS (
    UPDATE call_rooms AS t SET session_id = NULL, attempt = NULL, updated_at = now()
    WHERE t.session_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM public.sessions AS s WHERE s.id = t.session_id)
)
SELECT count(DISTINCT session_id)::int FROM (
    SELECT session_id FROM attempts_gone UNION ALL SELECT session_id FROM turns_gone
    UNION ALL SELECT session_id FROM evaluations_gone UNION ALL SELECT session_id FROM usage_gone
) AS gone
"""


async def sweep_orphans(conn: Connection) -> int:
    """Remove the voice rows (recordings aside) of deleted sessions; returns how many sessions
    had rows removed."""
    cur = await conn.execute(_SWEEP)
    row = await cur.fetchone()
    return int(row[0]) if row else 0
