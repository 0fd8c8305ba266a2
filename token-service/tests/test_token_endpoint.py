"""POST /api/livekit/token: auth, validation, ownership, dispatch metadata, room names."""

import re
from collections.abc import AsyncIterator
from uuid import UUID, uuid4

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from livekit import api
from token_test_helpers import Client, Rows, as_user, assert_error, make_settings

from token_service.app import create_app
from token_service.settings import Settings
from token_service.tokens.fast_route import TokenFastRoute
from training_contracts import (
    AGENT_NAME,
    AgentDispatchMetadata,
    TokenResponse,
    decode_dispatch,
)

URL = "/api/livekit/token"
ROOM = re.compile(r"training-[0-9a-f]{8}")


def decode(response_json: bytes) -> TokenResponse:
    return msgspec.json.decode(response_json, type=TokenResponse)


def dispatched(token: str, user_id: UUID) -> AgentDispatchMetadata:
    claims = api.TokenVerifier("devkey", "secret").verify(token)
    assert claims.identity == str(user_id)
    assert claims.room_config is not None
    (agent,) = claims.room_config.agents
    assert agent.agent_name == AGENT_NAME
    return decode_dispatch(agent.metadata)


@pytest.fixture(params=["litestar", "fast_route"])
def adapter(request: pytest.FixtureRequest) -> str:
    """Every test here runs against the Litestar handler and against TokenFastRoute, which
    `serve` puts in front of it: the two must be indistinguishable to a client."""
    return str(request.param)


def _app(settings: Settings, adapter: str) -> Litestar:
    app = create_app(settings)
    # The test client drives any ASGI app; it is typed for Litestar only.
    return app if adapter == "litestar" else TokenFastRoute(app)  # type: ignore[return-value]


@pytest.fixture
async def client(settings: Settings, adapter: str) -> AsyncIterator[Client]:
    async with AsyncTestClient(app=_app(settings, adapter)) as test_client:
        yield test_client


@pytest.fixture
async def no_db_client(adapter: str) -> AsyncIterator[Client]:
    """The app with a database that does not exist: what is refused before the user is looked up
    needs none."""
    settings = make_settings(
        "postgresql://nobody@127.0.0.1:9/none", db_pool_min=0, db_pool_timeout_s=0.5
    )
    async with AsyncTestClient(app=_app(settings, adapter)) as test_client:
        yield test_client


async def test_fast_route_passes_everything_else_to_litestar(settings: Settings) -> None:
    async with AsyncTestClient(app=_app(settings, "fast_route")) as test_client:
        assert (await test_client.get("/healthz")).status_code == 200
        not_allowed = await test_client.get(URL)
        assert not_allowed.status_code == 405
        assert "POST" in not_allowed.headers["allow"]
        preflight = await test_client.options(
            URL,
            headers={
                "origin": "http://localhost:3003",
                "access-control-request-method": "POST",
                "access-control-request-headers": "x-user-id,content-type",
            },
        )
        assert preflight.status_code == 204


@pytest.mark.parametrize("origin", ["http://localhost:3003", "http://evil.example.test"])
async def test_cors_headers_match_litestar(client: Client, rows: Rows, origin: str) -> None:
    user = as_user(await rows.user())
    response = await client.post(URL, json={}, headers={"origin": origin, **user})
    assert response.status_code == 200
    allowed = response.headers.get("access-control-allow-origin")
    assert allowed == (origin if origin == "http://localhost:3003" else None)


async def test_body_over_the_limit_is_413(no_db_client: Client) -> None:
    response = await no_db_client.post(
        URL, content=b" " * (16 * 1024 * 1024 + 1), headers=as_user(uuid4())
    )
    assert_error(response, 413, "payload_too_large")


@pytest.mark.parametrize("body", [b"{}", b""])
async def test_free_practice(client: Client, rows: Rows, body: bytes) -> None:
    user_id = await rows.user()
    response = await client.post(URL, headers=as_user(user_id), content=body)
    assert response.status_code == 200, response.text
    token = decode(response.content)
    assert token.server_url == "ws://127.0.0.1:7880"
    assert ROOM.fullmatch(token.room_name)
    assert set(response.json()) == {"token", "serverUrl", "roomName"}
    metadata = dispatched(token.token, user_id)
    assert metadata == AgentDispatchMetadata(user_id=user_id)
    claims = api.TokenVerifier("devkey", "secret").verify(token.token)
    assert claims.video is not None
    assert claims.video.room == token.room_name


async def test_every_call_gets_a_fresh_room(client: Client, rows: Rows) -> None:
    user = as_user(await rows.user())
    rooms = {(await client.post(URL, headers=user, json={})).json()["roomName"] for _ in range(20)}
    assert len(rooms) == 20
    assert all(ROOM.fullmatch(room) for room in rooms)


