"""This service's evaluations (attempt_evaluations, in the voice schema), one per (session,
attempt), written once. The application's own `evaluations` table is left to its evaluate."""

from datetime import datetime
from uuid import UUID

import msgspec
from psycopg.rows import class_row

from training_contracts import Evaluation, Observation

from ..db import Connection
from .evaluator import Feedback

_decode_observations = msgspec.json.Decoder(list[Observation]).decode
_encode = msgspec.json.Encoder().encode


class EvaluationContext(msgspec.Struct, frozen=True, kw_only=True):
    """A session as evaluation needs it, with the stored evaluation of the asked attempt."""

    owner_id: str | None
    """As sessions.repository.SessionRow.owner_id."""
    current_attempt: int
    over: bool
    """The asked attempt's call is over: its final transcript came, or it was closed cut short."""
    abandoned: bool
    """No final batch, but nothing happened to the attempt for ABANDONED_AFTER_S: its worker died."""
    cut_short: bool
    """The token service closed the attempt when its caller was lost (rooms/)."""
    scenario_title: str | None
    caller_prompt: str | None
    evaluated_attempt: int | None
    overall_score: int | None
    summary: str | None
    strengths: str | None
    improvements: str | None
    model: str | None
    evaluated_at: datetime | None

    def stored(self, session_id: UUID) -> Evaluation | None:
        if (
            self.evaluated_attempt is None
            or self.overall_score is None
            or self.summary is None
            or self.strengths is None
            or self.improvements is None
            or self.model is None
            or self.evaluated_at is None
        ):
            return None
        return Evaluation(
            session_id=session_id,
            attempt=self.evaluated_attempt,
            overall_score=self.overall_score,
            summary=self.summary,
            strengths=_decode_observations(self.strengths),
            improvements=_decode_observations(self.improvements),
            model=self.model,
            created_at=self.evaluated_at,
            cut_short=self.cut_short,
        )


ABANDONED_AFTER_S = 180
"""An agent sends settled turns every few seconds while a call goes on; an attempt silent this long
without its final batch lost its job process (killed, out of memory) and is evaluated as stored."""

_CONTEXT = """
SELECT coalesce(asg.counselor_id, s.user_id) AS owner_id, s.current_attempt,
       c.final_at IS NOT NULL OR c.cut_short IS NOT NULL AS over,
       greatest(
           coalesce(c.started_at, s.started_at AT TIME ZONE 'UTC'),
           (SELECT max(t.stored_at) FROM stored_turns AS t
            WHERE t.session_id = s.id AND t.attempt = a.attempt)
       ) < now() - make_interval(secs => %(abandoned_after_s)s) AS abandoned,
       c.cut_short IS NOT NULL AS cut_short,
       sc.title AS scenario_title, sc.prompt AS caller_prompt,
       e.attempt AS evaluated_attempt, e.overall_score, e.summary, e.strengths::text AS strengths,
       e.improvements::text AS improvements, e.model, e.created_at AS evaluated_at
FROM public.sessions AS s
CROSS JOIN LATERAL (SELECT coalesce(%(attempt)s::int, s.current_attempt)) AS a (attempt)
LEFT JOIN public.assignments AS asg ON asg.id = s.assignment_id
LEFT JOIN public.scenarios AS sc ON sc.id = coalesce(asg.scenario_id, s.scenario_id)
LEFT JOIN attempts AS c ON c.session_id = s.id AND c.attempt = a.attempt
LEFT JOIN attempt_evaluations AS e ON e.session_id = s.id AND e.attempt = a.attempt
WHERE s.id = %(session_id)s
"""


async def load_context(
    conn: Connection, session_id: UUID, *, attempt: int | None = None
) -> EvaluationContext | None:
    """The session, and its evaluation of `attempt` (default: the current attempt)."""
    async with conn.cursor(row_factory=class_row(EvaluationContext)) as cur:
        await cur.execute(
            _CONTEXT,
            {
                "session_id": str(session_id),
                "attempt": attempt,
                "abandoned_after_s": ABANDONED_AFTER_S,
            },
        )
        return await cur.fetchone()


async def save(
    conn: Connection,
    session_id: UUID,
    attempt: int,
    *,
    turns: int,
    feedback: Feedback,
    model: str,
) -> None:
    """Store the evaluation of the attempt's `turns` turns unless one is already stored (then the
    first one stays) or the attempt has more turns by now (a transcript that came after a
    cut-short close: this evaluation would be stale at birth)."""
    await conn.execute(
        """
        INSERT INTO attempt_evaluations
            (session_id, attempt, overall_score, summary, strengths, improvements, model)
        SELECT %(session_id)s, %(attempt)s, %(overall_score)s, %(summary)s,
               %(strengths)s::jsonb, %(improvements)s::jsonb, %(model)s
        WHERE (SELECT count(*) FROM public.transcript_turns
               WHERE session_id = %(session_id)s AND attempt_number = %(attempt)s) = %(turns)s
        ON CONFLICT (session_id, attempt) DO NOTHING
        """,
        {
            "session_id": str(session_id),
            "attempt": attempt,
            "turns": turns,
            "overall_score": feedback.overall_score,
            "summary": feedback.summary,
            "strengths": _encode(feedback.strengths).decode(),
            "improvements": _encode(feedback.improvements).decode(),
            "model": model,
        },
    )
