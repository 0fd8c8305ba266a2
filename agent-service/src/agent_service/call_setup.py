"""What a call needs from the token service before it starts: the scenario's prompt and a session."""

from typing import Final, NamedTuple

from training_contracts import (
    AgentDispatchMetadata,
    AgentErrorCode,
    ApiErrorCode,
    AssignmentSessionRequest,
    CreateSessionRequest,
    CreateSessionResponse,
    FreePracticeSessionRequest,
)

from .api_client import ApiError, InternalApiClient, NotFound
from .options import CallOptions


class CallSetupError(Exception):
    """The call cannot go ahead; `code` is what the trainee's client is told."""

    def __init__(self, code: AgentErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code


_NOBODY_OF_THAT_ID: Final = frozenset(
    {ApiErrorCode.USER_NOT_FOUND.value, ApiErrorCode.ASSIGNMENT_NOT_FOUND.value}
)
"""The token service's answers for a user or assignment it does not know: no retry helps."""


class PreparedCall(NamedTuple):
    scenario_prompt: str | None
    """None: the default caller."""
    created: CreateSessionResponse


async def prepare_call(
    client: InternalApiClient,
    metadata: AgentDispatchMetadata,
    options: CallOptions,
    *,
    room_name: str | None = None,
    job_id: str | None = None,
) -> PreparedCall:
    """The scenario's prompt and the new session, or CallSetupError.

    The scenario is fetched first so that a dispatch naming an unknown scenario creates no
    session (and, for an assignment, spends no attempt). The room's name goes with the session,
    so the token service can close the attempt when LiveKit says its caller was lost. The job's
    id is the creation's idempotency key: a retry whose first answer was lost (a timeout after
    the token service committed) gets the same session and attempt, not a second attempt.
    """
    scenario_prompt: str | None = None
    if metadata.scenario_id is not None:
        try:
            scenario = await client.get_scenario(metadata.scenario_id, options.scenario_policy)
        except NotFound as exc:
            raise CallSetupError(AgentErrorCode.SCENARIO_NOT_FOUND, str(exc)) from exc
        except ApiError as exc:
            raise CallSetupError(
                AgentErrorCode.SCENARIO_UNAVAILABLE, f"{exc} (after {exc.attempts} attempts)"
            ) from exc
        scenario_prompt = scenario.prompt

    try:
        created = await client.create_session(
            session_request(metadata, room_name, job_id), options.session_create_policy
        )
    except NotFound as exc:
        if exc.code in _NOBODY_OF_THAT_ID:
            raise CallSetupError(AgentErrorCode.USER_OR_ASSIGNMENT_NOT_FOUND, str(exc)) from exc
        raise CallSetupError(AgentErrorCode.SESSION_CREATE_FAILED, str(exc)) from exc
    except ApiError as exc:
        raise CallSetupError(
            AgentErrorCode.SESSION_CREATE_FAILED, f"{exc} (after {exc.attempts} attempts)"
        ) from exc
    return PreparedCall(scenario_prompt, created)


def session_request(
    metadata: AgentDispatchMetadata, room_name: str | None = None, job_id: str | None = None
) -> CreateSessionRequest:
    """The session the dispatch asks for: its assignment's next attempt, or free practice."""
    if metadata.assignment_id is not None:
        return AssignmentSessionRequest(
            user_id=metadata.user_id,
            assignment_id=metadata.assignment_id,
            scenario_id=metadata.scenario_id,
            room_name=room_name,
            idempotency_key=job_id,
        )
    return FreePracticeSessionRequest(
        user_id=metadata.user_id,
        scenario_id=metadata.scenario_id,
        room_name=room_name,
        idempotency_key=job_id,
    )
