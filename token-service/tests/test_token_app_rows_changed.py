"""The application deletes or changes its rows while a call goes on: the service stores what it
has, or answers with the contract's error code; never a 5xx, never a lost turn."""

from typing import Any
from uuid import UUID

from token_test_helpers import Client, Rows, as_user, assert_error, internal

TURNS = [
    {"role": "user", "content": "Crisis line, this is Sam.", "turnOrder": 1},
    {"role": "assistant", "content": "I don't know why I called.", "turnOrder": 2},
]


async def start(client: Client, body: dict[str, str]) -> UUID:
    response = await client.post("/api/internal/sessions", json=body, headers=internal())
    assert response.status_code == 200, response.text
    return UUID(response.json()["sessionId"])


async def store(client: Client, session_id: UUID, turns: list[dict[str, Any]]) -> Any:
    return await client.post(
        f"/api/internal/sessions/{session_id}/transcript",
        json={"turns": turns, "final": True},
        headers=internal(),
    )


async def app_turns(rows: Rows, session_id: UUID) -> list[str]:
    cur = await rows.conn.execute(
        "SELECT content FROM public.transcript_turns WHERE session_id = %s ORDER BY turn_order",
        (session_id,),
    )
    return [row[0] for row in await cur.fetchall()]


async def test_the_learner_deleted_mid_call(client: Client, rows: Rows) -> None:
    """The application's delete cascades to the assignment and sets the session's references
    to NULL: the call's turns are still stored; the session has no owner to show them to."""
    user_id = await rows.user()
    assignment_id = await rows.assignment(user_id)
    body = {"type": "assignment", "userId": str(user_id), "assignmentId": str(assignment_id)}
    session_id = await start(client, body)
    await rows.conn.execute("DELETE FROM public.users WHERE id = %s", (user_id,))

    stored = await store(client, session_id, TURNS)
    assert stored.json() == {"received": 2, "stored": 2}
    assert await app_turns(rows, session_id) == [t["content"] for t in TURNS]
    assert_error(
        await client.get(f"/api/sessions/{session_id}", headers=as_user(user_id)), 404, "not_found"
    )
    assert_error(
        await client.post(f"/api/sessions/{session_id}/evaluation", headers=as_user(user_id)),
        404,
        "not_found",
    )
    assert_error(
        await client.post("/api/internal/sessions", json=body, headers=internal()),
        404,
        "user_not_found",
    )


async def test_the_assignment_deleted_mid_call(client: Client, rows: Rows) -> None:
    user_id = await rows.user()
    assignment_id = await rows.assignment(user_id)
    body = {"type": "assignment", "userId": str(user_id), "assignmentId": str(assignment_id)}
    session_id = await start(client, body)
    await rows.conn.execute("DELETE FROM public.assignments WHERE id = %s", (assignment_id,))

    assert (await store(client, session_id, TURNS)).json()["stored"] == 2
    view = await client.get(f"/api/sessions/{session_id}", headers=as_user(user_id))
    assert view.status_code == 200, view.text
    assert [t["content"] for t in view.json()["turns"]] == [t["content"] for t in TURNS]
    # the next call of that assignment has nothing to start
    assert_error(
        await client.post("/api/internal/sessions", json=body, headers=internal()),
        404,
        "assignment_not_found",
    )


async def test_the_scenario_changed_or_deleted_mid_call(client: Client, rows: Rows) -> None:
    user_id = await rows.user()
    scenario_id = await rows.scenario(title="Before")
    body = {"type": "free_practice", "userId": str(user_id), "scenarioId": str(scenario_id)}
    session_id = await start(client, body)
    await rows.conn.execute(
        "UPDATE public.scenarios SET title = 'After', prompt = 'Someone else.' WHERE id = %s",
        (scenario_id,),
    )
    assert (await store(client, session_id, TURNS[:1])).json()["stored"] == 1
    await rows.conn.execute("DELETE FROM public.scenarios WHERE id = %s", (scenario_id,))
    assert (await store(client, session_id, TURNS)).json()["stored"] == 1
    assert await app_turns(rows, session_id) == [t["content"] for t in TURNS]
    view = await client.get(f"/api/sessions/{session_id}", headers=as_user(user_id))
    assert view.status_code == 200, view.text
    assert "scenarioId" not in view.json()
    assert_error(
        await client.get(f"/api/internal/scenarios/{scenario_id}", headers=internal()),
        404,
        "not_found",
    )


async def test_the_session_deleted_mid_call(client: Client, rows: Rows) -> None:
    """Nowhere to store the turns: the contract's 404, which tells the agent not to retry."""
    user_id = await rows.user()
    session_id = await start(client, {"type": "free_practice", "userId": str(user_id)})
    assert (await store(client, session_id, TURNS[:1])).json()["stored"] == 1
    await rows.conn.execute("DELETE FROM public.sessions WHERE id = %s", (session_id,))

    assert_error(await store(client, session_id, TURNS), 404, "not_found")
    assert_error(
        await client.get(f"/api/sessions/{session_id}", headers=as_user(user_id)), 404, "not_found"
    )
    assert_error(
        await client.post(
            f"/api/internal/sessions/{session_id}/recording/failure?attempt=1",
            json={"reason": "the recorder stopped"},
            headers=internal(),
        ),
        404,
        "not_found",
    )
