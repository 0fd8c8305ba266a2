"""The `token-service` console script: migrate, seed-demo, start-up failures, `serve` for real."""

import json
import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import psycopg
import pytest
from livekit import api
from psycopg import sql

from devstack.postgres import PostgresServer
from devstack.token_service import run_token_service
from openai_stub.testing import StubHandle
from token_service.app_tables.grants import grants_text
from token_service.app_tables.standin import STANDIN_TABLES, create_standin
from token_service.migrations import migration_files
from token_service.settings import REQUIRED_SETTINGS
from training_contracts import AgentDispatchMetadata, decode_dispatch

CLI = str(Path(sys.executable).parent / "token-service")
SETTINGS_VARS = (*REQUIRED_SETTINGS, "OPENAI_BASE_URL", "VOICE_SCHEMA")
SERVE_ENV = {
    "LIVEKIT_URL": "ws://127.0.0.1:7880",
    "LIVEKIT_API_KEY": "devkey",
    "LIVEKIT_API_SECRET": "secret",
    "INTERNAL_SERVICE_KEY": "key",
    "OPENAI_API_KEY": "test",
    "PORT": "0",
}


def clean_env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARS}
    env.update(values)
    return env


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # serve started by mistake would never exit: the timeout fails the test instead
    return subprocess.run(
        [CLI, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.fixture
def empty_database_url(pg: PostgresServer) -> str:
    name = f"e_{secrets.token_hex(6)}"
    with psycopg.connect(pg.dsn("postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"'.encode())
    return pg.dsn(name)


@pytest.fixture
def app_database_url(empty_database_url: str) -> str:
    """The application's tables (the stand-in), no voice schema yet."""
    with psycopg.connect(empty_database_url) as conn:
        create_standin(conn)
    return empty_database_url


def tables(database_url: str, schema: str = "public") -> set[str]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,))
        return {row[0] for row in rows.fetchall()}


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The only line a refused command printed (on stderr; stdout empty), without a traceback."""
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_migrate_twice_is_safe_and_touches_only_the_voice_schema(app_database_url: str) -> None:
    env = clean_env(DATABASE_URL=app_database_url)
    first = run("migrate", env=env)
    assert first.returncode == 0, first.stderr
    assert "001_voice_schema" in first.stdout
    second = run("migrate", env=env)
    assert second.returncode == 0, second.stderr
    assert "none pending" in second.stdout
    assert tables(app_database_url) == set(STANDIN_TABLES)
    assert tables(app_database_url, "voice") == {
        "schema_migrations",
        "attempts",
        "stored_turns",
        "attempt_recordings",
        "attempt_evaluations",
        "attempt_usage",
        "call_rooms",
    }


def test_voice_schema_is_a_setting(app_database_url: str) -> None:
    env = clean_env(DATABASE_URL=app_database_url, VOICE_SCHEMA="voice_training")
    assert run("migrate", env=env).returncode == 0
    assert "attempts" in tables(app_database_url, "voice_training")
    assert tables(app_database_url, "voice") == set()
    refused = run("migrate", env={**env, "VOICE_SCHEMA": "public"})
    assert refused.returncode == 2
    assert one_line(refused).startswith("token-service: invalid settings: VOICE_SCHEMA")


def test_two_processes_migrating_at_once(app_database_url: str) -> None:
    env = clean_env(DATABASE_URL=app_database_url)
    processes = [
        subprocess.Popen(
            [CLI, "migrate"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(3)
    ]
    outputs = [process.communicate(timeout=60) for process in processes]
    assert [process.returncode for process in processes] == [0, 0, 0], outputs
    assert sum("001_voice_schema" in out for out, _ in outputs) == 1
    with psycopg.connect(app_database_url) as conn:
        row = conn.execute("SELECT count(*) FROM voice.schema_migrations").fetchone()
    assert row == (len(migration_files()),)


@pytest.mark.parametrize("command", ["migrate", "serve"])
def test_a_database_without_the_applications_tables_is_refused_in_one_line(
    empty_database_url: str, command: str
) -> None:
    env = clean_env(DATABASE_URL=empty_database_url, **SERVE_ENV)
    result = run(command, env=env)
    assert result.returncode == 1
    line = one_line(result)
    assert line.startswith("token-service: the database lacks what voice training needs")
    for table in ("users", "scenarios", "assignments", "sessions", "transcript_turns"):
        assert f"table public.{table}" in line
    assert tables(empty_database_url, "voice") == set()


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (
            "ALTER TABLE sessions DROP COLUMN current_attempt",
            "column public.sessions.current_attempt",
        ),
        (
            "ALTER TABLE transcript_turns ALTER COLUMN turn_order TYPE text",
            "column public.transcript_turns.turn_order of type integer (it is text)",
        ),
        ("ALTER TABLE assignments RENAME COLUMN counselor_id TO learner_id", "counselor_id"),
    ],
)
def test_a_column_missing_or_of_another_type_is_named(
    app_database_url: str, change: str, named: str
) -> None:
    with psycopg.connect(app_database_url, autocommit=True) as conn:
        conn.execute(change.encode())
    result = run("migrate", env=clean_env(DATABASE_URL=app_database_url))
    assert result.returncode == 1
    line = one_line(result)
    assert named in line
    assert line.count("public.") == 1, "only what is missing is named"


def test_serve_refuses_a_voice_schema_not_migrated(app_database_url: str) -> None:
    result = run("serve", env=clean_env(DATABASE_URL=app_database_url, **SERVE_ENV))
    assert result.returncode == 1
    assert "run `token-service migrate`" in one_line(result)


def test_seed_demo_creates_the_stand_in_and_is_idempotent(empty_database_url: str) -> None:
    database_url = empty_database_url
    env = clean_env(DATABASE_URL=database_url)
    first = run("seed-demo", env=env)
    assert first.returncode == 0, first.stderr
    assert tables(database_url) == set(STANDIN_TABLES)
    second = run("seed-demo", env=env)
    assert second.returncode == 0, second.stderr
    assert first.stdout == second.stdout

    demo: dict[str, Any] = json.loads(first.stdout)
    assert set(demo) == {"users", "scenarios"}
    assert len(demo["users"]) == 2
    assert len(demo["scenarios"]) == 2
    for user in demo["users"]:
        assert set(user) == {"userId", "assignmentId", "scenarioId", "requireRecording"}
    assert [u["requireRecording"] for u in demo["users"]] == [False, True]
    for scenario in demo["scenarios"]:
        assert set(scenario) == {"id", "title", "prompt"}
        assert len(scenario["prompt"]) > 200
    assert {u["scenarioId"] for u in demo["users"]} == {s["id"] for s in demo["scenarios"]}
    assert len({s["prompt"] for s in demo["scenarios"]}) == 2

    with psycopg.connect(database_url) as conn:
        counts = [
            conn.execute(
                sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
            ).fetchone()
            for table in ("accounts", "users", "scenarios", "assignments")
        ]
        roles = conn.execute("SELECT role, count(*) FROM users GROUP BY role").fetchall()
        owners = conn.execute("SELECT id, counselor_id FROM assignments").fetchall()
        recorded = conn.execute("SELECT id FROM assignments WHERE require_recording").fetchall()
        prompts = conn.execute("SELECT id, prompt, mode FROM scenarios").fetchall()
    assert counts == [(1,), (3,), (2,), (2,)]
    assert dict(roles) == {"supervisor": 1, "learner": 2}
    assert set(owners) == {(user["assignmentId"], user["userId"]) for user in demo["users"]}
    assert [a for (a,) in recorded] == [demo["users"][1]["assignmentId"]]
    assert set(prompts) == {(s["id"], s["prompt"], "phone") for s in demo["scenarios"]}


def test_seed_demo_refuses_to_complete_the_applications_tables(empty_database_url: str) -> None:
    with psycopg.connect(empty_database_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE users (id text PRIMARY KEY)")
    result = run("seed-demo", env=clean_env(DATABASE_URL=empty_database_url))
    assert result.returncode == 1
    line = one_line(result)
    assert "some of the Next.js application's tables but not accounts" in line
    assert tables(empty_database_url) == {"users"}


def test_grants_prints_what_the_role_needs() -> None:
    result = run("grants", "voice_training", env=clean_env())
    assert result.returncode == 0, result.stderr
    assert result.stdout == grants_text("voice_training", "voice")
    assert "REFERENCES" not in result.stdout
    assert "DELETE" not in result.stdout


def test_purge_recordings_deletes_what_retention_has_passed(
    fresh_database_url: str, tmp_path: Path
) -> None:
    env = clean_env(
        DATABASE_URL=fresh_database_url,
        RECORDINGS_DIR=str(tmp_path),
        RECORDING_RETENTION_DAYS="7",
    )
    demo = json.loads(run("seed-demo", env=env).stdout)
    with psycopg.connect(fresh_database_url, autocommit=True) as conn:
        for user, age in zip(demo["users"], ("8 days", "6 days"), strict=True):
            session_id = str(uuid4())
            conn.execute(
                "INSERT INTO public.sessions (id, assignment_id, user_id, model_type)"
                " VALUES (%s, %s, %s, 'phone')",
                (session_id, user["assignmentId"], user["userId"]),
            )
            key = f"{session_id}/1.ogg"
            (tmp_path / session_id).mkdir()
            (tmp_path / key).write_bytes(b"OggS" + b"x" * 96)
            conn.execute(
                "INSERT INTO voice.attempt_recordings (session_id, attempt, status, storage_key,"
                " size_bytes, created_at, stored_at) VALUES (%s, 1, 'stored', %s, 100,"
                " now() - %s::interval, now())",
                (session_id, key, age),
            )
    purged = run("purge-recordings", env=env)
    assert purged.returncode == 0, purged.stderr
    report = json.loads(purged.stdout)
    assert (report["deleted"], report["freedBytes"], report["failed"]) == (1, 100, 0)
    assert len(list(tmp_path.glob("*/1.ogg"))) == 1
    again = json.loads(run("purge-recordings", env=env).stdout)
    assert again["deleted"] == 0
    bad = run("purge-recordings", env={**env, "RECORDING_RETENTION_DAYS": "0"})
    assert bad.returncode == 2
    assert "RECORDING_RETENTION_DAYS" in bad.stderr


def test_missing_settings_stop_serve_with_exit_2(database_url: str) -> None:
    env = clean_env(
        DATABASE_URL=database_url,
        LIVEKIT_URL="ws://127.0.0.1:7880",
        LIVEKIT_API_KEY="devkey",
        INTERNAL_SERVICE_KEY="",
        OPENAI_API_KEY="test",
    )
    result = run("serve", env=env)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("token-service: missing required settings: ")
    assert "LIVEKIT_API_SECRET" in lines[0]
    assert "INTERNAL_SERVICE_KEY" in lines[0]
    assert "Traceback" not in result.stderr


def test_migrate_without_database_url_is_exit_2() -> None:
    result = run("migrate", env=clean_env())
    assert result.returncode == 2
    assert result.stderr.strip() == "token-service: missing required settings: DATABASE_URL"


def test_unreachable_database_is_exit_1() -> None:
    result = run("migrate", env=clean_env(DATABASE_URL="postgresql://nobody@127.0.0.1:9/none"))
    assert result.returncode == 1
    assert result.stderr.startswith("token-service: database error:")
    assert "Traceback" not in result.stderr


def test_serve_for_real(pg: PostgresServer, stub: StubHandle) -> None:
    """The real server process over real HTTP: token, session, transcript, evaluation, view."""
    stub.reset()
    database_url = pg.create_database(f"serve_{secrets.token_hex(4)}")
    env = {
        "LIVEKIT_API_KEY": "devkey",
        "LIVEKIT_API_SECRET": "secret",
        "OPENAI_API_KEY": "test",
        "OPENAI_BASE_URL": stub.base_url,
    }
    with (
        run_token_service(database_url, env=env) as service,
        httpx.Client(base_url=service.url, timeout=10) as http,
    ):
        user = service.demo["users"][0]
        internal = {"X-Internal-Service-Key": service.internal_key}
        token = http.post(
            "/api/livekit/token",
            headers={"x-user-id": user["userId"]},
            json={"assignmentId": user["assignmentId"]},
        )
        assert token.status_code == 200, token.text
        claims = api.TokenVerifier("devkey", "secret").verify(token.json()["token"])
        assert claims.room_config is not None
        metadata = decode_dispatch(claims.room_config.agents[0].metadata)
        assert metadata == AgentDispatchMetadata(
            user_id=UUID(user["userId"]),
            assignment_id=UUID(user["assignmentId"]),
            scenario_id=UUID(user["scenarioId"]),
        )

        scenario = http.get(f"/api/internal/scenarios/{user['scenarioId']}", headers=internal)
        assert scenario.json()["prompt"] == service.demo["scenarios"][0]["prompt"]

        created = http.post(
            "/api/internal/sessions",
            headers=internal,
            json={
                "type": "assignment",
                "userId": user["userId"],
                "assignmentId": user["assignmentId"],
            },
        )
        assert created.status_code == 200, created.text
        session_id = created.json()["sessionId"]
        evaluation_url = f"/api/sessions/{session_id}/evaluation"
        assert http.post(evaluation_url, headers={"x-user-id": user["userId"]}).status_code == 409

        stored = http.post(
            f"/api/internal/sessions/{session_id}/transcript",
            headers=internal,
            json={
                "turns": [
                    {"role": "user", "content": "Crisis line, I'm here.", "turnOrder": 1},
                    {
                        "role": "assistant",
                        "content": "I can't sleep before my exams.",
                        "turnOrder": 2,
                    },
                ],
                "final": True,
            },
        )
        assert stored.json() == {"received": 2, "stored": 2}

        evaluation = http.post(evaluation_url, headers={"x-user-id": user["userId"]})
        assert evaluation.status_code == 200, evaluation.text
        assert evaluation.json()["attempt"] == 1
        view = http.get(f"/api/sessions/{session_id}", headers={"x-user-id": user["userId"]})
        assert view.json()["status"] == "completed"
        assert [t["turnOrder"] for t in view.json()["turns"]] == [1, 2]
        process = service.process
    # uvicorn shuts down gracefully on SIGTERM, then re-raises it: the exit status says SIGTERM
    assert process.popen.returncode in (0, -signal.SIGTERM)
