"""POST /api/internal/sessions/{id}/transcript: batches into the application's transcript_turns,
each turn once; attempts, final, limits."""

import asyncio
import random
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from token_test_helpers import AnyClient, Client, Rows, as_user, assert_error, internal

from training_contracts import MAX_TURN_CONTENT_CHARS, MAX_TURNS_PER_BATCH


def turns(*orders: int, attempt: int | None = None, prefix: str = "turn") -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = []
    for order in orders:
        turn: dict[str, Any] = {
            "role": "user" if order % 2 else "assistant",
            "content": f"{prefix} {order}",
            "turnOrder": order,
        }
        if attempt is not None:
            turn["attemptNumber"] = attempt
        result.append(turn)
    return result


async def new_session(client: Client, rows: Rows) -> tuple[UUID, dict[str, str]]:
    """An assignment session at attempt 1, and the body that starts its next attempt."""
    user_id = await rows.user()
    assignment_id = await rows.assignment(user_id)
    body = {"type": "assignment", "userId": str(user_id), "assignmentId": str(assignment_id)}
    response = await client.post("/api/internal/sessions", json=body, headers=internal())
    assert response.status_code == 200, response.text
    return UUID(response.json()["sessionId"]), body


async def post(client: AnyClient, session_id: UUID, body: Any, key: str | None = None) -> Any:
    return await client.post(
        f"/api/internal/sessions/{session_id}/transcript",
        json=body,
        headers=internal() if key is None else internal(key),
    )


async def stored_turns(rows: Rows, session_id: UUID) -> list[tuple[int, int, str, str]]:
    """Every row of the session in the application's table, as its readers order them."""
    cur = await rows.conn.execute(
        "SELECT attempt_number, turn_order, role, content FROM public.transcript_turns"
        " WHERE session_id = %s ORDER BY attempt_number, turn_order",
        (session_id,),
    )
    return [(a, o, r, c) for a, o, r, c in await cur.fetchall()]


async def test_stores_a_batch(client: Client, rows: Rows) -> None:
    session_id, _ = await new_session(client, rows)
    batch = turns(1, 2, 3)
    batch[2]["interrupted"] = True
    response = await post(client, session_id, {"turns": batch})
    assert response.status_code == 200, response.text
    assert response.json() == {"received": 3, "stored": 3}
    assert await stored_turns(rows, session_id) == [
        (1, 1, "user", "turn 1"),
        (1, 2, "assistant", "turn 2"),
        (1, 3, "user", "turn 3"),
    ]
    # the application's table has no column for it: the ledger keeps it
    assert await rows.value(
        "SELECT interrupted FROM stored_turns WHERE session_id = %s AND turn_order = 3",
        session_id,
    )


async def test_rows_are_written_as_the_application_writes_them(client: Client, rows: Rows) -> None:
    """Text UUID ids the writer generates, UTC timestamps, the attempt number, and the ledger
    pointing at each row."""
    await rows.conn.execute("SET TIME ZONE 'America/Los_Angeles'")  # not the service's zone
    session_id, _ = await new_session(client, rows)
    await post(client, session_id, {"turns": turns(1, 2)})
    cur = await rows.conn.execute(
        """
        SELECT t.id, l.turn_id, t.attempt_number,
               abs(extract(epoch FROM t.created_at - (now() AT TIME ZONE 'UTC')))
        FROM public.transcript_turns AS t
        JOIN stored_turns AS l ON l.session_id = t.session_id AND l.attempt = t.attempt_number
                              AND l.turn_order = t.turn_order
        WHERE t.session_id = %s ORDER BY t.turn_order
        """,
        (session_id,),
    )
    found = await cur.fetchall()
    assert len(found) == 2
    for turn_id, ledger_id, attempt, seconds_off in found:
        assert str(UUID(turn_id)) == turn_id == ledger_id
        assert attempt == 1
        assert seconds_off < 60, "created_at is UTC"


