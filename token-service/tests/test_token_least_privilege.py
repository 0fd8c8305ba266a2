"""The service as a role with exactly the grants `token-service grants` prints: migrate, and the
whole API it serves, work; nothing else in `public` is allowed to it."""

import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from uuid import UUID

import psycopg
import pytest
from litestar.testing import AsyncTestClient
from token_test_helpers import Client, Rows, as_user, internal, make_settings

from devstack.postgres import PostgresServer
from openai_stub.testing import StubHandle
from token_service.app import create_app
from token_service.app_tables.grants import grant_statements, grants_text
from token_service.app_tables.standin import create_standin
from token_service.migrations import migrate

ROLE = "voice_training"


@pytest.fixture
def app_database(pg: PostgresServer) -> Iterator[tuple[str, str]]:
    """(owner's URL, the role's URL) of a database holding the application's tables, the role
    given the grants (the voice schema created for it by the owner)."""
    name = f"lp_{secrets.token_hex(6)}"
    owner_url = pg.create_database(name)
    with psycopg.connect(owner_url, autocommit=True) as conn:
        create_standin(conn)
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (ROLE,)).fetchone() is None:
            conn.execute(f"CREATE ROLE {ROLE} LOGIN".encode())
        conn.execute(grant_statements(ROLE, "voice"))
    yield owner_url, pg.dsn(name).replace("postgres@", f"{ROLE}@")
    with psycopg.connect(pg.dsn("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)'.encode())
        conn.execute(f"DROP OWNED BY {ROLE}".encode())


@pytest.fixture
async def role_client(app_database: tuple[str, str], stub: StubHandle) -> AsyncIterator[Client]:
    _, role_url = app_database
    migrate(role_url, "voice")
    settings = make_settings(role_url, openai_base_url=stub.base_url)
    async with AsyncTestClient(app=create_app(settings)) as client:
        yield client


def privileges(owner_url: str) -> set[tuple[str, str, str | None]]:
    """(table, privilege, column or None) the role holds in public."""
    with psycopg.connect(owner_url) as conn:
        tables = conn.execute(
            "SELECT table_name, privilege_type, NULL FROM information_schema.role_table_grants"
            " WHERE grantee = %s AND table_schema = 'public'",
            (ROLE,),
        ).fetchall()
        columns = conn.execute(
            "SELECT table_name, privilege_type, column_name"
            " FROM information_schema.column_privileges"
            " WHERE grantee = %s AND table_schema = 'public'"
            " AND (table_name, privilege_type) NOT IN"
            "     (SELECT table_name, privilege_type FROM information_schema.role_table_grants"
            "      WHERE grantee = %s AND table_schema = 'public')",
            (ROLE, ROLE),
        ).fetchall()
    return {(t, p, c) for t, p, c in [*tables, *columns]}


def test_the_role_holds_exactly_the_documented_privileges(app_database: tuple[str, str]) -> None:
    owner_url, _ = app_database
    assert privileges(owner_url) == {
        *((table, "SELECT", None) for table in ("users", "accounts", "scenarios", "assignments")),
        ("assignments", "UPDATE", "status"),
        ("assignments", "UPDATE", "started_at"),
        *(
            (table, privilege, None)
            for table in ("sessions", "transcript_turns")
            for privilege in ("SELECT", "INSERT", "UPDATE")
        ),
    }


async def test_migrate_and_a_whole_call_as_the_role(
    role_client: Client, app_database: tuple[str, str], stub: StubHandle
) -> None:
    stub.reset()
    owner_url, role_url = app_database
    async with await Rows.connect(owner_url) as conn:
        rows = Rows(conn)
        user_id = await rows.user()
        assignment_id = await rows.assignment(user_id, require_recording=True)
    body = {"type": "assignment", "userId": str(user_id), "assignmentId": str(assignment_id)}
    created = await role_client.post("/api/internal/sessions", json=body, headers=internal())
    assert created.json()["attempt"] == 1, created.text
    assert created.json()["record"] is True
    session_id = UUID(created.json()["sessionId"])
    turns = [
        {"role": "user", "content": "Crisis line, I'm listening.", "turnOrder": 1},
        {"role": "assistant", "content": "I lost my job today.", "turnOrder": 2},
    ]
    stored = await role_client.post(
        f"/api/internal/sessions/{session_id}/transcript",
        json={"turns": turns, "final": True},
        headers=internal(),
    )
    assert stored.json() == {"received": 2, "stored": 2}, stored.text
    evaluation = await role_client.post(
        f"/api/sessions/{session_id}/evaluation", headers=as_user(user_id)
    )
    assert evaluation.status_code == 200, evaluation.text
    view = await role_client.get(f"/api/sessions/{session_id}", headers=as_user(user_id))
    assert view.json()["status"] == "completed"
    again = await role_client.post("/api/internal/sessions", json=body, headers=internal())
    assert again.json()["attempt"] == 2, again.text
    listed = await role_client.get("/api/assignments", headers=as_user(user_id))
    assert listed.json()["assignments"][0]["attempts"] == 2
    ready = await role_client.get("/readyz")
    assert ready.status_code == 200, ready.text
    # migrating again as the role: nothing to do, nothing refused
    assert migrate(role_url, "voice") == []


def test_the_role_cannot_write_what_the_application_keeps(app_database: tuple[str, str]) -> None:
    _, role_url = app_database
    with psycopg.connect(role_url, autocommit=True) as conn:
        for statement in (
            "DELETE FROM public.transcript_turns",
            "UPDATE public.assignments SET completed_at = now()",
            "INSERT INTO public.evaluations (id, session_id, overall_score, feedback_json,"
            " strengths, areas_to_improve) VALUES ('x', 'y', 1, '', '', '')",
            "CREATE TABLE public.intruder (id int)",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement.encode())


def test_migrate_creates_the_schema_where_the_role_may_create_one(pg: PostgresServer) -> None:
    """The other way to let the service own its schema: CREATE on the database."""
    name = f"lpc_{secrets.token_hex(6)}"
    owner_url = pg.create_database(name)
    role = f"voice_{secrets.token_hex(3)}"
    with psycopg.connect(owner_url, autocommit=True) as conn:
        create_standin(conn)
        conn.execute(f"CREATE ROLE {role} LOGIN".encode())
        conn.execute(f'GRANT CREATE ON DATABASE "{name}" TO {role}'.encode())
    role_url = pg.dsn(name).replace("postgres@", f"{role}@")
    assert migrate(role_url, "voice_own") == ["001_voice_schema"]
    with psycopg.connect(owner_url) as conn:
        owner = conn.execute(
            "SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'voice_own'"
        ).fetchone()
    assert owner == (role,)


@pytest.mark.parametrize(
    ("page", "heading"),
    [
        ("docs/app-database.md", "## GRANTs"),
        ("README.md", "## Running next to the Next.js application"),
    ],
)
def test_the_documented_grants_are_what_the_command_prints(page: str, heading: str) -> None:
    text = (Path(__file__).resolve().parents[2] / page).read_text()
    section = text.split(f"\n{heading}\n", 1)[1]
    block = section.split("```sql\n", 1)[1].split("```", 1)[0]
    assert block == grants_text(ROLE, "voice")
