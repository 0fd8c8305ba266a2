"""POST /api/internal/sessions: the agent creates sessions; an assignment's attempts count up."""

import asyncio
from uuid import UUID, uuid4

import httpx
import pytest
from token_test_helpers import AnyClient, Client, Rows, assert_error, internal

URL = "/api/internal/sessions"


async def create(
    client: AnyClient, body: dict[str, str], key: str | None = None
) -> tuple[UUID, int]:
    response = await client.post(
        URL, json=body, headers=internal() if key is None else internal(key)
    )
    assert response.status_code == 200, response.text
    payload = response.json()
    assert set(payload) == {"sessionId", "attempt"}
    return UUID(payload["sessionId"]), payload["attempt"]


async def sessions_of(rows: Rows, assignment_id: UUID) -> int:
    count: int = await rows.value(
        "SELECT count(*) FROM sessions WHERE assignment_id = %s", assignment_id
    )
    return count


async def test_assignment_session_counts_attempts(client: Client, rows: Rows) -> None:
    user_id = await rows.user()
    scenario_id = await rows.scenario()
    assignment_id = await rows.assignment(user_id, scenario_id)
    body = {"type": "assignment", "userId": str(user_id), "assignmentId": str(assignment_id)}

    first, attempt1 = await create(client, body)
    second, attempt2 = await create(client, body)
    assert first == second
    assert (attempt1, attempt2) == (1, 2)
    assert await rows.value("SELECT status FROM assignments WHERE id = %s", assignment_id) == (
        "in_progress"
    )
    assert await rows.value("SELECT scenario_id FROM sessions WHERE id = %s", first) == scenario_id


async def test_new_attempt_reopens_a_completed_session(client: Client, rows: Rows) -> None:
    user_id = await rows.user()
    assignment_id = await rows.assignment(user_id)
    body = {"type": "assignment", "userId": str(user_id), "assignmentId": str(assignment_id)}
    session_id, _ = await create(client, body)
    response = await client.post(
        f"{URL}/{session_id}/transcript", json={"turns": [], "final": True}, headers=internal()
    )
    assert response.status_code == 200, response.text
    assert await rows.value("SELECT status FROM sessions WHERE id = %s", session_id) == "completed"

    _, attempt = await create(client, body)
    assert attempt == 2
    assert await rows.value("SELECT status FROM sessions WHERE id = %s", session_id) == "active"
    assert await rows.value("SELECT ended_at FROM sessions WHERE id = %s", session_id) is None


async def test_concurrent_creates_get_distinct_attempts(
    concurrent: httpx.AsyncClient, rows: Rows
) -> None:
    user_id = await rows.user()
    assignment_id = await rows.assignment(user_id)
    body = {"type": "assignment", "userId": str(user_id), "assignmentId": str(assignment_id)}

    results = await asyncio.gather(*(create(concurrent, body) for _ in range(20)))
    # they really overlapped: 20 requests on 20 pooled connections at once
    assert (
        await rows.value("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        > 2
    )

    assert {session_id for session_id, _ in results} == {results[0][0]}
    assert sorted(attempt for _, attempt in results) == list(range(1, 21))
    assert await sessions_of(rows, assignment_id) == 1


async def test_free_practice_is_a_new_session_each_time(client: Client, rows: Rows) -> None:
    user_id = await rows.user()
    scenario_id = await rows.scenario()
    first = await create(client, {"type": "free_practice", "userId": str(user_id)})
    second = await create(
        client, {"type": "free_practice", "userId": str(user_id), "scenarioId": str(scenario_id)}
    )
    assert first[0] != second[0]
    assert first[1] == second[1] == 1
    assert (
        await rows.value("SELECT scenario_id FROM sessions WHERE id = %s", second[0]) == scenario_id
    )
    assert await rows.value("SELECT type FROM sessions WHERE id = %s", first[0]) == "free_practice"


@pytest.mark.parametrize("key", [None, "", "wrong-key", "test-internal-key-but-longer"])
async def test_wrong_or_missing_key_is_401(client: Client, key: str | None) -> None:
    headers = {} if key is None else internal(key)
    response = await client.post(
        URL, json={"type": "free_practice", "userId": str(uuid4())}, headers=headers
    )
    assert_error(response, 401, "unauthorized")


async def test_401_comes_before_reading_the_body(client: Client) -> None:
    assert_error(await client.post(URL, content=b"{nope"), 401, "unauthorized")


@pytest.mark.parametrize(
    "body",
    [
        {"type": "assignment", "userId": "00000000-0000-4000-8000-000000000001"},
        {
            "type": "free_practice",
            "userId": "00000000-0000-4000-8000-000000000001",
            "assignmentId": "00000000-0000-4000-8000-000000000002",
        },
        {"type": "group_call", "userId": "00000000-0000-4000-8000-000000000001"},
        {"type": "free_practice", "userId": "nope"},
        {"type": "free_practice"},
    ],
)
async def test_invalid_body_is_400(client: Client, body: dict[str, str]) -> None:
    assert_error(await client.post(URL, json=body, headers=internal()), 400, "bad_request")


async def test_malformed_json_is_400(client: Client) -> None:
    response = await client.post(URL, content=b"{nope", headers=internal())
    assert_error(response, 400, "bad_request")


async def test_unknown_user_assignment_or_scenario_is_404(client: Client, rows: Rows) -> None:
    """Who is unknown has a code of its own: the agent tells the trainee, and retries nothing."""
    user_id = await rows.user()
    assignment_id = await rows.assignment(user_id)
    cases = [
        ({"type": "free_practice", "userId": str(uuid4())}, "user_not_found"),
        (
            {"type": "free_practice", "userId": str(user_id), "scenarioId": str(uuid4())},
            "not_found",
        ),
        (
            {"type": "assignment", "userId": str(user_id), "assignmentId": str(uuid4())},
            "assignment_not_found",
        ),
        (
            {"type": "assignment", "userId": str(uuid4()), "assignmentId": str(assignment_id)},
            "user_not_found",
        ),
    ]
    for body, code in cases:
        assert_error(await client.post(URL, json=body, headers=internal()), 404, code)


async def test_another_users_assignment_is_403(client: Client, rows: Rows) -> None:
    owner = await rows.user()
    assignment_id = await rows.assignment(owner)
    body = {
        "type": "assignment",
        "userId": str(await rows.user()),
        "assignmentId": str(assignment_id),
    }
    assert_error(await client.post(URL, json=body, headers=internal()), 403, "forbidden")
    assert await sessions_of(rows, assignment_id) == 0


async def test_scenario_must_be_the_assignments(client: Client, rows: Rows) -> None:
    user_id = await rows.user()
    scenario_id = await rows.scenario()
    assignment_id = await rows.assignment(user_id, scenario_id)
    base = {"type": "assignment", "userId": str(user_id), "assignmentId": str(assignment_id)}
    assert (await create(client, {**base, "scenarioId": str(scenario_id)}))[1] == 1
    other = await rows.scenario()
    response = await client.post(URL, json={**base, "scenarioId": str(other)}, headers=internal())
    assert_error(response, 409, "conflict")
