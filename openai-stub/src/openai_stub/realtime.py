"""One Realtime WebSocket connection: its socket, and the dispatch of client events.

Client events are handled one at a time, in order; a refused one gets an `error` event naming it.
The conversation's items live in `conversation`, the input audio buffer and turn detection in
`input_audio`, the responses in `responses`. A cancellation is complete (`response.done` sent)
before the next client event is handled.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from aiohttp import WSMsgType, web

from . import conversation, events
from .events import ClientEventError, Event
from .input_audio import InputAudio
from .responses import Responses
from .script import Script
from .session_config import deep_merge
from .state import ConnectionState
from .usage import UsageMeter

log = logging.getLogger("openai_stub.realtime")


class RealtimeConnection:
    def __init__(
        self,
        ws: web.WebSocketResponse,
        state: ConnectionState,
        script: Callable[[], Script],
    ) -> None:
        self._ws = ws
        self.state = state
        self._send_lock = asyncio.Lock()
        usage = UsageMeter()
        self._responses = Responses(state, script, usage, self.send)
        self._input = InputAudio(state, script, usage, self.send, self._responses)

    # plumbing

    async def run(self) -> None:
        """Serves the connection until the client closes it."""
        try:
            await self.send(events.session_created(self.state.session))
            async for msg in self._ws:
                if msg.type == WSMsgType.TEXT:
                    await self.handle_text(msg.data)
                elif msg.type == WSMsgType.BINARY:
                    await self._error("binary frames are not supported", code="invalid_event")
                elif msg.type == WSMsgType.ERROR:
                    break
        finally:
            await self._close()

    async def _close(self) -> None:
        self.state.closed = True
        self.state.closed_at = time.time()
        tasks = list(self._input.background)
        response = self._responses.detach()
        if response is not None and response.task is not None:
            tasks.append(response.task)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if response is None or response.task is None or not response.task.done():
            return
        if response.record.status == "in_progress":
            # What the record says it streamed is all it ever will.
            response.record.status = "cancelled"
            response.record.reason = "connection_closed"

    async def send(self, event: Event) -> None:
        self.state.record_server_event(event["type"])
        async with self._send_lock:
            if self._ws.closed:
                return
            try:
                await self._ws.send_str(json.dumps(event))
            except ConnectionError:
                log.debug("client went away while sending %s", event["type"])

    async def _error(self, message: str, *, code: str | None, event_id: str | None = None) -> None:
        self.state.errors.append({"code": code, "message": message, "event_id": event_id})
        await self.send(events.error(message, code=code, event_id=event_id))

    # client events

    async def handle_text(self, data: str) -> None:
        try:
            event = json.loads(data)
        except json.JSONDecodeError:
            await self._error("the event is not valid JSON", code="invalid_json")
            return
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            await self._error("an event must be a JSON object with a type", code="invalid_event")
            return
        event_type: str = event["type"]
        self.state.record_client_event(event_type)
        handler = self._handlers.get(event_type)
        if handler is None:
            await self._error(
                f"Invalid value: '{event_type}'. The stub does not support this event type.",
                code="invalid_value",
                event_id=_event_id(event),
            )
            return
        try:
            await handler(self, event)
        except ClientEventError as e:
            await self._error(e.message, code=e.code, event_id=_event_id(event))

    async def _on_session_update(self, event: dict[str, Any]) -> None:
        session = event.get("session")
        if not isinstance(session, dict):
            raise ClientEventError(
                "session.update needs a session object", code="missing_required_parameter"
            )
        self.state.session = deep_merge(self.state.session, session)
        if isinstance(session.get("instructions"), str):
            self.state.instructions = session["instructions"]
        self._input.session_updated()
        await self.send(events.session_updated(self.state.session))

    async def _on_item_create(self, event: dict[str, Any]) -> None:
        await self.send(conversation.create_item(self.state.items, event))

    async def _on_item_delete(self, event: dict[str, Any]) -> None:
        await self.send(conversation.delete_item(self.state.items, event))

    async def _on_item_truncate(self, event: dict[str, Any]) -> None:
        await self.send(conversation.truncate_item(self.state.items, event))

    async def _on_response_create(self, event: dict[str, Any]) -> None:
        if (active := self._responses.active) is not None:
            raise ClientEventError(
                "Conversation already has an active response in progress: "
                f"{active.id}. Wait until the response is finished before creating "
                "a new one.",
                code="conversation_already_has_active_response",
            )
        params = event.get("response")
        params = params if isinstance(params, dict) else {}
        instructions = params.get("instructions")
        modalities = params.get("output_modalities")
        self._responses.start(
            auto=False,
            metadata=params.get("metadata"),
            instructions=instructions if isinstance(instructions, str) else None,
            in_conversation=params.get("conversation") != "none",
            modalities=(
                (["audio"] if "audio" in modalities else ["text"])
                if isinstance(modalities, list) and modalities
                else None
            ),
        )

    async def _on_response_cancel(self, event: dict[str, Any]) -> None:
        wanted = event.get("response_id")
        active = self._responses.active
        if active is None or (wanted and wanted != active.id):
            raise ClientEventError(
                "Cancellation failed: no active response found", code="response_cancel_not_active"
            )
        await self._responses.cancel("client_cancelled")

    async def _on_audio_append(self, event: dict[str, Any]) -> None:
        await self._input.append(event)

    async def _on_audio_commit(self, event: dict[str, Any]) -> None:
        await self._input.commit()

    async def _on_audio_clear(self, event: dict[str, Any]) -> None:
        await self._input.clear()

    _handlers: ClassVar[
        dict[str, Callable[[RealtimeConnection, dict[str, Any]], Awaitable[None]]]
    ] = {
        "session.update": _on_session_update,
        "conversation.item.create": _on_item_create,
        "conversation.item.delete": _on_item_delete,
        "conversation.item.truncate": _on_item_truncate,
        "response.create": _on_response_create,
        "response.cancel": _on_response_cancel,
        "input_audio_buffer.append": _on_audio_append,
        "input_audio_buffer.commit": _on_audio_commit,
        "input_audio_buffer.clear": _on_audio_clear,
    }


def _event_id(event: dict[str, Any]) -> str | None:
    value = event.get("event_id")
    return value if isinstance(value, str) else None
