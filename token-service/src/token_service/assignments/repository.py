"""Assignments: the application's `public.assignments`, read only here. An assignment's learner
is `counselor_id` (the column kept its name when the role was renamed)."""

import logging
from uuid import UUID

from training_contracts import AssignmentView

from ..db import Connection

logger = logging.getLogger(__name__)


async def get_assignment(conn: Connection, assignment_id: UUID) -> tuple[str, UUID] | None:
    """(learner, scenario) of the assignment, if it exists."""
    cur = await conn.execute(
        "SELECT counselor_id, scenario_id FROM public.assignments WHERE id = %s",
        (str(assignment_id),),
    )
    row = await cur.fetchone()
    return None if row is None else (str(row[0]), UUID(row[1]))


async def list_for_user(conn: Connection, user_id: UUID) -> list[AssignmentView]:
    """The learner's assignments, newest first, with the scenario's title and the calls started
    (the session's current attempt). Rows whose ids are not UUIDs (the contract's ids) are left
    out, with a warning."""
    cur = await conn.execute(
        """
        SELECT a.id, a.scenario_id, sc.title, a.status, coalesce(s.current_attempt, 0),
               a.created_at AT TIME ZONE 'UTC'
        FROM public.assignments AS a
        JOIN public.scenarios AS sc ON sc.id = a.scenario_id
        LEFT JOIN public.sessions AS s ON s.assignment_id = a.id
        WHERE a.counselor_id = %s
        ORDER BY a.created_at DESC, a.id
        """,
        (str(user_id),),
    )
    views: list[AssignmentView] = []
    for assignment_id, scenario_id, title, status, attempts, created_at in await cur.fetchall():
        try:
            ids = UUID(assignment_id), UUID(scenario_id)
        except ValueError:
            logger.warning(
                "assignment %r or its scenario has an id that is not a UUID", assignment_id
            )
            continue
        views.append(
            AssignmentView(
                id=ids[0],
                scenario_id=ids[1],
                scenario_title=title,
                status=status,
                attempts=attempts,
                created_at=created_at,
            )
        )
    return views
