"""A bare Realtime WebSocket client for protocol tests (no livekit-agents involved)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

import aiohttp

from openai_stub import audio
from openai_stub.testing import StubHandle

Event = dict[str, Any]


class RealtimeClient:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.received: list[Event] = []

    async def send(self, event: Event) -> None:
        await self.ws.send_str(json.dumps(event))

    async def append_audio(self, pcm16: bytes, chunk_ms: int = 100) -> None:
        for piece in audio.chunks(pcm16, chunk_ms):
            await self.send(
                {
                    "type": "input_audio_buffer.append",
                    "audio": base64.b64encode(piece).decode("ascii"),
                }
            )

    async def recv(self, timeout_s: float = 5.0) -> Event:
        msg = await self.ws.receive(timeout=timeout_s)
        assert msg.type == aiohttp.WSMsgType.TEXT, f"expected a text frame, got {msg.type}"
        event: Event = json.loads(msg.data)
        assert isinstance(event.get("type"), str)
        self.received.append(event)
        return event

    async def until(self, event_type: str, timeout_s: float = 5.0) -> list[Event]:
        """Events up to and including the first one of `event_type`."""
        events: list[Event] = []
        async with asyncio.timeout(timeout_s):
            while True:
                event = await self.recv(timeout_s=timeout_s)
                events.append(event)
                if event["type"] == event_type:
                    return events

    async def expect(self, event_type: str, timeout_s: float = 5.0) -> Event:
        """The next event of `event_type`, skipping others."""
        return (await self.until(event_type, timeout_s))[-1]

    async def quiet(self, seconds: float, ignore: Iterable[str] = ()) -> list[Event]:
        """Events received within `seconds`, except the types in `ignore`."""
        skip = set(ignore)
        events: list[Event] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while (left := deadline - loop.time()) > 0:
            try:
                event = await self.recv(timeout_s=left)
            except TimeoutError:
                break
            if event["type"] not in skip:
                events.append(event)
        return events


@contextlib.asynccontextmanager
async def realtime_client(
    stub: StubHandle, path: str = "/v1/realtime?model=gpt-realtime"
) -> AsyncIterator[RealtimeClient]:
    """Connects with a bearer token, and consumes `session.created`."""
    headers = {"Authorization": "Bearer test"}
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(stub.url + path, headers=headers) as ws,
    ):
        client = RealtimeClient(ws)
        created = await client.recv()
        assert created["type"] == "session.created"
        yield client


def types(events: Iterable[Event]) -> list[str]:
    return [e["type"] for e in events]


def closed_connections(stub: StubHandle) -> Callable[[], list[dict[str, Any]]]:
    """A probe of the stub's connections that are closed."""
    return lambda: [c for c in stub.connections() if c["closed"]]
