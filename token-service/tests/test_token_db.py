"""Dead pooled connections (Postgres restarted, a connection cut): checked at checkout, and a
request that meets one is run once more on a fresh connection."""

import psycopg
from token_test_helpers import Client, Rows, as_user, internal

from token_service.db import Pool, check_idle, once_more_if_lost


async def _terminate(database_url: str, pid: int | None = None) -> int:
    """End backend `pid`, or every other backend of the database as a Postgres restart does (with
    a goodbye), and wait until they are gone, as a restarted server's clients find them. Returns
    how many were ended."""
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        cur = await conn.execute(
            "SELECT count(*) FILTER (WHERE ended) FROM ("
            " SELECT pg_terminate_backend(pid, 10000) AS ended FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND (%(pid)s::int IS NULL OR pid = %(pid)s)) AS t",
            {"pid": pid},
        )
        row = await cur.fetchone()
    assert row is not None
    return int(row[0])


async def test_the_first_request_after_every_pooled_connection_died_succeeds(
    client: Client, rows: Rows, database_url: str
) -> None:
    user_id = await rows.user()
    body = {"type": "free_practice", "userId": str(user_id)}
    created = await client.post("/api/internal/sessions", json=body, headers=internal())
    assert created.status_code == 200, created.text
    session_id = created.json()["sessionId"]
    assert await _terminate(database_url) >= 1
    response = await client.get(f"/api/sessions/{session_id}", headers=as_user(user_id))
    assert response.status_code == 200, response.text


async def test_work_that_met_a_connection_dying_in_use_runs_once_more(database_url: str) -> None:
    runs = 0

    async def attempt() -> int:
        nonlocal runs
        runs += 1
        try:
            async with pool.connection() as conn:
                if runs == 1:
                    # Only the connection in use dies, after the checkout's check: the pool's
                    # other connection (it may grow to two) must not die unseen in between.
                    assert await _terminate(database_url, conn.info.backend_pid) == 1
                await conn.execute("SELECT 1")
        except psycopg.OperationalError:
            return 503
        return 200

    async with Pool(
        database_url, min_size=1, max_size=2, kwargs={"autocommit": True}, check=check_idle
    ) as pool:
        await pool.wait()
        assert await once_more_if_lost(attempt, lambda status: status >= 500) == 200
    assert runs == 2


async def test_work_that_failed_for_another_reason_is_not_run_again() -> None:
    runs = 0

    async def attempt() -> int:
        nonlocal runs
        runs += 1
        return 503

    assert await once_more_if_lost(attempt, lambda status: status >= 500) == 503
    assert runs == 1
