"""Evaluations: feedback on an attempt (default the current one), generated once and stored.

An earlier attempt has ended by definition (a new one began after it), so only the current
attempt can be pending; a page asks for a cut-short attempt's feedback this way after the new
caller has begun the next one.

`transcript_pending` until the agent's final transcript batch has ended the attempt (or the token
service closed it when its caller was lost, see rooms/, or it was abandoned: see
repository.ABANDONED_AFTER_S), and again when more of the transcript arrived while the model was
thinking (a late final batch after a cut-short close; the next request evaluates it all),
`transcript_empty` when it ended with no turns, `evaluation_unavailable` when the model gives no
usable answer. No database connection is held while the model thinks. The evaluation and what
the model spent on it are stored in one transaction, so a request replayed after that commit
finds the evaluation stored and asks the model nothing (lost_connection.py).
"""

import time
from uuid import UUID

from training_contracts import ApiErrorCode, Evaluation, TurnView

from ..db import Pool
from ..errors import ApiError
from ..metrics import ServiceMetrics
from ..sessions.repository import get_turns
from ..usage.repository import UsageSource, record_usage
from . import repository
from .client import ModelUnavailable
from .evaluator import Evaluator
from .repository import EvaluationContext


class Evaluations:
    """One per app."""

    __slots__ = ("_evaluator", "_metrics", "_pool")

    def __init__(self, pool: Pool, evaluator: Evaluator, metrics: ServiceMetrics) -> None:
        self._pool = pool
        self._evaluator = evaluator
        self._metrics = metrics

    async def evaluate(self, session_id: UUID, user_id: UUID, attempt: int | None) -> Evaluation:
        """The stored evaluation of the attempt of `user_id`'s session, made now if there is none."""
        async with self._pool.connection() as conn:
            context = await repository.load_context(conn, session_id, attempt=attempt)
            attempt = self._ready(context, user_id, attempt)
            assert context is not None  # _ready refused it otherwise
            stored = context.stored(session_id)
            if stored is not None:
                return stored
            turns = await get_turns(conn, session_id, attempt=attempt)
        if not turns:
            raise ApiError(
                ApiErrorCode.TRANSCRIPT_EMPTY,
                f"attempt {attempt} ended with no transcript turns to evaluate",
            )
        return await self._generate(session_id, attempt, context, turns)

    @staticmethod
    def _ready(context: EvaluationContext | None, user_id: UUID, attempt: int | None) -> int:
        """The attempt to evaluate, or the ApiError that says why it cannot be."""
        if context is None or context.owner_id is None:
            raise ApiError(ApiErrorCode.NOT_FOUND, "session not found")
        if context.owner_id != str(user_id):
            raise ApiError(ApiErrorCode.FORBIDDEN, "the session belongs to another user")
        if attempt is None:
            attempt = context.current_attempt
        if attempt > context.current_attempt:
            raise ApiError(
                ApiErrorCode.NOT_FOUND,
                f"the session has no attempt {attempt} (its latest is {context.current_attempt})",
            )
        current = attempt == context.current_attempt
        if current and not context.over and not context.abandoned:
            raise ApiError(
                ApiErrorCode.TRANSCRIPT_PENDING,
                f"the transcript of attempt {attempt} is not stored yet",
            )
        return attempt

    async def _generate(
        self, session_id: UUID, attempt: int, context: EvaluationContext, turns: list[TurnView]
    ) -> Evaluation:
        started = time.perf_counter()
        try:
            feedback, usage = await self._evaluator.evaluate(
                context.scenario_title, context.caller_prompt, turns
            )
        except ModelUnavailable as exc:
            self._metrics.evaluations.labels("unavailable").observe(time.perf_counter() - started)
            raise ApiError(
                ApiErrorCode.EVALUATION_UNAVAILABLE, f"no evaluation could be generated: {exc}"
            ) from exc
        self._metrics.evaluations.labels("ok").observe(time.perf_counter() - started)
        async with self._pool.connection() as conn:
            async with conn.transaction():
                if usage is not None:
                    await record_usage(conn, session_id, attempt, UsageSource.EVALUATION, usage)
                await repository.save(
                    conn,
                    session_id,
                    attempt,
                    turns=len(turns),
                    feedback=feedback,
                    model=self._evaluator.model,
                )
            # The first stored evaluation wins when two requests raced to the model.
            saved = await repository.load_context(conn, session_id, attempt=attempt)
        evaluation = None if saved is None else saved.stored(session_id)
        if saved is None:
            raise ApiError(ApiErrorCode.NOT_FOUND, "session not found")
        if evaluation is None:
            raise ApiError(
                ApiErrorCode.TRANSCRIPT_PENDING,
                f"more of attempt {attempt}'s transcript arrived while it was evaluated",
            )
        return evaluation
