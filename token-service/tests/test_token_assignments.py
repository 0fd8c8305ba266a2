"""GET /api/assignments: the caller's own assignments with their scenario and attempt count."""

from uuid import uuid4

import msgspec
from token_test_helpers import Client, Rows, as_user, assert_error, internal

from training_contracts import ASSIGNMENTS_PATH, INTERNAL_SESSIONS_PATH, AssignmentList


async def test_lists_only_the_callers_assignments_newest_first(client: Client, rows: Rows) -> None:
    user_id = await rows.user()
    other_user = await rows.user()
    older = await rows.assignment(user_id, await rows.scenario(title="Older"))
    newer = await rows.assignment(user_id, await rows.scenario(title="Newer"))
    await rows.conn.execute(
        "UPDATE assignments SET created_at = now() - interval '1 day' WHERE id = %s", (older,)
    )
    await rows.assignment(other_user)

    response = await client.get(ASSIGNMENTS_PATH, headers=as_user(user_id))
    assert response.status_code == 200, response.text
    listed = msgspec.json.decode(response.content, type=AssignmentList).assignments
    assert [(a.id, a.scenario_title, a.status, a.attempts) for a in listed] == [
        (newer, "Newer", "pending", 0),
        (older, "Older", "pending", 0),
    ]
    assert set(response.json()["assignments"][0]) == {
        "id",
        "scenarioId",
        "scenarioTitle",
        "status",
        "attempts",
        "createdAt",
    }


async def test_attempts_count_the_calls_started(client: Client, rows: Rows) -> None:
    user_id = await rows.user()
    assignment_id = await rows.assignment(user_id)
    body = {"type": "assignment", "userId": str(user_id), "assignmentId": str(assignment_id)}
    for _ in range(2):
        started = await client.post(INTERNAL_SESSIONS_PATH, json=body, headers=internal())
        assert started.status_code == 200, started.text

    response = await client.get(ASSIGNMENTS_PATH, headers=as_user(user_id))
    listed = msgspec.json.decode(response.content, type=AssignmentList).assignments
    assert [(a.id, a.attempts) for a in listed] == [(assignment_id, 2)]


async def test_unknown_user_has_none(client: Client) -> None:
    response = await client.get(ASSIGNMENTS_PATH, headers=as_user(uuid4()))
    assert response.status_code == 200, response.text
    assert response.content == b'{"assignments":[]}'


async def test_without_user_header_is_401(client: Client) -> None:
    assert_error(await client.get(ASSIGNMENTS_PATH), 401, "unauthorized")
    assert_error(
        await client.get(ASSIGNMENTS_PATH, headers=as_user("not-a-uuid")), 401, "unauthorized"
    )
