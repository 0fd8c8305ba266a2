"""The token request the frontend makes when the trainee clicks to start a call."""

# A deadline is this request's contract, not an outer cancel.
# ruff: noqa: ASYNC109

import httpx
import msgspec

from training_contracts import TOKEN_PATH, USER_ID_HEADER, TokenResponse

from .errors import TraineeError

__all__ = ["fetch_token"]


async def fetch_token(
    token_service_url: str,
    user_id: str,
    *,
    assignment_id: str | None = None,
    scenario_id: str | None = None,
    timeout: float = 10.0,
) -> TokenResponse:
    """`POST` to the token route as the frontend does it."""
    body: dict[str, str] = {}
    if assignment_id:
        body["assignmentId"] = assignment_id
    if scenario_id:
        body["scenarioId"] = scenario_id
    async with httpx.AsyncClient(timeout=timeout, trust_env=False) as client:
        response = await client.post(
            token_service_url + TOKEN_PATH, headers={USER_ID_HEADER: user_id}, json=body
        )
    if response.status_code != 200:
        raise TraineeError(f"token request answered {response.status_code}: {response.text}")
    return msgspec.json.decode(response.content, type=TokenResponse)
