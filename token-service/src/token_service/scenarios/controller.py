"""GET /api/internal/scenarios/{id}: the agent loads the caller prompt of the scenario it plays."""

from uuid import UUID

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.status_codes import HTTP_404_NOT_FOUND

from training_contracts import ApiErrorCode, ScenarioResponse

from ..auth import require_internal_key
from ..db import Connection
from ..errors import ApiError
from . import repository


class InternalScenarioController(Controller):
    path = "/api/internal/scenarios"
    tags = ("internal",)
    guards = (require_internal_key,)

    @get("/{scenario_id:uuid}", operation_id="getScenario", summary="A scenario with its prompt")
    async def get_scenario(
        self, scenario_id: FromPath[UUID], db: NamedDependency[Connection]
    ) -> ScenarioResponse:
        scenario = await repository.get_scenario(db, scenario_id)
        if scenario is None:
            raise ApiError(HTTP_404_NOT_FOUND, ApiErrorCode.NOT_FOUND, "scenario not found")
        return scenario