async def test_assignment_dispatches_its_scenario(client: Client, rows: Rows) -> None:
    user_id = await rows.user()
    scenario_id = await rows.scenario()
    assignment_id = await rows.assignment(user_id, scenario_id)
    response = await client.post(
        URL, headers=as_user(user_id), json={"assignmentId": str(assignment_id)}
    )
    assert response.status_code == 200, response.text
    token = decode(response.content)
    assert dispatched(token.token, user_id) == AgentDispatchMetadata(
        user_id=user_id, assignment_id=assignment_id, scenario_id=scenario_id
    )


async def test_assignment_scenario_wins_over_a_given_scenario(client: Client, rows: Rows) -> None:
    user_id = await rows.user()
    scenario_id = await rows.scenario()
    assignment_id = await rows.assignment(user_id, scenario_id)
    other_scenario = await rows.scenario()
    response = await client.post(
        URL,
        headers=as_user(user_id),
        json={"assignmentId": str(assignment_id), "scenarioId": str(other_scenario)},
    )
    assert response.status_code == 200, response.text
    assert dispatched(decode(response.content).token, user_id).scenario_id == scenario_id


async def test_scenario_alone(client: Client, rows: Rows) -> None:
    user_id = await rows.user()
    scenario_id = await rows.scenario()
    response = await client.post(
        URL, headers=as_user(user_id), json={"scenarioId": str(scenario_id)}
    )
    assert response.status_code == 200, response.text
    assert dispatched(decode(response.content).token, user_id) == AgentDispatchMetadata(
        user_id=user_id, scenario_id=scenario_id
    )


async def test_unknown_assignment_is_404(client: Client, rows: Rows) -> None:
    user = as_user(await rows.user())
    response = await client.post(URL, headers=user, json={"assignmentId": str(uuid4())})
    assert_error(response, 404, "not_found")


async def test_unknown_scenario_is_404(client: Client, rows: Rows) -> None:
    user = as_user(await rows.user())
    response = await client.post(URL, headers=user, json={"scenarioId": str(uuid4())})
    assert_error(response, 404, "not_found")


@pytest.mark.parametrize("body", [b"", b"{}", b'{"scenarioId": "SCENARIO"}'])
async def test_unknown_user_is_401_before_any_room(client: Client, rows: Rows, body: bytes) -> None:
    """A well-formed id of nobody: refused at the door, whatever the call would dispatch."""
    scenario_id = await rows.scenario()
    content = body.replace(b"SCENARIO", str(scenario_id).encode())
    response = await client.post(URL, headers=as_user(uuid4()), content=content)
    error = assert_error(response, 401, "unauthorized")
    assert "no known user" in error["message"]


async def test_unknown_user_with_someone_elses_assignment_is_401(
    client: Client, rows: Rows
) -> None:
    assignment_id = await rows.assignment(await rows.user())
    response = await client.post(
        URL, headers=as_user(uuid4()), json={"assignmentId": str(assignment_id)}
    )
    assert_error(response, 401, "unauthorized")


async def test_database_down_is_503_for_a_user_not_yet_confirmed(no_db_client: Client) -> None:
    response = await no_db_client.post(URL, headers=as_user(uuid4()), json={})
    assert_error(response, 503, "not_ready")


async def test_another_users_assignment_is_403(client: Client, rows: Rows) -> None:
    owner = await rows.user()
    assignment_id = await rows.assignment(owner)
    response = await client.post(
        URL, headers=as_user(await rows.user()), json={"assignmentId": str(assignment_id)}
    )
    assert_error(response, 403, "forbidden")


@pytest.mark.parametrize("headers", [{}, {"x-user-id": ""}, {"x-user-id": "not-a-uuid"}])
async def test_missing_or_invalid_user_is_401(
    no_db_client: Client, headers: dict[str, str]
) -> None:
    assert_error(await no_db_client.post(URL, headers=headers, json={}), 401, "unauthorized")


async def test_401_comes_before_reading_a_bad_body(no_db_client: Client) -> None:
    assert_error(await no_db_client.post(URL, content=b"{oops"), 401, "unauthorized")


@pytest.mark.parametrize(
    "body",
    [
        b"{oops",
        b"[]",
        b"null",
        b'{"assignmentId": "not-a-uuid"}',
        b'{"scenarioId": 42}',
    ],
)
async def test_invalid_body_is_400(no_db_client: Client, body: bytes) -> None:
    response = await no_db_client.post(URL, headers=as_user(uuid4()), content=body)
    assert_error(response, 400, "bad_request")
