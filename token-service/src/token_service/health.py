"""HEALTH_PATH: the process answers. READY_PATH: its database answers and is one the service can
work on (readiness.py); 503 `not_ready` if not, saying why."""

import asyncio
import logging

from litestar import Controller, get
from litestar.di import NamedDependency

from training_contracts import HEALTH_PATH, READY_PATH, ApiErrorCode, HealthStatus

from .db import Pool
from .errors import ApiError
from .openapi import documented
from .readiness import DatabaseCheck

logger = logging.getLogger("token_service")

_OK = HealthStatus(status="ok")
_READY_TIMEOUT_S = 2.0


class HealthController(Controller):
    tags = ("health",)

    @get(
        HEALTH_PATH,
        operation_id="healthz",
        summary="The process is up",
        cache=False,
        operation_class=documented(),
    )
    async def healthz(self) -> HealthStatus:
        return _OK

    @get(
        READY_PATH,
        operation_id="readyz",
        summary="The database answers",
        cache=False,
        operation_class=documented(ApiErrorCode.NOT_READY),
    )
    async def readyz(
        self, db_pool: NamedDependency[Pool], database_check: NamedDependency[DatabaseCheck]
    ) -> HealthStatus:
        try:
            async with asyncio.timeout(_READY_TIMEOUT_S), db_pool.connection() as conn:
                problem = await database_check.problem(conn)
        except Exception as exc:  # any failure to reach the database means "not ready"
            logger.warning("readiness check failed: %s", exc)
            raise ApiError(ApiErrorCode.NOT_READY, "database unavailable") from exc
        if problem is not None:
            logger.error("not ready: %s", problem)
            raise ApiError(ApiErrorCode.NOT_READY, problem)
        return _OK
