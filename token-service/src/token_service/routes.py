"""The contract's REST paths as Litestar routes: every path parameter is a UUID, `?attempt=` is
declared once."""

import dataclasses
import re
from typing import Annotated, Any, Final

from litestar import post
from litestar.params import QueryParameter
from litestar.status_codes import HTTP_200_OK

from training_contracts import ATTEMPT_QUERY, MAX_TURN_NUMBER

_PARAMETER = re.compile(r"\{(\w+)\}")


def route(path: str) -> str:
    """The contract's `{session_id}` becomes Litestar's `{session_id:uuid}`."""
    return _PARAMETER.sub(r"{\1:uuid}", path)


def post_ok(path: str, *, operation_id: str, summary: str, **options: Any) -> post:
    """A POST handler at the contract's `path` answering 200: none of this API's POSTs creates
    a resource of its own address, which Litestar's default 201 would announce."""
    return post(
        route(path), operation_id=operation_id, summary=summary, status_code=HTTP_200_OK, **options
    )


_ATTEMPT: Final = QueryParameter(
    name=ATTEMPT_QUERY, ge=1, le=MAX_TURN_NUMBER, description="The attempt recorded"
)

Attempt = Annotated[int, _ATTEMPT]
"""`?attempt=N` where the request is about one attempt (an upload, a report of its failure)."""

AttemptOrCurrent = Annotated[
    int | None, dataclasses.replace(_ATTEMPT, description="Default: the current attempt")
]
"""`?attempt=N` on the evaluation and recording paths; None: the session's current attempt.
(Not `Attempt | None`: Litestar would drop the bounds of a union's member.)"""
