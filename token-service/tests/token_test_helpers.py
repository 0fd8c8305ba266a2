"""Helpers shared by the token service's tests (a unique module name: pytest runs many packages)."""

from typing import Any
from uuid import UUID, uuid4

from litestar import Litestar
from litestar.testing import AsyncTestClient
from psycopg import AsyncConnection

from token_service.settings import Settings
from training_contracts import INTERNAL_KEY_HEADER, USER_ID_HEADER

INTERNAL_KEY = "test-internal-key"
Client = AsyncTestClient[Litestar]


def make_settings(database_url: str, **overrides: str | int) -> Settings:
    values: dict[str, str | int] = {
        "database_url": database_url,
        "livekit_url": "ws://127.0.0.1:7880",
        "livekit_api_key": "devkey",
        "livekit_api_secret": "secret",
        "internal_service_key": INTERNAL_KEY,
        "openai_api_key": "test",
        "openai_base_url": "http://127.0.0.1:9/v1",
        "evaluation_model": "gpt-4o-mini",
        "allowed_origins": "http://localhost:3003,http://app.example.test",
        "db_pool_min": 1,
        "db_pool_max": 30,
    }
    values.update(overrides)
    return Settings.model_validate(values)


def internal(key: str = INTERNAL_KEY) -> dict[str, str]:
    return {INTERNAL_KEY_HEADER: key}


def as_user(user_id: UUID | str) -> dict[str, str]:
    return {USER_ID_HEADER: str(user_id)}


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    """The response is `{"error": {"code": code, "message": "…"}}` with `status`; returns the error."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message"}, body
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
    error: dict[str, Any] = body["error"]
    return error


class Rows:
    """Inserts the rows the Next.js application owns (users, scenarios, assignments) for tests."""

    def __init__(self, conn: AsyncConnection[Any]) -> None:
        self.conn = conn

    async def user(self) -> UUID:
        user_id = uuid4()
        await self.conn.execute(
            "INSERT INTO users (id, name) VALUES (%s, %s)", (user_id, f"user {user_id.hex[:6]}")
        )
        return user_id

    async def scenario(
        self, title: str = "Test scenario", prompt: str = "You are a caller who feels alone."
    ) -> UUID:
        scenario_id = uuid4()
        await self.conn.execute(
            "INSERT INTO scenarios (id, title, caller_prompt) VALUES (%s, %s, %s)",
            (scenario_id, title, prompt),
        )
        return scenario_id

    async def assignment(self, user_id: UUID, scenario_id: UUID | None = None) -> UUID:
        scenario_id = scenario_id or await self.scenario()
        assignment_id = uuid4()
        await self.conn.execute(
            "INSERT INTO assignments (id, user_id, scenario_id) VALUES (%s, %s, %s)",
            (assignment_id, user_id, scenario_id),
        )
        return assignment_id

    async def value(self, sql: str, *params: object) -> Any:
        cur = await self.conn.execute(sql.encode(), params)
        row = await cur.fetchone()
        return None if row is None else row[0]
