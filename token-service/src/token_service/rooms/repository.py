"""Call rooms (call_rooms, in the voice schema): what the webhooks said, and the work the
sweeper claims.

Every function is one statement, so webhooks landing on different token service processes and
the sweepers of all processes can act on the same room without a lock held across a request;
the sweeper's claim takes rows with FOR UPDATE SKIP LOCKED and moves their due time in the same
statement, so one process at a time dispatches for a room.
"""

from dataclasses import dataclass
from datetime import datetime

from ..db import Connection

_UPSERT_ROOM = """
INSERT INTO call_rooms (room_name) VALUES (%(room)s)
ON CONFLICT (room_name) DO NOTHING
"""


async def room_started(conn: Connection, room: str) -> None:
    await conn.execute(_UPSERT_ROOM, {"room": room})


async def trainee_joined(conn: Connection, room: str, sid: str, join_bound_s: float) -> None:
    """Without a caller in the room, the trainee starts waiting: a dispatch is due after the bound."""
    await conn.execute(
        """
        INSERT INTO call_rooms (room_name, trainee_sid, waiting_since, next_dispatch_at)
        VALUES (%(room)s, %(sid)s, now(), now() + make_interval(secs => %(bound)s))
        ON CONFLICT (room_name) DO UPDATE
           SET trainee_sid = excluded.trainee_sid,
               waiting_since = CASE WHEN call_rooms.agent_sid IS NULL
                                    THEN coalesce(call_rooms.waiting_since, now()) END,
               next_dispatch_at = CASE WHEN call_rooms.agent_sid IS NULL
                                       THEN coalesce(call_rooms.next_dispatch_at,
                                                     excluded.next_dispatch_at) END,
               updated_at = now()
        """,
        {"room": room, "sid": sid, "bound": join_bound_s},
    )


async def trainee_left(conn: Connection, room: str, sid: str | None) -> None:
    """The trainee's participant `sid` left; only the current one counts (a rejoin replaced an
    older one). `sid` None: no trainee is in the room, whichever the webhooks last named."""
    await conn.execute(
        """
        UPDATE call_rooms
           SET trainee_sid = NULL, waiting_since = NULL, next_dispatch_at = NULL,
               updated_at = now()
         WHERE room_name = %(room)s AND (%(sid)s::text IS NULL OR trainee_sid = %(sid)s)
        """,
        {"room": room, "sid": sid},
    )


async def agent_joined(conn: Connection, room: str, sid: str) -> bool:
    """The caller is in the room: nothing is due. Returns whether the room carried a notice
    (the page was told the caller was missing), which should now be cleared."""
    cur = await conn.execute(
        """
        WITH before AS (SELECT notice FROM call_rooms WHERE room_name = %(room)s)
        INSERT INTO call_rooms (room_name, agent_sid, agent_seen) VALUES (%(room)s, %(sid)s, true)
        ON CONFLICT (room_name) DO UPDATE
           SET agent_sid = excluded.agent_sid, agent_seen = true, waiting_since = NULL,
               next_dispatch_at = NULL, dispatches = 0, gave_up_at = NULL, notice = NULL,
               updated_at = now()
        RETURNING (SELECT notice FROM before) IS NOT NULL
        """,
        {"room": room, "sid": sid},
    )
    row = await cur.fetchone()
    return bool(row and row[0])


@dataclass(frozen=True, slots=True)
class AgentLeft:
    lost: bool
    """The trainee is still in the room: the caller was lost, not hung up on."""
    session_id: str | None
    attempt: int | None


async def agent_left(conn: Connection, room: str, sid: str, *, replace: bool) -> AgentLeft:
    """The current caller left. With the trainee still there and `replace`, a dispatch is due at
    once (without `replace` the caller ended the call itself, having told the trainee why)."""
    cur = await conn.execute(
        """
        UPDATE call_rooms
           SET agent_sid = NULL,
               waiting_since = CASE WHEN %(replace)s AND trainee_sid IS NOT NULL THEN now() END,
               next_dispatch_at = CASE WHEN %(replace)s AND trainee_sid IS NOT NULL
                                            AND finished_at IS NULL
                                       THEN now() END,
               updated_at = now()
         WHERE room_name = %(room)s AND agent_sid = %(sid)s
        RETURNING %(replace)s AND trainee_sid IS NOT NULL, session_id, attempt
        """,
        {"room": room, "sid": sid, "replace": replace},
    )
    row = await cur.fetchone()
    if row is None:
        return AgentLeft(lost=False, session_id=None, attempt=None)
    return AgentLeft(lost=bool(row[0]), session_id=row[1], attempt=row[2])


