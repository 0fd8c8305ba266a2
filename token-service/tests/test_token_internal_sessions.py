"""POST /api/internal/sessions: the agent creates sessions in the application's tables as the
application's own code does; an assignment's attempts count up; a key names an attempt."""

import asyncio
from uuid import UUID, uuid4

import httpx
import pytest
from token_test_helpers import SERVER_TIME_ZONE, AnyClient, Client, Rows, assert_error, internal

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
        "SELECT count(*) FROM public.sessions WHERE assignment_id = %s", assignment_id
    )
    return count


async def session_row(rows: Rows, session_id: UUID) -> tuple[object, ...]:
    cur = await rows.conn.execute(
        "SELECT id, assignment_id, user_id, scenario_id, model_type, status, current_attempt,"
        " ended_at FROM public.sessions WHERE id = %s",
        (session_id,),
    )
    row = await cur.fetchone()
    assert row is not None
    return tuple(row)


async def test_assignment_session_counts_attempts(client: Client, rows: Rows) -> None:
    user_id = await rows.user()
    scenario_id = await rows.scenario(mode="chat")
    assignment_id = await rows.assignment(user_id, scenario_id)
    body = {"type": "assignment", "userId": str(user_id), "assignmentId": str(assignment_id)}

    first, attempt1 = await create(client, body)
    second, attempt2 = await create(client, body)
    assert first == second
    assert (attempt1, attempt2) == (1, 2)
    # as the application's code writes it: the scenario's mode is the model type
    assert await session_row(rows, first) == (
        str(first),
        str(assignment_id),
        str(user_id),
        str(scenario_id),
        "chat",
        "active",
        2,
        None,
    )
    assert await rows.value(
        "SELECT status FROM public.assignments WHERE id = %s", assignment_id
    ) == ("in_progress")
    assert await sessions_of(rows, assignment_id) == 1


async def test_timestamps_are_utc_whatever_the_servers_zone(client: Client, rows: Rows) -> None:
    assert await rows.value("SHOW timezone") == SERVER_TIME_ZONE  # so this test can fail
    user_id = await rows.user()
    assignment_id = await rows.assignment(user_id)
    body = {"type": "assignment", "userId": str(user_id), "assignmentId": str(assignment_id)}
    session_id, _ = await create(client, body)
    # both timestamp(3) columns hold UTC time of the last minute
    assert await rows.value(
        "SELECT abs(extract(epoch FROM started_at - (now() AT TIME ZONE 'UTC'))) < 60"
        " FROM public.sessions WHERE id = %s",
        session_id,
    )
    assert await rows.value(
        "SELECT abs(extract(epoch FROM started_at - (now() AT TIME ZONE 'UTC'))) < 60"
        " FROM public.assignments WHERE id = %s",
        assignment_id,
    )


async def test_a_new_attempt_reopens_a_session_the_application_completed(
    client: Client, rows: Rows
) -> None:
    """After the application's evaluate completed the session and the assignment, a retry counts
    the attempt up and makes the session active again, as the application's code does."""
    user_id = await rows.user()
    assignment_id = await rows.assignment(user_id)
    body = {"type": "assignment", "userId": str(user_id), "assignmentId": str(assignment_id)}
    session_id, _ = await create(client, body)
    await rows.conn.execute(
        "UPDATE public.sessions SET status = 'completed', ended_at = now() AT TIME ZONE 'UTC'"
        " WHERE id = %s",
        (session_id,),
    )
    await rows.conn.execute(
        "UPDATE public.assignments SET status = 'completed',"
        " completed_at = now() AT TIME ZONE 'UTC' WHERE id = %s",
        (assignment_id,),
    )

    assert await create(client, body) == (session_id, 2)
    assert await rows.value("SELECT status FROM public.sessions WHERE id = %s", session_id) == (
        "active"
    )
    assert await rows.value(
        "SELECT status FROM public.assignments WHERE id = %s", assignment_id
    ) == ("completed")


async def test_a_completed_assignment_without_a_session_is_refused(
    client: Client, rows: Rows
) -> None:
    user_id = await rows.user()
    assignment_id = await rows.assignment(user_id, status="completed")
    body = {"type": "assignment", "userId": str(user_id), "assignmentId": str(assignment_id)}
    assert_error(await client.post(URL, json=body, headers=internal()), 409, "conflict")
    assert await sessions_of(rows, assignment_id) == 0


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
    assert (
        await rows.value(
            "SELECT current_attempt FROM public.sessions WHERE assignment_id = %s", assignment_id
        )
        == 20
    )


async def test_free_practice_is_a_new_session_each_time(client: Client, rows: Rows) -> None:
    user_id = await rows.user()
    scenario_id = await rows.scenario(mode="chat")
    first = await create(client, {"type": "free_practice", "userId": str(user_id)})
    second = await create(
        client, {"type": "free_practice", "userId": str(user_id), "scenarioId": str(scenario_id)}
    )
    assert first[0] != second[0]
    assert first[1] == second[1] == 1
    # a voice session of free practice is `phone`, whatever the scenario's mode
    assert await session_row(rows, first[0]) == (
        str(first[0]),
        None,
        str(user_id),
        None,
        "phone",
        "active",
        1,
        None,
    )
    assert await session_row(rows, second[0]) == (
        str(second[0]),
        None,
        str(user_id),
        str(scenario_id),
        "phone",
        "active",
        1,
        None,
    )


async def test_the_same_idempotency_key_gets_the_same_session_and_attempt(
    concurrent: httpx.AsyncClient, rows: Rows
) -> None:
    """The agent's retry of a creation whose answer was lost, alone or racing the first."""
    user_id = await rows.user()
    assignment_id = await rows.assignment(user_id)
    body = {
        "type": "assignment",
        "userId": str(user_id),
        "assignmentId": str(assignment_id),
        "idempotencyKey": "AJ_job-one",
    }
    first = await create(concurrent, body)
    assert await create(concurrent, body) == first
    racing = {**body, "idempotencyKey": "AJ_job-two"}
    both = await asyncio.gather(create(concurrent, racing), create(concurrent, racing))
    assert both[0] == both[1] == (first[0], 2)
    assert (
        await rows.value("SELECT current_attempt FROM public.sessions WHERE id = %s", first[0]) == 2
    )
    free = {"type": "free_practice", "userId": str(user_id), "idempotencyKey": "AJ_job-three"}
    assert await create(concurrent, free) == await create(concurrent, free)


async def test_a_key_used_for_another_request_is_409(client: Client, rows: Rows) -> None:
    user_id = await rows.user()
    body = {"type": "free_practice", "userId": str(user_id), "idempotencyKey": "AJ_shared"}
    await create(client, body)
    other = {**body, "userId": str(await rows.user())}
    assert_error(await client.post(URL, json=other, headers=internal()), 409, "conflict")


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
        {
            "type": "free_practice",
            "userId": "00000000-0000-4000-8000-000000000001",
            "idempotencyKey": "",
        },
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
