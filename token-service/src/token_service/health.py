"""HEALTH_PATH: the process answers. READY_PATH: its database answers (503 `not_ready` if not)."""

import asyncio
import logging

from litestar import Controller, MediaType, Response, get
from litestar.di import NamedDependency

from training_contracts import HEALTH_PATH, READY_PATH, ApiErrorCode

from .db import Pool
from .errors import error_response

logger = logging.getLogger("token_service")

_OK = b'{"status":"ok"}'
_READY_TIMEOUT_S = 2.0


class HealthController(Controller):
    tags = ("health",)

    @get(HEALTH_PATH, operation_id="healthz", summary="The process is up", cache=False)
    async def healthz(self) -> Response[bytes]:
        return Response(_OK, media_type=MediaType.JSON)

    @get(READY_PATH, operation_id="readyz", summary="The database answers", cache=False)
    async def readyz(self, db_pool: NamedDependency[Pool]) -> Response[bytes]:
        try:
            async with asyncio.timeout(_READY_TIMEOUT_S), db_pool.connection() as conn:
                await conn.execute("SELECT 1")
        except Exception as exc:  # any failure to reach the database means "not ready"
            logger.warning("readiness check failed: %s", exc)
            return error_response(ApiErrorCode.NOT_READY, "database unavailable")
        return Response(_OK, media_type=MediaType.JSON)
