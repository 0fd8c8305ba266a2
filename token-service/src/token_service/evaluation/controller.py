"""POST EVALUATION_PATH: feedback on an attempt (`?attempt=N`, default the current one), generated
once and stored. An earlier attempt has ended by definition (a new one began after it), so only
the current attempt can be pending; a page asks for a cut-short attempt's feedback this way after
the new caller has begun the next one.

409 `transcript_pending` until the agent's final transcript batch has completed the attempt (or
the token service closed it when its caller was lost, see rooms/, or it was abandoned: see
repository.ABANDONED_AFTER_S), and again when more of the transcript arrived while the model
was thinking (a late final batch after a cut-short close; the next request evaluates it all),
409 `transcript_empty` when it completed with no turns, 502 `evaluation_unavailable` when the model
gives no usable answer. No database connection is held while the model thinks.
"""

import time
from uuid import UUID

from litestar import Controller
from litestar.di import NamedDependency
from litestar.params import FromPath

from training_contracts import (
    EVALUATION_PATH,
    ApiErrorCode,
    Evaluation,
)

from ..db import Pool
from ..errors import ApiError
from ..metrics import ServiceMetrics
from ..openapi import DATABASE, PATH_ID, QUERY, documented
from ..routes import AttemptQuery, post_ok
from ..sessions.repository import get_turns
from ..usage.repository import UsageSource, record_usage
from . import repository
from .client import ModelUnavailable
from .evaluator import Evaluator


class EvaluationController(Controller):
    @post_ok(
        EVALUATION_PATH,
        operation_id="evaluateSession",
        summary="Evaluate an attempt of the session (409 while its transcript is pending)",
        operation_class=documented(
            ApiErrorCode.UNAUTHORIZED,
            ApiErrorCode.FORBIDDEN,
            ApiErrorCode.NOT_FOUND,
            ApiErrorCode.TRANSCRIPT_PENDING,
            ApiErrorCode.TRANSCRIPT_EMPTY,
            ApiErrorCode.EVALUATION_UNAVAILABLE,
            *PATH_ID,
            *QUERY,
            *DATABASE,
        ),
    )
    async def evaluate(
        self,
        *,
        session_id: FromPath[UUID],
        user_id: NamedDependency[UUID],
        db_pool: NamedDependency[Pool],
        evaluator: NamedDependency[Evaluator],
        metrics: NamedDependency[ServiceMetrics],
        attempt: AttemptQuery = None,
    ) -> Evaluation:
        async with db_pool.connection() as conn:
            context = await repository.load_context(conn, session_id, attempt=attempt)
            if context is None:
                raise ApiError(ApiErrorCode.NOT_FOUND, "session not found")
            if context.user_id != user_id:
                raise ApiError(
                    ApiErrorCode.FORBIDDEN,
                    "the session belongs to another user",
                )
            if attempt is None:
                attempt = context.current_attempt
            if attempt > context.current_attempt:
                raise ApiError(
                    ApiErrorCode.NOT_FOUND,
                    f"the session has no attempt {attempt} (its latest is "
                    f"{context.current_attempt})",
                )
            current = attempt == context.current_attempt
            if current and context.status != "completed" and not context.abandoned:
                raise ApiError(
                    ApiErrorCode.TRANSCRIPT_PENDING,
                    f"the transcript of attempt {attempt} is not stored yet",
                )
            stored = context.stored(session_id)
            if stored is not None:
                return stored
            turns = await get_turns(conn, session_id, attempt=attempt)
        if not turns:
            raise ApiError(
                ApiErrorCode.TRANSCRIPT_EMPTY,
                f"attempt {attempt} ended with no transcript turns to evaluate",
            )
        started = time.perf_counter()
        try:
            feedback, usage = await evaluator.evaluate(
                context.scenario_title, context.caller_prompt, turns
            )
        except ModelUnavailable as exc:
            metrics.evaluations.labels("unavailable").observe(time.perf_counter() - started)
            raise ApiError(
                ApiErrorCode.EVALUATION_UNAVAILABLE,
                f"no evaluation could be generated: {exc}",
            ) from exc
        metrics.evaluations.labels("ok").observe(time.perf_counter() - started)
        async with db_pool.connection() as conn:
            if usage is not None:
                await record_usage(conn, session_id, attempt, UsageSource.EVALUATION, usage)
            await repository.save(
                conn,
                session_id,
                attempt,
                turns=len(turns),
                feedback=feedback,
                model=evaluator.model,
            )
            # The first stored evaluation wins when two requests raced to the model.
            saved = await repository.load_context(conn, session_id, attempt=attempt)
        if saved is None:
            raise ApiError(ApiErrorCode.NOT_FOUND, "session not found")
        evaluation = saved.stored(session_id)
        if evaluation is None:
            raise ApiError(
                ApiErrorCode.TRANSCRIPT_PENDING,
                f"more of attempt {attempt}'s transcript arrived while it was evaluated",
            )
        return evaluation