async def test_same_batches_sent_concurrently_and_out_of_order_store_each_turn_once(
    concurrent: httpx.AsyncClient, rows: Rows
) -> None:
    """Redelivered, replayed and racing batches: overlapping batches, each sent three times, all
    at once in a shuffled order; every turn is one row of the application's table."""
    user_id = await rows.user()
    created = await concurrent.post(
        "/api/internal/sessions",
        json={"type": "free_practice", "userId": str(user_id)},
        headers=internal(),
    )
    session_id = UUID(created.json()["sessionId"])
    batches = [{"turns": turns(*range(start, start + 12))} for start in range(1, 40, 6)]
    sends = batches * 3
    random.Random(19).shuffle(sends)
    acks = await asyncio.gather(*(post(concurrent, session_id, body) for body in sends))
    assert all(ack.status_code == 200 for ack in acks), [a.text for a in acks]
    expected = sorted({turn["turnOrder"] for body in batches for turn in body["turns"]})
    assert sum(ack.json()["stored"] for ack in acks) == len(expected)
    stored = await stored_turns(rows, session_id)
    assert [order for _, order, _, _ in stored] == expected
    assert await rows.value(
        "SELECT count(*) FROM stored_turns WHERE session_id = %s", session_id
    ) == len(expected)
    view = await concurrent.get(f"/api/sessions/{session_id}", headers=as_user(user_id))
    assert [t["turnOrder"] for t in view.json()["turns"]] == expected


async def test_same_batch_twice_is_stored_once(client: Client, rows: Rows) -> None:
    session_id, _ = await new_session(client, rows)
    body = {"turns": turns(1, 2, 3, 4)}
    assert (await post(client, session_id, body)).json() == {"received": 4, "stored": 4}
    assert (await post(client, session_id, body)).json() == {"received": 4, "stored": 0}
    assert len(await stored_turns(rows, session_id)) == 4


async def test_overlapping_batches_store_each_turn_once(client: Client, rows: Rows) -> None:
    session_id, _ = await new_session(client, rows)
    assert (await post(client, session_id, {"turns": turns(1, 2, 3)})).json()["stored"] == 3
    second = turns(2, 3, 4, 5, prefix="resent")
    assert (await post(client, session_id, {"turns": second})).json() == {
        "received": 4,
        "stored": 2,
    }
    stored = await stored_turns(rows, session_id)
    assert [order for _, order, _, _ in stored] == [1, 2, 3, 4, 5]
    assert stored[1][3] == "turn 2"  # the first version of a turn stays


async def test_duplicates_within_one_batch(client: Client, rows: Rows) -> None:
    session_id, _ = await new_session(client, rows)
    response = await post(client, session_id, {"turns": turns(1, 1, 2)})
    assert response.json() == {"received": 3, "stored": 2}


async def test_missing_attempt_number_means_the_current_attempt(client: Client, rows: Rows) -> None:
    session_id, start_body = await new_session(client, rows)
    await post(client, session_id, {"turns": turns(1, 2)})
    response = await client.post("/api/internal/sessions", json=start_body, headers=internal())
    assert response.json()["attempt"] == 2
    await post(client, session_id, {"turns": turns(1, 2, prefix="second")})
    # a late batch of attempt 1 still lands in attempt 1
    await post(client, session_id, {"turns": turns(3, attempt=1, prefix="late")})
    assert await stored_turns(rows, session_id) == [
        (1, 1, "user", "turn 1"),
        (1, 2, "assistant", "turn 2"),
        (1, 3, "user", "late 3"),
        (2, 1, "user", "second 1"),
        (2, 2, "assistant", "second 2"),
    ]


async def test_attempt_beyond_the_current_one_is_409(client: Client, rows: Rows) -> None:
    session_id, _ = await new_session(client, rows)
    response = await post(client, session_id, {"turns": turns(1) + turns(2, attempt=2)})
    assert_error(response, 409, "conflict")
    assert await stored_turns(rows, session_id) == []


async def view_status(client: Client, session_id: UUID, start_body: dict[str, str]) -> str:
    response = await client.get(
        f"/api/sessions/{session_id}", headers=as_user(start_body["userId"])
    )
    assert response.status_code == 200, response.text
    status: str = response.json()["status"]
    return status


