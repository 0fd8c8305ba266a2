"""GET /api/sessions/{id} (owner only) and GET /api/internal/scenarios/{id}."""

from datetime import datetime
from uuid import UUID, uuid4

import msgspec
from token_test_helpers import Client, Rows, as_user, assert_error, internal

from training_contracts import Role, ScenarioResponse, SessionType, SessionView, TurnView


async def start(client: Client, body: dict[str, str]) -> UUID:
    response = await client.post("/api/internal/sessions", json=body, headers=internal())
    assert response.status_code == 200, response.text
    return UUID(response.json()["sessionId"])


async def test_owner_reads_the_session_with_every_attempt(client: Client, rows: Rows) -> None:
    user_id = await rows.user()
    scenario_id = await rows.scenario()
    assignment_id = await rows.assignment(user_id, scenario_id)
    body = {"type": "assignment", "userId": str(user_id), "assignmentId": str(assignment_id)}
    session_id = await start(client, body)
    transcript = f"/api/internal/sessions/{session_id}/transcript"
    await client.post(
        transcript,
        json={
            "turns": [
                {"role": "assistant", "content": "Hello?", "turnOrder": 2},
                {"role": "user", "content": "Crisis line, I'm listening.", "turnOrder": 1},
            ],
            "final": True,
        },
        headers=internal(),
    )
    await start(client, body)
    await client.post(
        transcript,
        json={
            "turns": [{"role": "user", "content": "Hi again", "turnOrder": 1, "interrupted": True}]
        },
        headers=internal(),
    )

    response = await client.get(f"/api/sessions/{session_id}", headers=as_user(user_id))
    assert response.status_code == 200, response.text
    view = msgspec.json.decode(response.content, type=SessionView)
    assert view.id == session_id
    assert view.type is SessionType.ASSIGNMENT
    assert view.status == "active"
    assert view.attempt == 2
    assert view.assignment_id == assignment_id
    assert view.scenario_id == scenario_id
    assert isinstance(view.created_at, datetime)
    assert view.updated_at >= view.created_at
    assert view.turns == [
        TurnView(
            role=Role.USER,
            content="Crisis line, I'm listening.",
            turn_order=1,
            attempt_number=1,
            interrupted=False,
        ),
        TurnView(
            role=Role.ASSISTANT, content="Hello?", turn_order=2, attempt_number=1, interrupted=False
        ),
        TurnView(
            role=Role.USER, content="Hi again", turn_order=1, attempt_number=2, interrupted=True
        ),
    ]


async def test_free_practice_session_has_no_assignment(client: Client, rows: Rows) -> None:
    user_id = await rows.user()
    session_id = await start(client, {"type": "free_practice", "userId": str(user_id)})
    response = await client.get(f"/api/sessions/{session_id}", headers=as_user(user_id))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["type"] == "free_practice"
    assert body["attempt"] == 1
    assert body["turns"] == []
    assert "assignmentId" not in body
    assert "scenarioId" not in body


async def test_other_user_is_403_unknown_is_404_anonymous_is_401(
    client: Client, rows: Rows
) -> None:
    user_id = await rows.user()
    session_id = await start(client, {"type": "free_practice", "userId": str(user_id)})
    url = f"/api/sessions/{session_id}"
    assert_error(await client.get(url, headers=as_user(uuid4())), 403, "forbidden")
    assert_error(
        await client.get(f"/api/sessions/{uuid4()}", headers=as_user(user_id)), 404, "not_found"
    )
    assert_error(await client.get(url), 401, "unauthorized")
    assert_error(await client.get(url, headers={"x-user-id": "12"}), 401, "unauthorized")
    assert_error(
        await client.get("/api/sessions/not-a-uuid", headers=as_user(user_id)), 404, "not_found"
    )


async def test_scenario_for_the_agent(client: Client, rows: Rows) -> None:
    scenario_id = await rows.scenario(
        title="Night shift", prompt="You are a nurse who cannot sleep."
    )
    response = await client.get(f"/api/internal/scenarios/{scenario_id}", headers=internal())
    assert response.status_code == 200, response.text
    assert msgspec.json.decode(response.content, type=ScenarioResponse) == ScenarioResponse(
        id=scenario_id, title="Night shift", prompt="You are a nurse who cannot sleep."
    )


async def test_scenario_errors(client: Client) -> None:
    url = f"/api/internal/scenarios/{uuid4()}"
    assert_error(await client.get(url, headers=internal()), 404, "not_found")
    assert_error(await client.get(url), 401, "unauthorized")
    assert_error(await client.get(url, headers=internal("wrong")), 401, "unauthorized")