async def room_finished(conn: Connection, room: str) -> tuple[str | None, int | None]:
    """The room is gone (its webhook said so, or livekit-server no longer knows it): nothing
    more is due for it. Returns its (session, attempt)."""
    cur = await conn.execute(
        """
        UPDATE call_rooms
           SET finished_at = now(), trainee_sid = NULL, agent_sid = NULL, waiting_since = NULL,
               next_dispatch_at = NULL, updated_at = now()
         WHERE room_name = %(room)s
        RETURNING session_id, attempt
        """,
        {"room": room},
    )
    row = await cur.fetchone()
    return (row[0], row[1]) if row is not None else (None, None)


async def close_cut_short(conn: Connection, session_id: str, attempt: int, reason: str) -> bool:
    """End `attempt` with the turns it has, marked cut short, unless it is over already (its
    final transcript came) or a newer attempt started. Returns whether it was closed."""
    cur = await conn.execute(
        """
        UPDATE attempts AS c SET cut_short = %(reason)s, closed_at = now()
        FROM public.sessions AS s
        WHERE c.session_id = %(sid)s AND c.attempt = %(att)s
          AND s.id = c.session_id AND s.current_attempt = c.attempt
          AND c.final_at IS NULL AND c.cut_short IS NULL
        RETURNING 1
        """,
        {"sid": session_id, "att": attempt, "reason": reason},
    )
    return await cur.fetchone() is not None


@dataclass(frozen=True, slots=True)
class DueRoom:
    room: str
    dispatches: int
    """Dispatches made for this wait, this one included."""
    waiting_since: datetime
    agent_seen: bool
    """A caller was in the room before (it was lost), as opposed to none ever coming."""


async def claim_due(
    conn: Connection, *, tries: int, backoff_s: float, backoff_max_s: float, limit: int = 10
) -> list[DueRoom]:
    """Rooms whose trainee has waited past their due time, with a try left: each gets its try
    counted and its next due time set (`backoff_s`, doubling per try up to `backoff_max_s`) in
    the same statement."""
    cur = await conn.execute(
        """
        UPDATE call_rooms AS r
           SET dispatches = r.dispatches + 1,
               next_dispatch_at = now() + make_interval(
                   secs => least(%(backoff)s * power(2, r.dispatches), %(backoff_max)s)),
               updated_at = now()
         WHERE r.room_name IN (
               SELECT room_name FROM call_rooms
                WHERE next_dispatch_at <= now() AND dispatches < %(tries)s
                  AND trainee_sid IS NOT NULL AND agent_sid IS NULL AND finished_at IS NULL
                  AND waiting_since IS NOT NULL
                ORDER BY next_dispatch_at
                LIMIT %(limit)s
                FOR UPDATE SKIP LOCKED)
        RETURNING r.room_name, r.dispatches, r.waiting_since, r.agent_seen
        """,
        {"tries": tries, "backoff": backoff_s, "backoff_max": backoff_max_s, "limit": limit},
    )
    return [DueRoom(*row) for row in await cur.fetchall()]


async def claim_given_up(conn: Connection, *, tries: int, limit: int = 10) -> list[str]:
    """Rooms whose last try's time ran out without a caller: nothing more is due for them."""
    cur = await conn.execute(
        """
        UPDATE call_rooms AS r
           SET next_dispatch_at = NULL, gave_up_at = now(), updated_at = now()
         WHERE r.room_name IN (
               SELECT room_name FROM call_rooms
                WHERE next_dispatch_at <= now() AND dispatches >= %(tries)s
                  AND agent_sid IS NULL AND finished_at IS NULL
                ORDER BY next_dispatch_at
                LIMIT %(limit)s
                FOR UPDATE SKIP LOCKED)
        RETURNING r.room_name
        """,
        {"tries": tries, "limit": limit},
    )
    return [row[0] for row in await cur.fetchall()]


async def set_notice(conn: Connection, room: str, notice: str | None) -> None:
    await conn.execute(
        "UPDATE call_rooms SET notice = %(notice)s, updated_at = now() WHERE room_name = %(room)s",
        {"room": room, "notice": notice},
    )
