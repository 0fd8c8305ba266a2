"""GET /api/assignments: the trainee's page lists what the caller may practise on.

An unknown user has no assignments: the answer is an empty list, as for a user with none.
"""

from uuid import UUID

from litestar import Controller, get
from litestar.di import NamedDependency

from training_contracts import ASSIGNMENTS_PATH, ApiErrorCode, AssignmentList

from ..db import Connection
from ..openapi import DATABASE, ApiOperation, errors
from . import repository


class AssignmentController(Controller):
    path = ASSIGNMENTS_PATH
    tags = ("assignments",)

    @get(
        operation_id="listAssignments",
        summary="The caller's assignments, newest first",
        responses=errors(ApiErrorCode.UNAUTHORIZED, *DATABASE),
        operation_class=ApiOperation,
    )
    async def list_assignments(
        self, user_id: NamedDependency[UUID], db: NamedDependency[Connection]
    ) -> AssignmentList:
        return AssignmentList(assignments=await repository.list_for_user(db, user_id))
