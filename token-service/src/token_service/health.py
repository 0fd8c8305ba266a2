"""/healthz: the process answers. /readyz: it can reach its database (503 `not_ready` if not)."""

import asyncio
import logging

from litestar import Controller, MediaType, Response, get
from litestar.di import NamedDependency
from litestar.status_codes import HTTP_503_SERVICE_UNAVAILABLE

from training_contracts import ApiErrorCode

from .db import Pool
from .errors import error_response

logger = logging.getLogger("token_service")

_OK = b'{"status":"ok"}'
_READY_TIMEOUT_S = 2.0


class HealthController(Controller):
    path = "/"
    tags = ("health",)

    @get("/healthz", operation_id="healthz", summary="The process is up", cache=False)
    async def healthz(self) -> Response[bytes]:
        return Response(_OK, media_type=MediaType.JSON)

    @get("/readyz", operation_id="readyz", summary="The database answers", cache=False)
    async def readyz(self, db_pool: NamedDependency[Pool]) -> Response[bytes]:
        try:
            async with asyncio.timeout(_READY_TIMEOUT_S), db_pool.connection() as conn:
                await conn.execute("SELECT 1")
        except Exception as exc:  # any failure to reach the database means "not ready"
            logger.warning("readiness check failed: %s", exc)
            return error_response(
                HTTP_503_SERVICE_UNAVAILABLE, ApiErrorCode.NOT_READY, "database unavailable"
            )
        return Response(_OK, media_type=MediaType.JSON)
