"""POST EVALUATION_PATH: feedback on an attempt (`?attempt=N`, default the current one); the
Evaluations service (service.py) says when it can be made and makes it once."""

from uuid import UUID

from litestar import Controller
from litestar.di import NamedDependency
from litestar.params import FromPath

from training_contracts import EVALUATION_PATH, ApiErrorCode, Evaluation

from ..openapi import DATABASE, PATH_ID, QUERY, ApiOperation, errors
from ..routes import AttemptOrCurrent, post_ok
from .service import Evaluations


class EvaluationController(Controller):
    @post_ok(
        EVALUATION_PATH,
        operation_id="evaluateSession",
        summary="Evaluate an attempt of the session (409 while its transcript is pending)",
        responses=errors(
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
        operation_class=ApiOperation,
    )
    async def evaluate(
        self,
        *,
        session_id: FromPath[UUID],
        user_id: NamedDependency[UUID],
        evaluations: NamedDependency[Evaluations],
        attempt: AttemptOrCurrent = None,
    ) -> Evaluation:
        return await evaluations.evaluate(session_id, user_id, attempt)
