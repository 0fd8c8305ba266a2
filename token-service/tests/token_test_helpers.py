"""Helpers shared by the token service's tests (a unique module name: pytest runs many packages)."""

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any
from uuid import UUID, uuid4

import httpx
from litestar import Litestar
from litestar.testing import AsyncTestClient
from psycopg import AsyncConnection, postgres
from psycopg.adapt import Dumper

from openai_stub.testing import StubHandle, start_stub
from token_service.settings import Settings
from training_contracts import INTERNAL_KEY_HEADER, USER_ID_HEADER

INTERNAL_KEY = "test-internal-key"
VOICE_SCHEMA = "voice"
SERVER_TIME_ZONE = "Pacific/Kiritimati"
"""UTC+14: the Postgres server's TimeZone in these tests (conftest.py), so that a timestamp
written in the server's zone instead of UTC is off by half a day."""
Client = AsyncTestClient[Litestar]
AnyClient = Client | httpx.AsyncClient


def make_settings(database_url: str, **overrides: str | float) -> Settings:
    values: dict[str, str | float] = {
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
    """The response is `{"error": {"code": code, "message": "…"}}` with `status`; returns
    the error."""
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


class UUIDAsText(Dumper):
    oid = postgres.types["text"].oid

    def dump(self, obj: Any) -> bytes:
        return str(obj).encode()


class Rows:
    """Inserts the rows the Next.js application owns (users, scenarios, assignments) as it writes
    them, for tests; `value` runs a query with the voice schema, then `public`, on the search
    path (no voice table shares a name with one of the application's)."""

    def __init__(self, conn: AsyncConnection[Any]) -> None:
        self.conn = conn
        self._owner: tuple[str, str] | None = None

    @staticmethod
    async def connect(database_url: str) -> AsyncConnection[Any]:
        """A connection whose UUID parameters are sent as text, the type of the application's
        ids (the service itself passes `str(id)`)."""
        conn = await AsyncConnection.connect(database_url, autocommit=True)
        conn.adapters.register_dumper(UUID, UUIDAsText)
        await conn.execute(f"SET search_path TO {VOICE_SCHEMA}, public")
        return conn

    async def _account_and_supervisor(self) -> tuple[str, str]:
        if self._owner is None:
            account, supervisor = str(uuid4()), str(uuid4())
            await self.conn.execute(
                "INSERT INTO public.accounts (id, name, updated_at)"
                " VALUES (%s, 'Test account', now() AT TIME ZONE 'UTC')",
                (account,),
            )
            await self.conn.execute(
                "INSERT INTO public.users (id, external_id, role, updated_at)"
                " VALUES (%s, %s, 'supervisor', now() AT TIME ZONE 'UTC')",
                (supervisor, f"supervisor-{supervisor}"),
            )
            self._owner = account, supervisor
        return self._owner

    async def user(self, role: str = "learner") -> UUID:
        user_id = uuid4()
        await self.conn.execute(
            "INSERT INTO public.users (id, external_id, display_name, role, updated_at)"
            " VALUES (%s, %s, %s, %s, now() AT TIME ZONE 'UTC')",
            (str(user_id), f"ext-{user_id}", f"user {user_id.hex[:6]}", role),
        )
        return user_id

    async def scenario(
        self,
        title: str = "Test scenario",
        prompt: str = "You are a caller who feels alone.",
        mode: str = "phone",
    ) -> UUID:
        account, supervisor = await self._account_and_supervisor()
        scenario_id = uuid4()
        await self.conn.execute(
            "INSERT INTO public.scenarios"
            " (id, title, prompt, account_id, created_by, mode, updated_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, now() AT TIME ZONE 'UTC')",
            (str(scenario_id), title, prompt, account, supervisor, mode),
        )
        return scenario_id

    async def assignment(
        self,
        user_id: UUID,
        scenario_id: UUID | None = None,
        *,
        require_recording: bool = False,
        status: str = "pending",
    ) -> UUID:
        scenario_id = scenario_id or await self.scenario()
        account, supervisor = await self._account_and_supervisor()
        assignment_id = uuid4()
        await self.conn.execute(
            "INSERT INTO public.assignments (id, account_id, scenario_id, counselor_id,"
            " assigned_by, status, require_recording) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (
                str(assignment_id),
                account,
                str(scenario_id),
                str(user_id),
                supervisor,
                status,
                require_recording,
            ),
        )
        return assignment_id

    async def value(self, sql: str, *params: object) -> Any:
        """The first column of the first row (None without one)."""
        cur = await self.conn.execute(sql.encode(), params)
        row = await cur.fetchone()
        return None if row is None else row[0]


@contextlib.contextmanager
def stub_in_thread() -> Iterator[StubHandle]:
    """The OpenAI stub on its own event loop in a thread.

    Litestar's AsyncTestClient runs the app on a portal thread and blocks the test's loop until
    the response is complete, so a stub on the test's loop could not answer the app meanwhile.
    """
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="openai-stub", daemon=True)
    thread.start()
    try:
        handle = asyncio.run_coroutine_threadsafe(start_stub(), loop).result(timeout=30)
        try:
            yield handle
        finally:
            asyncio.run_coroutine_threadsafe(handle.aclose(), loop).result(timeout=30)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


@contextlib.asynccontextmanager
async def concurrent_client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """A client that runs `app` on the test's own event loop, so requests sent together really
    overlap (AsyncTestClient handles one request at a time). Drives the ASGI lifespan itself."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    task = asyncio.create_task(app(scope, inbox.get, outbox.put))  # type: ignore[arg-type]
    await inbox.put({"type": "lifespan.startup"})
    started = await outbox.get()
    assert started["type"] == "lifespan.startup.complete", started
    try:
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        stopped = await outbox.get()
        await task
        assert stopped["type"] == "lifespan.shutdown.complete", stopped
