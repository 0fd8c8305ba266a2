"""What a call needs from the token service before it starts: the scenario's prompt and a session."""

from typing import NamedTuple

from training_contracts import (
    AgentDispatchMetadata,
    AgentErrorCode,
    CreateSessionRequest,
    CreateSessionResponse,
    SessionType,
)

from .api_client import ApiError, InternalApiClient, NotFound
from .options import CallOptions


class CallSetupError(Exception):
    """The call cannot go ahead; `code` is what the trainee's client is told."""

    def __init__(self, code: AgentErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code


class PreparedCall(NamedTuple):
    scenario_prompt: str | None
    """None: the default caller."""
    created: CreateSessionResponse


async def prepare_call(
    client: InternalApiClient, metadata: AgentDispatchMetadata, options: CallOptions
) -> PreparedCall:
    """The scenario's prompt and the new session, or CallSetupError.

    The scenario is fetched first so that a dispatch naming an unknown scenario creates no
    session (and, for an assignment, spends no attempt).
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

    request = CreateSessionRequest(
        type=SessionType.ASSIGNMENT if metadata.assignment_id else SessionType.FREE_PRACTICE,
        user_id=metadata.user_id,
        assignment_id=metadata.assignment_id,
        scenario_id=metadata.scenario_id,
    )
    try:
        created = await client.create_session(request, options.session_create_policy)
    except ApiError as exc:
        raise CallSetupError(
            AgentErrorCode.SESSION_CREATE_FAILED, f"{exc} (after {exc.attempts} attempts)"
        ) from exc
    return PreparedCall(scenario_prompt, created)
