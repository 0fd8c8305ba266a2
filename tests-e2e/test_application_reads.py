"""The application's readers see what real calls left: its evaluate, its External API transcript
and its dashboard's assignment list read the rows the way its own code writes them; and its
evaluate can then write its evaluation and complete the session, as it does after a text chat."""

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import psycopg
from app_reads import (
    AppDatabase,
    assignments_list,
    evaluate_read,
    external_transcript,
    utc_now,
)

from devstack.harness import (
    CALLER_LINES,
    TRAINEE_LINES,
    FrontendApi,
    exchange,
    record_latency,
    start_call,
)
from devstack.stack import Stack

TEST = "application reads"


def new_learner_and_assignment(app_database: AppDatabase, scenario_id: str) -> tuple[str, str]:
    """As the application's supervisor would: a learner of the suite's own, assigned a scenario."""
    learner, assignment = str(uuid.uuid4()), str(uuid.uuid4())
    with psycopg.connect(app_database.app.owner_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT account_id, created_by FROM scenarios WHERE id = %s", (scenario_id,)
        ).fetchone()
        assert row is not None
        account, supervisor = row
        conn.execute(
            "INSERT INTO users (id, external_id, display_name, role, updated_at)"
            " VALUES (%s, %s, 'Reader test', 'learner', now() AT TIME ZONE 'UTC')",
            (learner, f"reader-{learner}"),
        )
        conn.execute(
            "INSERT INTO assignments (id, account_id, scenario_id, counselor_id, assigned_by)"
            " VALUES (%s, %s, %s, %s, %s)",
            (assignment, account, scenario_id, learner, supervisor),
        )
    return learner, assignment


async def call(
    stack: Stack, frontend: FrontendApi, learner: str, assignment: str, lines: tuple[str, ...]
) -> tuple[str, int]:
    trainee, session_id = await start_call(
        stack.token_service_url, learner, TEST, assignment_id=assignment
    )
    try:
        attempt = (await frontend.get_session(learner, session_id)).attempt
        await exchange(trainee, lines)
    finally:
        hung_up = await trainee.leave()
    _, stored_after = await frontend.wait_for_transcript(
        learner, session_id, attempt=attempt, since=hung_up
    )
    record_latency(TEST, f"attempt {attempt} hang-up->transcript", stored_after)
    return session_id, attempt


def conversation(turns: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(t["role"], t["content"]) for t in turns]


async def test_the_application_reads_what_real_calls_wrote(
    stack: Stack, frontend: FrontendApi, demo: dict[str, Any], app_database: AppDatabase
) -> None:
    scenario_id = demo["users"][0]["scenarioId"]
    learner, assignment = new_learner_and_assignment(app_database, scenario_id)
    first_id, first = await call(stack, frontend, learner, assignment, TRAINEE_LINES[:2])
    second_id, second = await call(stack, frontend, learner, assignment, TRAINEE_LINES[:1])
    assert (second_id, (first, second)) == (first_id, (1, 2))

    with psycopg.connect(app_database.app.owner_url) as conn:
        now = utc_now(conn)
        # its evaluate: the current attempt's turns, at least two, each once, in speaking order
        status, owner, turns = evaluate_read(conn, first_id)
        assert (status, owner) == (200, learner)
        assert conversation(turns) == [("user", TRAINEE_LINES[0]), ("assistant", CALLER_LINES[0])]
        assert [t["turnOrder"] for t in turns] == [1, 2]
        assert all(abs(t["createdAt"] - now) < timedelta(minutes=5) for t in turns), "UTC"

        # its External API: one attempt (the latest by default), totalAttempts = current_attempt
        latest = external_transcript(conn, assignment)
        assert (latest["sessionId"], latest["attemptNumber"], latest["totalAttempts"]) == (
            first_id,
            2,
            2,
        )
        assert conversation(latest["turns"]) == conversation(turns)
        earlier = external_transcript(conn, assignment, attempt=1)
        assert [c for r, c in conversation(earlier["turns"]) if r == "user"] == list(
            TRAINEE_LINES[:2]
        )
        assert len({t["id"] for t in earlier["turns"] + latest["turns"]}) == 6

        # its assignment list: the session, with a transcript, the assignment in progress
        [listed] = assignments_list(conn, learner)
        assert (listed["id"], listed["status"], listed["sessionId"]) == (
            assignment,
            "in_progress",
            first_id,
        )
        assert listed["hasTranscript"] is True
        assert abs(listed["startedAt"] - now) < timedelta(minutes=5), "started_at is UTC"
        session = conn.execute(
            "SELECT user_id, scenario_id, model_type, status, ended_at, current_attempt"
            " FROM sessions WHERE id = %s",
            (first_id,),
        ).fetchone()
        assert session == (learner, scenario_id, listed["scenarioMode"], "active", None, 2)

        # each attempt was started by its own agent job (its id is the idempotency key)
        keys = conn.execute(
            "SELECT request_key FROM voice.attempts WHERE session_id = %s ORDER BY attempt",
            (first_id,),
        ).fetchall()
        assert len({k for (k,) in keys}) == 2, keys
        assert all(k.startswith("AJ_") for (k,) in keys), keys

    await asyncio.to_thread(applications_evaluate, app_database, first_id, assignment)


def applications_evaluate(app_database: AppDatabase, session_id: str, assignment: str) -> None:
    """What the application's evaluate writes: nothing of ours is in its way (we never write its
    evaluations), and the session and assignment complete."""
    with psycopg.connect(app_database.app.owner_url) as conn, conn.transaction():
        conn.execute(
            "INSERT INTO evaluations (id, assignment_id, overall_score, feedback_json, strengths,"
            " areas_to_improve, raw_response) VALUES (%s, %s, 80, '# Feedback', 'B', '', '')",
            (str(uuid.uuid4()), assignment),
        )
        conn.execute(
            "UPDATE sessions SET status = 'completed', ended_at = now() AT TIME ZONE 'UTC'"
            " WHERE id = %s",
            (session_id,),
        )
        conn.execute(
            "UPDATE assignments SET status = 'completed',"
            " completed_at = now() AT TIME ZONE 'UTC' WHERE id = %s",
            (assignment,),
        )
