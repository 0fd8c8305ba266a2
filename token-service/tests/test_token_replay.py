"""A request replayed after its database connection died (lost_connection.py) counts once, even
when the connection died after the commit: the answer to COMMIT is lost, not the commit."""

from collections.abc import AsyncIterator
from uuid import UUID

import httpx
import pytest
from connection_cutter import ConnectionCutter
from token_test_helpers import Rows, as_user, concurrent_client, internal, make_settings

from devstack.postgres import PostgresServer
from token_service.app import create_app


@pytest.fixture
async def cutter(pg: PostgresServer) -> AsyncIterator[ConnectionCutter]:
    async with ConnectionCutter(pg.port) as proxy:
        yield proxy


@pytest.fixture
async def cut_client(
    cutter: ConnectionCutter, database_url: str
) -> AsyncIterator[httpx.AsyncClient]:
    """The app, its connections to Postgres through the cutter; on the test's event loop, with
    the cutter (AsyncTestClient would block the loop while the app answers)."""
    database = database_url.rsplit("/", 1)[1]
    settings = make_settings(cutter.dsn(database), room_sweep_interval_s=0)
    async with concurrent_client(create_app(settings)) as client:
        yield client


async def test_a_session_creation_replayed_after_its_commit_counts_one_attempt(
    cut_client: httpx.AsyncClient, cutter: ConnectionCutter, rows: Rows
) -> None:
    user_id = await rows.user()
    assignment_id = await rows.assignment(user_id)
    body = {"type": "assignment", "userId": str(user_id), "assignmentId": str(assignment_id)}
    first = await cut_client.post("/api/internal/sessions", json=body, headers=internal())
    assert first.json()["attempt"] == 1

    cutter.arm(b"COMMIT")
    second = await cut_client.post("/api/internal/sessions", json=body, headers=internal())

    assert cutter.cuts == 1, "the creation's commit was cut"
    assert second.status_code == 200, second.text
    assert second.json() == {"sessionId": first.json()["sessionId"], "attempt": 2}
    session_id = UUID(first.json()["sessionId"])
    assert (
        await rows.value("SELECT current_attempt FROM public.sessions WHERE id = %s", session_id)
        == 2
    )
    assert await rows.value("SELECT count(*) FROM attempts WHERE session_id = %s", session_id) == 2


async def test_a_transcript_batch_replayed_after_its_commit_stores_each_turn_once(
    cut_client: httpx.AsyncClient, cutter: ConnectionCutter, rows: Rows
) -> None:
    user_id = await rows.user()
    created = await cut_client.post(
        "/api/internal/sessions",
        json={"type": "free_practice", "userId": str(user_id)},
        headers=internal(),
    )
    session_id = created.json()["sessionId"]
    turns = [
        {"role": "user", "content": "Crisis line, I'm here.", "turnOrder": 1},
        {"role": "assistant", "content": "I can't stop shaking.", "turnOrder": 2},
    ]

    cutter.arm(b"stored_turns")
    stored = await cut_client.post(
        f"/api/internal/sessions/{session_id}/transcript", json={"turns": turns}, headers=internal()
    )

    assert cutter.cuts == 1
    assert stored.status_code == 200, stored.text
    assert stored.json() == {"received": 2, "stored": 0}  # the first run stored them
    view = await cut_client.get(f"/api/sessions/{session_id}", headers=as_user(user_id))
    assert [t["content"] for t in view.json()["turns"]] == [t["content"] for t in turns]