async def test_final_ends_the_attempt_and_leaves_the_session_to_the_application(
    client: Client, rows: Rows
) -> None:
    session_id, start_body = await new_session(client, rows)
    await post(client, session_id, {"turns": turns(1, 2)})
    assert await view_status(client, session_id, start_body) == "active"
    response = await post(client, session_id, {"turns": turns(3), "final": True})
    assert response.json() == {"received": 1, "stored": 1}
    assert await view_status(client, session_id, start_body) == "completed"
    assert await rows.value(
        "SELECT final_at IS NOT NULL FROM attempts WHERE session_id = %s AND attempt = 1",
        session_id,
    )
    # status and ended_at are the application's evaluate's to set
    assert await rows.value("SELECT status FROM public.sessions WHERE id = %s", session_id) == (
        "active"
    )
    assert (
        await rows.value("SELECT ended_at FROM public.sessions WHERE id = %s", session_id) is None
    )


async def test_final_of_an_old_attempt_leaves_the_current_one_active(
    client: Client, rows: Rows
) -> None:
    session_id, start_body = await new_session(client, rows)
    await client.post("/api/internal/sessions", json=start_body, headers=internal())
    response = await post(client, session_id, {"turns": turns(1, attempt=1), "final": True})
    assert response.json()["stored"] == 1
    assert await view_status(client, session_id, start_body) == "active"


async def test_unknown_session_is_404(client: Client) -> None:
    assert_error(await post(client, uuid4(), {"turns": turns(1)}), 404, "not_found")


async def test_wrong_key_is_401(client: Client, rows: Rows) -> None:
    session_id, _ = await new_session(client, rows)
    assert_error(
        await post(client, session_id, {"turns": turns(1)}, key="nope"), 401, "unauthorized"
    )


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"turns": [{"role": "caller", "content": "x", "turnOrder": 1}]},
        {"turns": [{"role": "user", "content": "x", "turnOrder": 0}]},
        {"turns": [{"role": "user", "content": "x", "turnOrder": 1, "attemptNumber": 0}]},
        {"turns": [{"role": "user", "turnOrder": 1}]},
        {
            "turns": [
                {"role": "user", "content": "x" * (MAX_TURN_CONTENT_CHARS + 1), "turnOrder": 1}
            ]
        },
    ],
)
async def test_invalid_batch_is_400(client: Client, rows: Rows, body: Any) -> None:
    session_id, _ = await new_session(client, rows)
    assert_error(await post(client, session_id, body), 400, "bad_request")


async def test_longest_allowed_turn_is_stored(client: Client, rows: Rows) -> None:
    session_id, _ = await new_session(client, rows)
    body = {"turns": [{"role": "user", "content": "é" * MAX_TURN_CONTENT_CHARS, "turnOrder": 1}]}
    assert (await post(client, session_id, body)).json() == {"received": 1, "stored": 1}


async def test_largest_allowed_batch_is_stored(client: Client, rows: Rows) -> None:
    session_id, _ = await new_session(client, rows)
    body = {"turns": turns(*range(1, MAX_TURNS_PER_BATCH + 1))}
    response = await post(client, session_id, body)
    assert response.json() == {"received": MAX_TURNS_PER_BATCH, "stored": MAX_TURNS_PER_BATCH}


async def test_too_many_turns_is_413(client: Client, rows: Rows) -> None:
    session_id, _ = await new_session(client, rows)
    body = {"turns": turns(*range(1, MAX_TURNS_PER_BATCH + 2))}
    assert_error(await post(client, session_id, body), 413, "payload_too_large")
    assert await stored_turns(rows, session_id) == []


async def test_body_over_the_size_limit_is_413(client: Client, rows: Rows) -> None:
    session_id, _ = await new_session(client, rows)
    response = await client.post(
        f"/api/internal/sessions/{session_id}/transcript",
        content=b'{"turns": [' + b" " * (17 * 1024 * 1024) + b"]}",
        headers={**internal(), "content-type": "application/json"},
    )
    assert_error(response, 413, "payload_too_large")


@pytest.mark.parametrize(
    "turn",
    [
        {"role": "user", "content": "nul \u0000 inside", "turnOrder": 1},
        {"role": "user", "content": "far away", "turnOrder": 2**40},
    ],
)
async def test_turns_postgres_cannot_hold_are_400(
    client: Client, rows: Rows, turn: dict[str, Any]
) -> None:
    session_id, _ = await new_session(client, rows)
    assert_error(await post(client, session_id, {"turns": [turn]}), 400, "bad_request")
    assert await stored_turns(rows, session_id) == []
