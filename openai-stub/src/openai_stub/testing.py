"""Runs the stub inside a test's event loop.

Usage, in an async test::

    async with running_stub() as stub:
        model = RealtimeModel(base_url=stub.base_url, api_key="test")
        ...  # drive an AgentSession
        [conn] = stub.connections()
        assert conn["instructions"] == "..."

A test that waits for the stub to record something polls `stub.state()` with the suites' one
wait (devstack.waits.until), passing `stub.summary` to say what was there instead.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterator, Mapping
from typing import Any

from aiohttp import web

from .app import StubServer, create_app
from .script import Script


class StubHandle:
    """A stub listening on a local port, with direct access to its script and state."""

    def __init__(self, server: StubServer, runner: web.AppRunner, host: str, port: int) -> None:
        self.server = server
        self._runner = runner
        self.host = host
        self.port = port

    @property
    def url(self) -> str:
        """`http://HOST:PORT`, the root of the control routes (`/_stub/state`, …)."""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """`http://HOST:PORT/v1`: what to pass as OPENAI_BASE_URL or `base_url=`."""
        return self.url + "/v1"

    def env(self, api_key: str = "test") -> dict[str, str]:
        """Environment variables that point an OpenAI client (or an agent process) at the stub."""
        return {"OPENAI_BASE_URL": self.base_url, "OPENAI_API_KEY": api_key}

    @property
    def script(self) -> Script:
        return self.server.script

    def set_script(self, script: Script | Mapping[str, Any]) -> None:
        """Replaces the script (a Script, or a dict in the Script JSON format)."""
        self.server.set_script(
            script if isinstance(script, Script) else Script.from_dict(dict(script))
        )

    def reset(self) -> None:
        """Forgets everything recorded and restores the script the stub started with."""
        self.server.reset()

    def state(self) -> dict[str, Any]:
        """The same JSON object as `GET /_stub/state` (a fresh copy each call)."""
        snapshot: dict[str, Any] = _copy_json(self.server.snapshot())
        return snapshot

    def connections(self) -> list[dict[str, Any]]:
        connections: list[dict[str, Any]] = self.state()["connections"]
        return connections

    def summary(self) -> str:
        """What the stub recorded, in short: for the failure of a wait on its state."""
        return _summary(self.state())

    async def aclose(self) -> None:
        await self._runner.cleanup()


async def start_stub(
    script: Script | Mapping[str, Any] | None = None, *, host: str = "127.0.0.1", port: int = 0
) -> StubHandle:
    """Starts the stub on `host:port` (port 0 picks a free one). Call `aclose()` when done."""
    if script is not None and not isinstance(script, Script):
        script = Script.from_dict(dict(script))
    server = StubServer(script)
    runner = web.AppRunner(create_app(server=server), handle_signals=False, shutdown_timeout=2.0)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        site = web.SockSite(runner, sock)
        await site.start()
    except BaseException:
        sock.close()
        await runner.cleanup()
        raise
    bound_port: int = sock.getsockname()[1]
    return StubHandle(server, runner, host, bound_port)


@contextlib.asynccontextmanager
async def running_stub(
    script: Script | Mapping[str, Any] | None = None, *, host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[StubHandle]:
    """`start_stub` as an async context manager."""
    stub = await start_stub(script, host=host, port=port)
    try:
        yield stub
    finally:
        await stub.aclose()


def _copy_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy_json(v) for v in value]
    return value


def _summary(state: dict[str, Any]) -> str:
    connections = [
        {
            "id": c["id"],
            "closed": c["closed"],
            "client_events": c["client_events"][-10:],
            "responses": [(r["id"], r["status"]) for r in c["responses"]],
            "user_transcripts": c["user_transcripts"],
        }
        for c in state.get("connections", [])
    ]
    return f"connections={connections} chat_completions={len(state.get('chat_completions', []))}"
