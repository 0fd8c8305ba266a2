"""GET INTERNAL_SCENARIO_PATH: the agent loads the caller prompt of the scenario it plays."""

from uuid import UUID

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath

from training_contracts import INTERNAL_SCENARIO_PATH, ApiErrorCode, ScenarioResponse

from ..db import Connection
from ..errors import ApiError
from ..openapi import DATABASE, PATH_ID, ApiOperation, errors
from ..routes import route
from . import repository


class InternalScenarioController(Controller):
    @get(
        route(INTERNAL_SCENARIO_PATH),
        operation_id="getScenario",
        summary="A scenario with its prompt",
        responses=errors(ApiErrorCode.UNAUTHORIZED, ApiErrorCode.NOT_FOUND, *PATH_ID, *DATABASE),
        operation_class=ApiOperation,
    )
    async def get_scenario(
        self, scenario_id: FromPath[UUID], db: NamedDependency[Connection]
    ) -> ScenarioResponse:
        scenario = await repository.get_scenario(db, scenario_id)
        if scenario is None:
            raise ApiError(ApiErrorCode.NOT_FOUND, "scenario not found")
        return scenario
