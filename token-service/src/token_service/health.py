"""HEALTH_PATH: the process answers. READY_PATH: its database answers and is one the service can
work on (readiness.py); 503 `not_ready` if not, saying why."""

from litestar import Controller, get
from litestar.di import NamedDependency

from training_contracts import HEALTH_PATH, READY_PATH, ApiErrorCode, HealthStatus

from .openapi import ApiOperation, errors
from .readiness import DatabaseCheck

_OK = HealthStatus(status="ok")


class HealthController(Controller):
    tags = ("health",)

    @get(
        HEALTH_PATH,
        operation_id="healthz",
        summary="The process is up",
        cache=False,
        responses=errors(),
        operation_class=ApiOperation,
    )
    async def healthz(self) -> HealthStatus:
        return _OK

    @get(
        READY_PATH,
        operation_id="readyz",
        summary="The database answers",
        cache=False,
        responses=errors(ApiErrorCode.NOT_READY),
        operation_class=ApiOperation,
    )
    async def readyz(self, database_check: NamedDependency[DatabaseCheck]) -> HealthStatus:
        await database_check.require()
        return _OK
